"""The rich menu: its image, its areas, and the three calls that install it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
import typer
from fastapi.testclient import TestClient
from PIL import Image, ImageFont
from typer.testing import CliRunner

from backend import serving
from backend.settings import get_settings
from bot import cli, fake_line, richmenu

TOKEN = "richmenu-test-token"
WANTED = {"menu:book", "menu:list", "menu:info", "menu:call"}


@pytest.fixture(scope="module")
def png() -> bytes:
    return richmenu.draw()


@pytest.fixture(scope="module")
def image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png))


@pytest.fixture
def command() -> typer.Typer:
    app = typer.Typer()
    cli.register(app)
    return app


@pytest.fixture
def line_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The settings the command reads point at a fake LINE API served on 127.0.0.1."""
    served = serving.serve_in_thread(fake_line.FakeLine(access_token=TOKEN).app())
    monkeypatch.setenv("UKETSUKE_LINE_API_BASE", served.url)
    monkeypatch.setenv("UKETSUKE_LINE_DATA_API_BASE", served.url)
    monkeypatch.setenv("UKETSUKE_LINE_ACCESS_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield served.url
    get_settings.cache_clear()
    served.stop()


def test_the_image_is_a_png_of_the_menus_size_under_lines_limit(
    png: bytes, image: Image.Image
) -> None:
    assert image.format == "PNG"
    assert image.size == (2500, 1686)
    assert len(png) < 1024 * 1024


def test_the_image_is_not_blank(image: Image.Image) -> None:
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    common = [colour for count, colour in colours if count > 2500 * 1686 // 200]
    # background, four tile colours and white at least
    assert len(common) >= 6


def test_each_area_carries_its_tiles_colour(image: Image.Image) -> None:
    for index, tile in enumerate(richmenu.TILES):
        x, y, _, _ = richmenu.bounds(index)
        assert image.convert("RGB").getpixel((x + 80, y + 120)) == tile.colour


def test_the_font_subset_holds_every_character_drawn() -> None:
    font = ImageFont.truetype(str(richmenu.FONT), 48)
    missing = bytes(font.getmask("\uffff"))  # a code point no font maps: the .notdef box
    for char in richmenu.glyphs():
        assert bytes(font.getmask(char)) != missing, f"{char!r} is not in the font subset"


def test_the_font_is_small_and_licensed() -> None:
    assert richmenu.FONT.stat().st_size < 100_000
    licence = (richmenu.FONT.parent / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Adobe" in licence


def test_the_menu_has_four_postback_areas_inside_the_image() -> None:
    menu = richmenu.menu_request()

    assert menu["size"] == {"width": 2500, "height": 1686}
    assert menu["selected"] is True
    assert len(menu["chatBarText"]) <= 14
    areas = menu["areas"]
    assert {area["action"]["data"] for area in areas} == WANTED
    assert all(area["action"]["type"] == "postback" for area in areas)
    labels = [area["action"]["displayText"] for area in areas]
    assert labels == ["予約する", "予約確認", "診療時間・アクセス", "電話する"]
    for area in areas:
        box = area["bounds"]
        assert box["x"] >= 0
        assert box["y"] >= 0
        assert box["x"] + box["width"] <= 2500
        assert box["y"] + box["height"] <= 1686
    assert sum(a["bounds"]["width"] * a["bounds"]["height"] for a in areas) == 2500 * 1686


def test_creation_calls_the_fake_in_order(png: bytes) -> None:
    fake = fake_line.FakeLine(access_token=TOKEN)
    app = fake.app()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(app, headers=headers) as api, TestClient(app, headers=headers) as data:
        menu_id = richmenu.create(api=api, data_api=data, image=png)

    assert fake.calls == [
        "POST /v2/bot/richmenu",
        f"POST /v2/bot/richmenu/{menu_id}/content",
        f"POST /v2/bot/user/all/richmenu/{menu_id}",
    ]
    assert fake.default_rich_menu == menu_id
    assert fake.rich_menus[menu_id]["areas"] == richmenu.menu_request()["areas"]


def test_creation_goes_to_the_api_and_the_data_api_hosts() -> None:
    api_base, data_base = "https://api.line.test", "https://api-data.line.test"
    with respx.mock(assert_all_called=True, using="httpx") as line:
        create = line.post(f"{api_base}/v2/bot/richmenu").respond(json={"richMenuId": "rm-1"})
        upload = line.post(f"{data_base}/v2/bot/richmenu/rm-1/content").respond(json={})
        default = line.post(f"{api_base}/v2/bot/user/all/richmenu/rm-1").respond(json={})
        api, data = richmenu.clients(
            api_base=api_base, data_api_base=data_base, token=TOKEN, timeout=5
        )
        with api, data:
            assert richmenu.create(api=api, data_api=data, image=b"png") == "rm-1"

    assert create.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert upload.calls.last.request.headers["Content-Type"] == "image/png"
    assert upload.calls.last.request.content == b"png"
    assert default.called


def test_a_refusal_names_the_step_and_stops() -> None:
    with respx.mock(assert_all_called=False, using="httpx") as line:
        line.post("https://api.line.test/v2/bot/richmenu").respond(json={"richMenuId": "rm-1"})
        line.post("https://api-data.line.test/v2/bot/richmenu/rm-1/content").respond(
            400, json={"message": "The image size does not match"}
        )
        default = line.post("https://api.line.test/v2/bot/user/all/richmenu/rm-1")
        api, data = richmenu.clients(
            api_base="https://api.line.test",
            data_api_base="https://api-data.line.test",
            token=TOKEN,
            timeout=5,
        )
        with api, data, pytest.raises(richmenu.RichMenuError, match="upload image failed"):
            richmenu.create(api=api, data_api=data, image=b"png")

    assert not default.called


def test_the_command_writes_only_the_image(command: typer.Typer, tmp_path: Path) -> None:
    target = tmp_path / "menu.png"

    result = CliRunner().invoke(command, ["line", "richmenu", "--image-only", str(target)])

    assert result.exit_code == 0, result.output
    with Image.open(target) as written:
        assert written.size == (2500, 1686)


def test_the_command_installs_the_menu_on_the_configured_api(
    command: typer.Typer, line_env: str
) -> None:
    result = CliRunner().invoke(command, ["line", "richmenu"])

    assert result.exit_code == 0, result.output
    with httpx.Client(base_url=line_env, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        menu_id = http.get("/v2/bot/user/all/richmenu").json()["richMenuId"]
        assert http.get(f"/v2/bot/richmenu/{menu_id}/content").status_code == 200
    assert menu_id in result.output


def test_running_the_command_again_replaces_its_menu(command: typer.Typer, line_env: str) -> None:
    first = CliRunner().invoke(command, ["line", "richmenu"])
    second = CliRunner().invoke(command, ["line", "richmenu"])

    assert second.exit_code == 0, second.output
    with httpx.Client(base_url=line_env, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        menus = http.get("/v2/bot/richmenu/list").json()["richmenus"]
        default = http.get("/v2/bot/user/all/richmenu").json()["richMenuId"]
    assert [menu["richMenuId"] for menu in menus] == [default]
    assert default in second.output
    assert default not in first.output


def test_the_command_refuses_without_an_access_token(
    command: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UKETSUKE_LINE_ACCESS_TOKEN", "")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(command, ["line", "richmenu"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 2
    assert "UKETSUKE_LINE_ACCESS_TOKEN" in result.output
