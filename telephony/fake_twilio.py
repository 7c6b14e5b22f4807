"""A local stand-in for the parts of Twilio's REST API that uketsuke calls.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` answers like Twilio (basic auth,
Twilio's error bodies, a Message resource with an SM… sid) and records every SMS, so the
terminal phone, tests and benchmarks can read them back at `GET /_fake/messages?since=N`.
Nothing is delivered anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

API_VERSION = "2010-04-01"
MAX_BODY = 1600  # characters; Twilio refuses longer bodies (error 21617)
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Japanese mobile (and data) numbers start 070, 080, 090 (020 is pagers and M2M);
# everything else is a landline or a special number that cannot receive SMS.
JAPANESE_MOBILE = re.compile(r"^\+81[789]0\d{8}$")


class TwilioError(Exception):
    """An API error answered as Twilio does: `{code, message, more_info, status}`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }


@dataclass
class FakeTwilio:
    """The fake's state: the SMS it was asked to send.

    With `account_sid` and `auth_token` given, basic auth must be exactly those; without,
    any non-empty pair passes. `latency` (seconds) delays every API call, to stand in for
    the real network.
    """

    account_sid: str | None = None
    auth_token: str | None = None
    latency: float = 0.0
    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, account_sid: str, form: dict[str, str]) -> dict[str, Any]:
        """Store one SMS; answer the Message resource Twilio would."""
        with self.lock:
            seq = len(self.messages) + 1
            message = message_resource(account_sid, form, now=datetime.now(UTC))
            self.messages.append(
                {
                    "seq": seq,
                    "sid": message["sid"],
                    "from": form.get("From"),
                    "to": form["To"],
                    "body": form["Body"],
                    # A real carrier would drop it (Twilio error 30006): shown, not hidden.
                    "deliverable": bool(JAPANESE_MOBILE.match(form["To"]))
                    or not form["To"].startswith("+81"),
                }
            )
        return message

    def since(self, seq: int) -> list[dict[str, Any]]:
        """Messages recorded after sequence number `seq` (the first is 1)."""
        with self.lock:
            return list(self.messages[seq:])

    def app(self) -> FastAPI:
        """The ASGI app serving this fake."""
        app = FastAPI(title="fake Twilio REST API", openapi_url=None)
        app.state.fake = self
        app.include_router(_api_routes(self))
        app.include_router(_fake_routes(self))
        app.add_exception_handler(TwilioError, _twilio_error)  # type: ignore[arg-type]
        return app


async def _twilio_error(_: Request, error: TwilioError) -> JSONResponse:
    return JSONResponse(error.body, status_code=error.status)


def message_resource(account_sid: str, form: dict[str, str], *, now: datetime) -> dict[str, Any]:
    """A Message resource as Twilio answers a create: queued, dates in RFC 2822."""
    sid = "SM" + secrets.token_hex(16)
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    created = format_datetime(now, usegmt=True)
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": form["Body"],
        "date_created": created,
        "date_sent": None,
        "date_updated": created,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": str(max(1, -(-len(form["Body"]) // 70))),  # UCS-2: 70 per segment
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": form["To"],
        "uri": f"{uri}.json",
    }


def basic_auth(header: str) -> tuple[str, str] | None:
    """The user and password of an `Authorization: Basic …` header, if it is one."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, colon, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if colon else None


def _authorise(fake: FakeTwilio, request: Request, account_sid: str) -> None:
    credentials = basic_auth(request.headers.get("authorization", ""))
    if credentials is None or not all(credentials):
        raise TwilioError(401, 20003, "Authenticate")
    user, _ = credentials
    expected = (fake.account_sid, fake.auth_token)
    if fake.auth_token is not None and credentials != expected:
        raise TwilioError(401, 20003, "Authenticate")
    if user != account_sid:
        raise TwilioError(
            404, 20404, f"The requested resource /Accounts/{account_sid} was not found"
        )


def _checked(form: dict[str, str]) -> dict[str, str]:
    """Refuse what Twilio refuses before queueing a message (400 with its error code)."""
    to = form.get("To", "")
    if not to:
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    if not E164.match(to):
        raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not form.get("From") and not form.get("MessagingServiceSid"):
        raise TwilioError(400, 21603, "A 'From' phone number is required.")
    if not form.get("Body"):
        raise TwilioError(400, 21602, "Message body is required.")
    if len(form["Body"]) > MAX_BODY:
        raise TwilioError(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    return form


async def _form(request: Request) -> dict[str, str]:
    """The url-encoded form body (the last value of a repeated field wins)."""
    try:
        return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    except UnicodeDecodeError as error:
        raise TwilioError(400, 20001, "The request body is not UTF-8") from error


def _api_routes(fake: FakeTwilio) -> APIRouter:
    router = APIRouter(prefix=f"/{API_VERSION}/Accounts/{{account_sid}}")

    @router.post("/Messages.json", status_code=201)
    async def create_message(account_sid: str, request: Request) -> dict[str, Any]:
        if fake.latency:
            await asyncio.sleep(fake.latency)
        _authorise(fake, request, account_sid)
        return fake.record(account_sid, _checked(await _form(request)))

    return router


def _fake_routes(fake: FakeTwilio) -> APIRouter:
    """What only the fake has: read the SMS back."""
    router = APIRouter(prefix="/_fake")

    @router.get("/messages")
    async def messages(since: int = 0) -> dict[str, Any]:
        found = fake.since(max(since, 0))
        # `next` never passes the last message, so a cursor asked for far ahead still works.
        last = found[-1]["seq"] if found else min(max(since, 0), len(fake.messages))
        return {"messages": found, "next": last}

    return router


def create_app() -> FastAPI:
    """A fresh fake taking any credentials, for `uvicorn telephony.fake_twilio:create_app
    --factory`."""
    return FakeTwilio().app()
