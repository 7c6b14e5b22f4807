"""The patients' rich menu: its image, drawn here with Pillow, and its creation through the API.

Four tiles — 予約する / 予約確認 / 診療時間・アクセス / 電話する — each a postback the patient
conversation understands (`menu:book`, `menu:list`, `menu:info`, `menu:call`; see
docs/line-bot.md). Creating it is three calls: create the menu (api.line.me), upload its image
(api-data.line.me), make it every user's default.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from linebot.v3.messaging import (
    PostbackAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 2500, 1686
# Drawn at twice the size and scaled down: Pillow's shapes have no anti-aliasing of their own.
SCALE = 2
FONT = Path(__file__).parent / "assets" / "NotoSansCJKjp-Bold-subset.otf"
BACKGROUND = (255, 248, 240)
WHITE = (255, 255, 255)

Box = tuple[int, int, int, int]
Rgb = tuple[int, int, int]


@dataclass(frozen=True)
class Tile:
    """One tappable quarter of the menu."""

    label: str
    caption: str
    data: str
    colour: Rgb
    icon: str


TILES = (
    Tile("予約する", "24時間いつでも受付", "menu:book", (232, 112, 126), "calendar"),
    Tile("予約確認", "変更・キャンセルも", "menu:list", (58, 166, 160), "clipboard"),
    Tile("診療時間・アクセス", "受付時間と場所のご案内", "menu:info", (242, 165, 65), "clock"),
    Tile("電話する", "お電話でのご相談", "menu:call", (74, 123, 208), "phone"),
)


def bounds(index: int) -> Box:
    """The area of tile `index` (0..3, left to right, top to bottom) as x, y, width, height."""
    width, height = WIDTH // 2, HEIGHT // 2
    return (index % 2) * width, (index // 2) * height, width, height


def menu_request(name: str = "uketsuke") -> dict[str, Any]:
    """The rich menu object LINE's create call takes."""
    areas = [
        RichMenuArea(
            bounds=RichMenuBounds(x=x, y=y, width=w, height=h),
            action=PostbackAction(label=tile.label, data=tile.data, displayText=tile.label),
        )
        for tile, (x, y, w, h) in zip(TILES, map(bounds, range(len(TILES))), strict=True)
    ]
    request = RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT),
        selected=True,
        name=name,
        chatBarText="メニュー",
        areas=areas,
    )
    return dict(request.to_dict())


def draw() -> bytes:
    """The menu image as PNG bytes."""
    canvas = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), BACKGROUND)
    for index, tile in enumerate(TILES):
        _tile(canvas, tile, bounds(index))
    image = canvas.reduce(SCALE)  # averaging each 2x2 block: the anti-aliasing
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _s(*values: float) -> tuple[int, ...]:
    return tuple(round(value * SCALE) for value in values)


def _tile(canvas: Image.Image, tile: Tile, area: Box) -> None:
    pen = ImageDraw.Draw(canvas)
    x, y, width, height = area
    margin = 22
    box = _s(x + margin, y + margin, x + width - margin, y + height - margin)
    pen.rounded_rectangle(box, radius=56 * SCALE, fill=tile.colour)
    centre_x, icon_y = x + width / 2, y + 290
    radius = 165
    pen.ellipse(
        _s(centre_x - radius, icon_y - radius, centre_x + radius, icon_y + radius), fill=WHITE
    )
    ICONS[tile.icon](canvas, centre_x, icon_y, tile.colour)
    _text(pen, tile.label, centre_x, y + 580, size=118, width=width - 220, fill=WHITE)
    caption = tuple(round(c + (255 - c) * 0.78) for c in tile.colour)
    _text(pen, tile.caption, centre_x, y + 712, size=60, width=width - 160, fill=caption)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size * SCALE)


def _text(
    pen: ImageDraw.ImageDraw, text: str, centre_x: float, centre_y: float, **style: Any
) -> None:
    """Centre `text` on a point, shrinking it until it fits the width."""
    size = int(style["size"])
    font = _font(size)
    while font.getlength(text) > style["width"] * SCALE and size > 20:
        size -= 4
        font = _font(size)
    pen.text((centre_x * SCALE, centre_y * SCALE), text, font=font, fill=style["fill"], anchor="mm")


def _calendar(canvas: Image.Image, x: float, y: float, colour: Rgb) -> None:
    pen = ImageDraw.Draw(canvas)
    pen.rounded_rectangle(_s(x - 95, y - 75, x + 95, y + 95), radius=22 * SCALE, fill=colour)
    pen.rectangle(_s(x - 78, y - 30, x + 78, y + 78), fill=WHITE)
    for ring_x in (x - 50, x + 50):
        pen.rounded_rectangle(
            _s(ring_x - 11, y - 105, ring_x + 11, y - 55), radius=11 * SCALE, fill=colour
        )
    for row in range(2):
        for column in range(3):
            cx, cy = x - 45 + column * 45, y + 5 + row * 45
            pen.rounded_rectangle(_s(cx - 15, cy - 13, cx + 15, cy + 13), 5 * SCALE, fill=colour)


