"""A local stand-in for the LINE Messaging API (api.line.me and api-data.line.me).

It answers the calls uketsuke makes — reply, push, multicast, rich menus, profiles — the way
LINE documents them, and records every message it was asked to deliver so the chat simulator,
tests and benchmarks can read them back at `GET /_fake/messages?since=N`. Both API hosts are
served from one app: their paths do not collide.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image, UnidentifiedImageError

MAX_MESSAGES = 5  # per reply or push request
MAX_MULTICAST = 500  # recipients per multicast
MAX_IMAGE_BYTES = 1024 * 1024
RETRY_KEY = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤")
GIVEN = ("花子", "陽子", "美咲", "健太", "翔太", "大輔", "由美", "直樹", "恵", "誠")


class LineError(Exception):
    """An API error answered as LINE does: a status and `{"message": ...}`."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, {"message": message, **extra}


@dataclass
class FakeLine:
    """The fake's state: messages delivered, retry keys and reply tokens used, rich menus.

    `latency` (seconds) delays every API call, to stand in for the real network.
    `access_token`, when given, must be the bearer token; otherwise any non-empty one passes.
    """

    latency: float = 0.0
    access_token: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    rich_menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)
    default_rich_menu: str | None = None
    retry_keys: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    used_reply_tokens: set[str] = field(default_factory=set)
    reply_targets: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(
        self, kind: str, to: str | None, message: dict[str, Any], **extra: str | None
    ) -> dict[str, str]:
        """Store one delivered message; answer LINE's `sentMessages` item for it."""
        with self.lock:
            seq = len(self.messages) + 1
            self.messages.append({"seq": seq, "kind": kind, "to": to, "message": message, **extra})
        return {"id": str(10**17 + seq), "quoteToken": uuid.uuid4().hex}

    def since(self, seq: int) -> list[dict[str, Any]]:
        """Messages recorded after sequence number `seq` (the first is 1)."""
        with self.lock:
            return list(self.messages[seq:])

    def app(self) -> FastAPI:
        """The ASGI app serving this fake."""
        app = FastAPI(title="fake LINE Messaging API", openapi_url=None)
        app.state.fake = self
        app.include_router(_messaging_routes(self))
        app.include_router(_rich_menu_routes(self))
        app.include_router(_fake_routes(self))
        app.add_exception_handler(LineError, _line_error)  # type: ignore[arg-type]
        return app


async def _line_error(_: Request, error: LineError) -> JSONResponse:
    return JSONResponse(error.body, status_code=error.status)


def display_name(user_id: str) -> str:
    """A made-up Japanese display name, always the same for the same user."""
    digest = hashlib.sha256(user_id.encode()).digest()
    return f"{FAMILY[digest[0] % len(FAMILY)]} {GIVEN[digest[1] % len(GIVEN)]}"


def _authorised(fake: FakeLine) -> Any:
    async def check(request: Request) -> None:
        fake.calls.append(f"{request.method} {request.url.path}")
        if fake.latency:
            await asyncio.sleep(fake.latency)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        wrong = fake.access_token is not None and token != fake.access_token
        if scheme.lower() != "bearer" or not token.strip() or wrong:
            raise LineError(
                401,
                "Authentication failed. Confirm that the access token in the authorization "
                "header is valid.",
            )

    return Depends(check)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as error:
        raise LineError(400, "The request body has 1 error(s)") from error
    if not isinstance(body, dict):
        raise LineError(400, "The request body has 1 error(s)")
    return body


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    valid = isinstance(messages, list) and 1 <= len(messages) <= MAX_MESSAGES
    if not valid or not all(isinstance(m, dict) and "type" in m for m in messages or []):
        raise LineError(400, "The request body has 1 error(s)", details=[{"property": "messages"}])
    return list(messages or [])


def _retry_key(request: Request) -> str | None:
    key = request.headers.get("x-line-retry-key")
    if key is not None and not RETRY_KEY.match(key):
        raise LineError(400, "The value of the X-Line-Retry-Key header is invalid")
    return key


def _accepted(fake: FakeLine, key: str | None) -> None:
    """Refuse a retry key LINE already accepted (409), as the real API does."""
    if key is not None and key in fake.retry_keys:
        raise LineError(409, "The retry key is already accepted", sentMessages=fake.retry_keys[key])


