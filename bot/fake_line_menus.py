"""The fake LINE API's rich menus: create, list, read and delete a menu, upload and download
its image, and make it the default; a menu or image outside LINE's documented limits is
refused as LINE refuses it."""

from __future__ import annotations

import io
import uuid
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from PIL import Image, UnidentifiedImageError

from bot.fake_line_http import LineError, authorised, read_json

if TYPE_CHECKING:
    from bot.fake_line import FakeLine

MAX_IMAGE_BYTES = 1024 * 1024


def _menu(fake: FakeLine, menu_id: str) -> dict[str, Any]:
    if menu_id not in fake.rich_menus:
        raise LineError(404, "richmenu not found")
    return fake.rich_menus[menu_id]


def _check_menu(body: dict[str, Any]) -> None:
    """Refuse a rich menu object outside LINE's documented limits (400, as LINE does)."""
    try:
        fits = _menu_fits(body)
    except (KeyError, TypeError, AttributeError, ZeroDivisionError):
        fits = False
    if not fits:
        raise LineError(400, "The request body has 1 error(s)", details=[{"property": "richmenu"}])


def _menu_fits(body: dict[str, Any]) -> bool:
    width, height, areas = body["size"]["width"], body["size"]["height"], body["areas"]
    return bool(
        800 <= width <= 2500
        and height >= 250
        and width / height >= 1.45
        and 1 <= len(areas) <= 20
        and 1 <= len(body["chatBarText"]) <= 14
        and 1 <= len(body["name"]) <= 300
        and isinstance(body["selected"], bool)
        and all(_area_fits(area, width, height) for area in areas)
    )


def _area_fits(area: dict[str, Any], width: int, height: int) -> bool:
    box = area["bounds"]
    inside = box["x"] >= 0 and box["y"] >= 0
    return bool(
        inside
        and box["x"] + box["width"] <= width
        and box["y"] + box["height"] <= height
        and "type" in area["action"]
    )


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError) as error:
        raise LineError(400, "The image could not be read") from error


def routes(fake: FakeLine) -> APIRouter:
    router = APIRouter(dependencies=[authorised(fake)])

    @router.post("/v2/bot/richmenu")
    async def create(request: Request) -> dict[str, str]:
        body = await read_json(request)
        _check_menu(body)
        menu_id = f"richmenu-{uuid.uuid4().hex}"
        fake.rich_menus[menu_id] = {"richMenuId": menu_id, **body}
        return {"richMenuId": menu_id}

    @router.get("/v2/bot/richmenu/list")
    async def listing() -> dict[str, Any]:
        return {"richmenus": list(fake.rich_menus.values())}

    @router.get("/v2/bot/richmenu/{menu_id}")
    async def read(menu_id: str) -> dict[str, Any]:
        return _menu(fake, menu_id)

    @router.delete("/v2/bot/richmenu/{menu_id}")
    async def delete(menu_id: str) -> dict[str, Any]:
        _menu(fake, menu_id)
        del fake.rich_menus[menu_id]
        fake.images.pop(menu_id, None)
        if fake.default_rich_menu == menu_id:
            fake.default_rich_menu = None
        return {}

    @router.post("/v2/bot/richmenu/{menu_id}/content")
    async def upload(menu_id: str, request: Request) -> dict[str, Any]:
        menu = _menu(fake, menu_id)
        if request.headers.get("content-type") not in ("image/png", "image/jpeg"):
            raise LineError(415, "Unsupported media type: use image/png or image/jpeg")
        data = await request.body()
        if len(data) > MAX_IMAGE_BYTES:
            raise LineError(413, "The image is larger than 1 MB")
        if _image_size(data) != (menu["size"]["width"], menu["size"]["height"]):
            raise LineError(400, "The image size does not match the rich menu size")
        fake.images[menu_id] = data
        return {}

    @router.get("/v2/bot/richmenu/{menu_id}/content")
    async def download(menu_id: str) -> Response:
        _menu(fake, menu_id)
        if menu_id not in fake.images:
            raise LineError(404, "Not found")
        return Response(fake.images[menu_id], media_type="image/png")

    @router.post("/v2/bot/user/all/richmenu/{menu_id}")
    async def set_default(menu_id: str) -> dict[str, Any]:
        _menu(fake, menu_id)
        if menu_id not in fake.images:
            raise LineError(400, "must upload richmenu image before applying it to user")
        fake.default_rich_menu = menu_id
        return {}

    @router.get("/v2/bot/user/all/richmenu")
    async def get_default() -> dict[str, str]:
        if fake.default_rich_menu is None:
            raise LineError(404, "no default richmenu")
        return {"richMenuId": fake.default_rich_menu}

    @router.delete("/v2/bot/user/all/richmenu")
    async def clear_default() -> dict[str, Any]:
        fake.default_rich_menu = None
        return {}

    return router
