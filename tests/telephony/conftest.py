"""The Twilio Voice webhooks under test: forms signed exactly as Twilio signs them (the
public URL and the sorted fields, with the auth token), and a scripted attendant where a
test is about the channel's mechanics rather than the conversation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from backend import outbox
from backend.app import create_app
from backend.conversation.model import Event, Expect, Reply, Say
from backend.dialogue import phone
from backend.models import Channel, Clinic, InboundEvent
from backend.settings import Settings, TwilioSettings
from telephony import clinics
from tests.conftest import SessionStore, test_settings
from tests.factories import make_clinic

AUTH_TOKEN = "test-twilio-auth-token"
PUBLIC = "https://clinic.example.jp"
ACCOUNT = "AC" + "1" * 32
CALL = "CA" + "a" * 32
CLINIC_NUMBER = "+815012345678"
CALLER = "+819012345678"
STAFF = ["+819011110000", "+819022220000"]
VOICE = "Polly.Mizuki"


def twilio_settings(**overrides: Any) -> TwilioSettings:
    """Twilio settings for tests, ignoring the developer's environment file."""
    values: dict[str, Any] = {
        "account_sid": ACCOUNT,
        "auth_token": SecretStr(AUTH_TOKEN),
        "api_base": "https://api.twilio.test",
        "staff_numbers": STAFF,
    }
    return TwilioSettings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


def settings(public_base_url: str = PUBLIC, **twilio: Any) -> Settings:
    return test_settings(public_base_url=public_base_url, twilio=twilio_settings(**twilio))


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it: HMAC-SHA1 of the URL and sorted fields."""
    return str(RequestValidator(token).compute_signature(url, form))


def call_form(sid: str = CALL, caller: str = CALLER, **fields: str) -> dict[str, str]:
    """The fields Twilio sends with every voice webhook, then `fields`."""
    base = {
        "AccountSid": ACCOUNT,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "From": caller,
        "To": CLINIC_NUMBER,
    }
    return base | fields


@dataclass
class Twilio:
    """Posts webhooks to the app the way Twilio does."""

    client: TestClient

    @property
    def kicks(self) -> list[None]:
        """One entry per outbox drain the webhooks asked for after answering."""
        kicks: list[None] = self.client.app.state.kicks  # type: ignore[attr-defined]
        return kicks

    def post(
        self,
        path: str,
        form: dict[str, str],
        *,
        signature: str | None = None,
        signed_url: str | None = None,
    ) -> httpx.Response:
        """Post `form` to `path`, signed for the public URL unless told otherwise."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is None:
            signature = sign(signed_url or PUBLIC + path, form)
        if signature:
            headers["X-Twilio-Signature"] = signature
        return self.client.post(path, content=urlencode(form), headers=headers)

    def call(self, sid: str = CALL, caller: str = CALLER) -> httpx.Response:
        return self.post("/twilio/voice", call_form(sid, caller, CallStatus="ringing"))

    def answer(self, turn: int, sid: str = CALL, **fields: str) -> httpx.Response:
        return self.post(f"/twilio/voice/turn?n={turn}", call_form(sid, **fields))

    def dialed(self, turn: int, status: str, sid: str = CALL) -> httpx.Response:
        form = call_form(sid, DialCallStatus=status, DialCallSid="CA" + "d" * 32)
        return self.post(f"/twilio/voice/dialed?n={turn}", form)

    def ended(self, status: str, duration: str | None = None, sid: str = CALL) -> httpx.Response:
        extra = {"CallDuration": duration} if duration is not None else {}
        return self.post("/twilio/status", call_form(sid, CallStatus=status, **extra))


@dataclass
class Attendant:
    """Stands in for backend.dialogue.phone: answers from a script, records what it got."""

    script: list[tuple[Reply, ...]] = field(default_factory=list)
    default: tuple[Reply, ...] = (Say("ご用件をどうぞ。"), Expect())
    events: list[Event] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)
    ended: list[dict[str, Any]] = field(default_factory=list)
    # Whether each turn queues a message (as a booking's staff card would).
    queues: bool = False

    def answer(self, session: Session, *, event: Event, **context: Any) -> phone.Answered:
        """As phone.answer, leaving nothing for a next turn: every turn is scripted."""
        self.events.append(event)
        self.turns.append(context)
        self._queue(session, context)
        return phone.Answered(self.script.pop(0) if self.script else self.default, None)

    def call_ended(self, session: Session, **context: Any) -> None:
        self.ended.append(context)
        self._queue(session, context)

    def _queue(self, session: Session, context: dict[str, Any]) -> None:
        if self.queues:
            outbox.enqueue(
                session,
                clinic_id=context["clinic_id"],
                channel=Channel.SMS,
                recipient=CALLER,
                payload={"text": "テスト"},
                purpose="test",
                now=context["now"],
            )


def make_app(
    session: Session, clock: list, public_base_url: str = PUBLIC, **twilio: Any
) -> FastAPI:
    """The app on the test's session, its after-answer kick replaced by a recorder."""
    app_settings = settings(public_base_url, **twilio)
    app = create_app(app_settings, store=SessionStore(session), clock=lambda: clock[0])
    kicks: list[None] = []
    app.state.kicks = kicks
    app.state.kick = lambda: kicks.append(None)
    return app


def inbox_rows(session: Session) -> list[InboundEvent]:
    query = select(InboundEvent).where(InboundEvent.source == "twilio").order_by(InboundEvent.id)
    return list(session.scalars(query))


@pytest.fixture(autouse=True)
def _forget_clinics() -> Iterator[None]:
    yield
    clinics.forget()


@pytest.fixture
def clinic(session: Session) -> Clinic:
    return make_clinic(session, line_add_url="https://lin.ee/test")


@pytest.fixture
def app(session: Session, clock: list, clinic: Clinic) -> FastAPI:
    return make_app(session, clock)


@pytest.fixture
def twilio(app: FastAPI) -> Twilio:
    return Twilio(TestClient(app))


@pytest.fixture
def attendant(monkeypatch: pytest.MonkeyPatch) -> Attendant:
    attendant = Attendant()
    monkeypatch.setattr(phone, "answer", attendant.answer)
    monkeypatch.setattr(phone, "call_ended", attendant.call_ended)
    return attendant
