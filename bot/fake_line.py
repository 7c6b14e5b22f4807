"""A local stand-in for the LINE Messaging API (api.line.me and api-data.line.me).

It answers the calls uketsuke makes — reply, push, multicast, rich menus, profiles — the way
LINE documents them, and records every message it was asked to deliver so the chat simulator,
tests and benchmarks can read them back at `GET /_fake/messages?since=N`. Both API hosts are
served from one app: their paths do not collide.

The rich menu calls are bot/fake_line_menus.py; how the fake answers like LINE (errors,
the bearer token, JSON bodies) bot/fake_line_http.py; serving it, backend/serving.py.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from bot import fake_line_menus
from bot.fake_line_http import LineError, authorised, line_error, read_json

MAX_MESSAGES = 5  # per reply or push request
MAX_MULTICAST = 500  # recipients per multicast
RETRY_KEY = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤")
GIVEN = ("花子", "陽子", "美咲", "健太", "翔太", "大輔", "由美", "直樹", "恵", "誠")


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
        app.include_router(fake_line_menus.routes(self))
        app.include_router(_fake_routes(self))
        app.add_exception_handler(LineError, line_error)  # type: ignore[arg-type]
        return app


def display_name(user_id: str) -> str:
    """A made-up Japanese display name, always the same for the same user."""
    digest = hashlib.sha256(user_id.encode()).digest()
    return f"{FAMILY[digest[0] % len(FAMILY)]} {GIVEN[digest[1] % len(GIVEN)]}"


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
    router = APIRouter(dependencies=[authorised(fake)])

    @router.post("/v2/bot/message/reply")
    async def reply(request: Request) -> dict[str, Any]:
        if "x-line-retry-key" in request.headers:
            raise LineError(400, "X-Line-Retry-Key is not supported by this API")
        body = await read_json(request)
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
        body = await read_json(request)
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
        body = await read_json(request)
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
        body = await read_json(request)
        token, to = body.get("replyToken"), body.get("to")
        if not isinstance(token, str) or not isinstance(to, str):
            raise LineError(400, "give replyToken and to")
        fake.reply_targets[token] = to
        return {}

    @router.get("/calls")
    async def calls() -> dict[str, Any]:
        return {"calls": list(fake.calls)}

    return router


def create_app() -> FastAPI:
    """A fresh fake, for `uvicorn bot.fake_line:create_app --factory`."""
    return FakeLine().app()
