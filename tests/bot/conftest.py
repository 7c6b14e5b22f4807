"""The LINE webhook under test: signed exactly as LINE signs, LINE's API mocked at its URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.models import Clinic
from backend.settings import LineSettings, Settings
from bot import inbound
from tests.conftest import SessionStore, test_settings
from tests.factories import make_clinic

SECRET = "test-channel-secret"
ACCESS_TOKEN = "test-access-token"
API_BASE = "https://api.line.test"
USER = "U0123456789abcdef0123456789abcdef"
GROUP = "C0123456789abcdef0123456789abcdef"

_ids = count(1)


def line_settings(**overrides: Any) -> LineSettings:
    """LINE settings for tests, ignoring the developer's environment file."""
    values: dict[str, Any] = {
        "channel_secret": SecretStr(SECRET),
        "access_token": SecretStr(ACCESS_TOKEN),
        "api_base": API_BASE,
    }
    return LineSettings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


def settings(**line: Any) -> Settings:
    return test_settings(line=line_settings(**line))


def sign(body: bytes, secret: str = SECRET) -> str:
    """X-Line-Signature as LINE computes it: base64 of HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def envelope(*events: dict[str, Any]) -> bytes:
    return json.dumps({"destination": "Ubot", "events": list(events)}).encode()


def event(kind: str, *, source: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A webhook event with the fields every event carries; `fields` add or replace."""
    number = next(_ids)
    base: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": 1796000000000 + number,
        "source": source or {"type": "user", "userId": USER},
        "webhookEventId": f"01TESTEVENT{number:015d}",
        "deliveryContext": {"isRedelivery": False},
    }
    return base | fields


def text(words: str, **fields: Any) -> dict[str, Any]:
    message = {"type": "text", "id": "468789577898262530", "quoteToken": "q", "text": words}
    return event("message", replyToken=f"rt-{next(_ids)}", message=message, **fields)


def sticker(**fields: Any) -> dict[str, Any]:
    message = {
        "type": "sticker",
        "id": "468789577898262531",
        "quoteToken": "q",
        "packageId": "1",
        "stickerId": "2",
        "stickerResourceType": "STATIC",
    }
    return event("message", replyToken=f"rt-{next(_ids)}", message=message, **fields)


def follow(**fields: Any) -> dict[str, Any]:
    return event("follow", replyToken=f"rt-{next(_ids)}", follow={"isUnblocked": False}, **fields)


def postback(data: str, params: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"data": data} | ({"params": params} if params else {})
    return event("postback", replyToken=f"rt-{next(_ids)}", postback=content, **fields)


@dataclass
class Line:
    """Posts webhooks to the app the way LINE does and records the kicks they cause."""

    client: TestClient
    kicks: list[None] = field(default_factory=list)

    def post(self, *events: dict[str, Any], signature: str | None = None) -> httpx.Response:
        return self.deliver(envelope(*events), signature=signature)

    def deliver(self, body: bytes, *, signature: str | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        headers["X-Line-Signature"] = sign(body) if signature is None else signature
        return self.client.post("/line/webhook", content=body, headers=headers)


def make_app(session: Session, clock: list, **line: Any) -> FastAPI:
    return create_app(settings(**line), store=SessionStore(session), clock=lambda: clock[0])


@pytest.fixture
def clinic(session: Session) -> Clinic:
    return make_clinic(session)


@pytest.fixture
def app(session: Session, clock: list) -> FastAPI:
    return make_app(session, clock)


@pytest.fixture
def line(app: FastAPI, clinic: Clinic, clock: list) -> Line:
    """The webhook with the after-response kick replaced by a recorder that handles the
    recorded events (as the real kick does first) but leaves the outbox undrained."""
    line = Line(TestClient(app))

    def kick() -> None:
        line.kicks.append(None)
        inbound.process(app.state.store, clock=lambda: clock[0])

    app.state.kick = kick
    return line


@pytest.fixture
def line_api() -> Iterator[respx.MockRouter]:
    """LINE's Messaging API at the configured base URL; every call must be mocked."""
    with respx.mock(base_url=API_BASE, assert_all_called=False, using="httpx") as router:
        yield router