def _messaging_routes(fake: FakeLine) -> APIRouter:
    router = APIRouter(dependencies=[_authorised(fake)])

    @router.post("/v2/bot/message/reply")
    async def reply(request: Request) -> dict[str, Any]:
        if "x-line-retry-key" in request.headers:
            raise LineError(400, "X-Line-Retry-Key is not supported by this API")
        body = await _json(request)
        token, messages = body.get("replyToken"), _messages(body)
        if not isinstance(token, str) or not token or token in fake.used_reply_tokens:
            raise LineError(400, "Invalid reply token")
        fake.used_reply_tokens.add(token)
        to = fake.reply_targets.get(token)
        sent = [fake.record("reply", to, m, reply_token=token) for m in messages]
        return {"sentMessages": sent}

    @router.post("/v2/bot/message/push")
    async def push(request: Request) -> dict[str, Any]:
        key = _retry_key(request)
        body = await _json(request)
        to, messages = body.get("to"), _messages(body)
        if not isinstance(to, str) or not to:
            raise LineError(400, "The request body has 1 error(s)", details=[{"property": "to"}])
        _accepted(fake, key)
        sent = [fake.record("push", to, m, retry_key=key) for m in messages]
        if key is not None:
            fake.retry_keys[key] = sent
        return {"sentMessages": sent}

    @router.post("/v2/bot/message/multicast")
    async def multicast(request: Request) -> dict[str, Any]:
        key = _retry_key(request)
        body = await _json(request)
        targets, messages = body.get("to"), _messages(body)
        if not isinstance(targets, list) or not 1 <= len(targets) <= MAX_MULTICAST:
            raise LineError(400, "The request body has 1 error(s)", details=[{"property": "to"}])
        _accepted(fake, key)
        for to in targets:
            for message in messages:
                fake.record("multicast", str(to), message, retry_key=key)
        if key is not None:
            fake.retry_keys[key] = []
        return {}

    @router.get("/v2/bot/profile/{user_id}")
    async def profile(user_id: str) -> dict[str, Any]:
        if not USER_ID.match(user_id):
            raise LineError(404, "Not found")
        return {"userId": user_id, "displayName": display_name(user_id), "language": "ja"}

    return router


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


def _rich_menu_routes(fake: FakeLine) -> APIRouter:
    router = APIRouter(dependencies=[_authorised(fake)])

    @router.post("/v2/bot/richmenu")
    async def create(request: Request) -> dict[str, str]:
        body = await _json(request)
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


def _fake_routes(fake: FakeLine) -> APIRouter:
    """What only the fake has: read messages back, say where a reply token leads."""
    router = APIRouter(prefix="/_fake")

    @router.get("/messages")
    async def messages(since: int = 0) -> dict[str, Any]:
        found = fake.since(max(since, 0))
        # `next` never passes the last message, so a cursor asked for far ahead still works.
        last = found[-1]["seq"] if found else min(max(since, 0), len(fake.messages))
        return {"messages": found, "next": last}

    @router.post("/reply-tokens")
    async def reply_token(request: Request) -> dict[str, Any]:
        # The simulator says which chat a reply token belongs to, so replies can be shown
        # in the right view; LINE knows this itself.
        body = await _json(request)
        token, to = body.get("replyToken"), body.get("to")
        if not isinstance(token, str) or not isinstance(to, str):
            raise LineError(400, "give replyToken and to")
        fake.reply_targets[token] = to
        return {}

    @router.get("/calls")
    async def calls() -> dict[str, Any]:
        return {"calls": list(fake.calls)}

    return router


@dataclass
class Served:
    """An ASGI app served by uvicorn in a background thread."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        """Ask the server to finish and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=5)


def serve_in_thread(app: FastAPI, *, host: str = "127.0.0.1", port: int = 0) -> Served:
    """Serve `app` on `host` (a free port unless one is given) and wait until it listens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # No websockets here: importing their library only to warn about it is noise.
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"could not serve on {host}:{port}")
        time.sleep(0.01)
    return Served(server, thread, f"http://{host}:{sock.getsockname()[1]}")


def create_app() -> FastAPI:
    """A fresh fake, for `uvicorn bot.fake_line:create_app --factory`."""
    return FakeLine().app()
