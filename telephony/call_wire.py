"""The terminal phone's wire: Twilio's request parameters, X-Twilio-Signature, the posts to
the uketsuke server, and the SMS read back from the fake Twilio API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

API_VERSION = "2010-04-01"
VOICE_PATH = "/twilio/voice"
STATUS_PATH = "/twilio/status"


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature: base64 of the HMAC-SHA1, under the auth token, of the full URL
    followed by every POST parameter's name and value, sorted by name."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def new_call_sid() -> str:
    """A Call SID: CA and 32 hex digits."""
    return "CA" + secrets.token_hex(16)


@dataclass(frozen=True)
class Call:
    """One inbound call: who calls whom, under which account."""

    sid: str
    account_sid: str
    caller: str
    callee: str

    def params(self, status: str, **more: str) -> dict[str, str]:
        """The parameters Twilio posts with every request about this call."""
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": self.sid,
            "CallStatus": status,
            "Called": self.callee,
            "Caller": self.caller,
            "Direction": "inbound",
            "From": self.caller,
            "To": self.callee,
            **more,
        }

    def ended(self, status: str, duration_seconds: int, now: datetime) -> dict[str, str]:
        """The status callback's parameters for the end of the call."""
        return self.params(
            status,
            CallDuration=str(duration_seconds),
            CallbackSource="call-progress-events",
            SequenceNumber="0",
            Timestamp=format_datetime(now.astimezone(UTC), usegmt=True),
        )


class PhoneError(RuntimeError):
    """The server or the fake could not be reached, or refused; the text says what to do."""


def path_of(url: str) -> str:
    """A URL's path and query: where on the server a (public) URL lands."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Wire:
    """Signed posts to the server; SMS read back from the fake Twilio API (if known)."""

    server_url: str
    auth_token: str
    http: httpx.Client
    fake_url: str | None = None

    def post(self, url: str, params: Mapping[str, str]) -> str:
        """Post `params` as Twilio would request `url`, and answer the body.

        The signature covers `url` (what the server knows as its public URL); the post
        goes to the same path on `server_url`, as a proxy in front of the server would."""
        headers = {"X-Twilio-Signature": signature(self.auth_token, url, params)}
        target = self.server_url + path_of(url)
        try:
            response = self.http.post(target, data=dict(params), headers=headers)
        except httpx.HTTPError as error:
            raise PhoneError(f"cannot reach the server at {self.server_url}: {error}") from error
        _check(response, url)
        return response.text

    def messages(self, since: int) -> tuple[list[dict[str, Any]], int]:
        """SMS the fake received after `since`, and the new cursor (none without a fake)."""
        if self.fake_url is None:
            return [], since
        try:
            response = self.http.get(f"{self.fake_url}/_fake/messages", params={"since": since})
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise PhoneError(f"the fake Twilio API at {self.fake_url} is gone: {error}") from error
        found = response.json()
        return found["messages"], int(found["next"])


def _check(response: httpx.Response, url: str) -> None:
    path = path_of(url)
    if response.status_code in (401, 403):
        base = url[: len(url) - len(path)] if path else url
        raise PhoneError(
            f"the server refused the signature (HTTP {response.status_code}): it must run with "
            "the UKETSUKE_TWILIO_AUTH_TOKEN the simulator signs with, and with "
            f"UKETSUKE_PUBLIC_BASE_URL={base}"
        )
    if response.status_code in (404, 405):
        raise PhoneError(
            f"POST {urlsplit(url).path} answered HTTP {response.status_code}: this server has "
            "no phone channel (the /twilio/ routes of telephony/webhook.py)"
        )
    if not response.is_success:
        raise PhoneError(f"POST {path} answered HTTP {response.status_code}: {response.text[:300]}")


def probe(server_url: str, http: httpx.Client) -> None:
    """Check, without placing a call, that the server answers and has the phone routes."""
    try:
        http.get(f"{server_url}/healthz").raise_for_status()
        route = http.get(server_url + VOICE_PATH)
    except httpx.HTTPError as error:
        raise PhoneError(
            f"the server at {server_url} is not reachable ({error}). Start one with "
            "`uketsuke twilio fake` and `uketsuke serve` (the first prints how), or run "
            "`uketsuke call` without --url to have both started for you"
        ) from error
    # GET on a POST-only route answers 405; 404 means the route is not there at all.
    if route.status_code == 404:
        raise PhoneError(
            f"{server_url} has no {VOICE_PATH}: this server has no phone channel "
            "(telephony/webhook.py) installed"
        )