def _clipboard(canvas: Image.Image, x: float, y: float, colour: Rgb) -> None:
    pen = ImageDraw.Draw(canvas)
    pen.rounded_rectangle(_s(x - 82, y - 95, x + 82, y + 105), radius=20 * SCALE, fill=colour)
    pen.rounded_rectangle(_s(x - 64, y - 72, x + 64, y + 88), radius=8 * SCALE, fill=WHITE)
    pen.rounded_rectangle(_s(x - 40, y - 115, x + 40, y - 72), radius=12 * SCALE, fill=colour)
    for row_y in (y - 30, y + 12, y + 54):
        pen.line(
            _s(x - 47, row_y, x - 36, row_y + 11, x - 20, row_y - 9),
            fill=colour,
            width=9 * SCALE,
            joint="curve",
        )
        pen.rounded_rectangle(_s(x - 4, row_y - 6, x + 46, row_y + 6), 6 * SCALE, fill=colour)


def _clock(canvas: Image.Image, x: float, y: float, colour: Rgb) -> None:
    pen = ImageDraw.Draw(canvas)
    pen.ellipse(_s(x - 100, y - 100, x + 100, y + 100), fill=colour)
    pen.ellipse(_s(x - 80, y - 80, x + 80, y + 80), fill=WHITE)
    pen.line(_s(x, y, x, y - 58), fill=colour, width=15 * SCALE)
    pen.line(_s(x, y, x + 44, y + 20), fill=colour, width=15 * SCALE)
    pen.ellipse(_s(x - 14, y - 14, x + 14, y + 14), fill=colour)


def _phone(canvas: Image.Image, x: float, y: float, colour: Rgb) -> None:
    # A handset upright, bowing left, with the ear and mouth pieces at the arc's ends; drawn
    # on its own layer and turned 45° to look like the usual phone icon.
    size = 280 * SCALE
    layer = Image.new("L", (size, size), 0)
    ink = ImageDraw.Draw(layer)
    middle, ring, stroke = size / 2, 112 * SCALE, 40 * SCALE
    ink.arc(
        (middle - ring, middle - ring, middle + ring, middle + ring),
        118,
        242,
        fill=255,
        width=stroke,
    )
    for sign in (-1, 1):
        end_y = middle + sign * 92 * SCALE
        ink.rounded_rectangle(
            (middle - 78 * SCALE, end_y - 30 * SCALE, middle + 10 * SCALE, end_y + 30 * SCALE),
            radius=22 * SCALE,
            fill=255,
        )
    layer = layer.rotate(45, resample=Image.Resampling.BICUBIC)
    origin = (round(x * SCALE - middle), round(y * SCALE - middle))
    canvas.paste(Image.new("RGB", (size, size), colour), origin, layer)


ICONS: dict[str, Callable[[Image.Image, float, float, Rgb], None]] = {
    "calendar": _calendar,
    "clipboard": _clipboard,
    "clock": _clock,
    "phone": _phone,
}


class RichMenuError(RuntimeError):
    """LINE refused a rich menu call; the message says which and why."""


def _check(response: httpx.Response, step: str) -> dict[str, Any]:
    if response.is_success:
        return dict(response.json()) if response.content else {}
    raise RichMenuError(f"{step} failed: HTTP {response.status_code} {response.text[:300]}")


def create(
    *, api: httpx.Client, data_api: httpx.Client, image: bytes, name: str = "uketsuke"
) -> str:
    """Create the menu, upload its image and make it the default; return its id.

    The clients carry their base URL and the bearer token.
    """
    created = _check(api.post("/v2/bot/richmenu", json=menu_request(name)), "create")
    menu_id = str(created["richMenuId"])
    upload = data_api.post(
        f"/v2/bot/richmenu/{menu_id}/content",
        content=image,
        headers={"Content-Type": "image/png"},
    )
    _check(upload, "upload image")
    _check(api.post(f"/v2/bot/user/all/richmenu/{menu_id}"), "set default")
    return menu_id


def remove_older(*, api: httpx.Client, keep: str, name: str = "uketsuke") -> list[str]:
    """Delete the menus this command made before (same name), so reruns do not pile up
    (LINE keeps at most 1,000 per channel); menus made by hand are left alone."""
    listed = _check(api.get("/v2/bot/richmenu/list"), "list")
    older = [
        str(menu["richMenuId"])
        for menu in listed.get("richmenus", [])
        if menu.get("name") == name and menu.get("richMenuId") != keep
    ]
    for menu_id in older:
        _check(api.delete(f"/v2/bot/richmenu/{menu_id}"), "delete an older menu")
    return older


def clients(
    *, api_base: str, data_api_base: str, token: str, timeout: float
) -> tuple[httpx.Client, httpx.Client]:
    """HTTP clients for the API and the data API, authorised with the channel token."""
    headers = {"Authorization": f"Bearer {token}"}
    return (
        httpx.Client(base_url=api_base, headers=headers, timeout=timeout),
        httpx.Client(base_url=data_api_base, headers=headers, timeout=timeout),
    )


def glyphs() -> str:
    """Every character the image draws: the font subset must hold these."""
    return "".join(sorted({char for tile in TILES for char in tile.label + tile.caption}))
