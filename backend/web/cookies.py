"""The dashboard's session cookie: a small JSON payload signed with HMAC-SHA256.

The cookie carries no secret and no patient data, only whether the browser signed in, when,
and the CSRF token its forms must echo; the signature stops anyone from forging it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

NAME = "uketsuke_session"
MAX_AGE = timedelta(hours=12)  # a working day: staff sign in again the next morning


@dataclass(frozen=True)
class WebSession:
    """What the cookie says: signed in or not, since when, and the CSRF token."""

    signed_in: bool
    issued_at: datetime
    csrf: str


def fresh(*, signed_in: bool, now: datetime) -> WebSession:
    """A new session with a new CSRF token (a new one at sign-in, so a token seen before
    signing in is worthless after)."""
    return WebSession(signed_in=signed_in, issued_at=now, csrf=secrets.token_urlsafe(24))


def dump(web_session: WebSession, *, key: str) -> str:
    """The cookie value for `web_session`: payload and signature, both URL-safe."""
    payload = json.dumps(
        {
            "in": web_session.signed_in,
            "at": int(web_session.issued_at.timestamp()),
            "csrf": web_session.csrf,
        },
        separators=(",", ":"),
    )
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{body}.{_signature(body, key)}"


def load(value: str, *, key: str, now: datetime) -> WebSession | None:
    """The session in a cookie value, or None when it is forged, mangled or too old."""
    body, _, signature = value.partition(".")
    # An empty key would sign with nothing, and anyone can sign with nothing.
    if not key or not hmac.compare_digest(signature, _signature(body, key)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        issued_at = datetime.fromtimestamp(int(data["at"]), tz=now.tzinfo)
        found = WebSession(
            signed_in=data["in"] is True, issued_at=issued_at, csrf=str(data["csrf"])
        )
    except (ValueError, KeyError, TypeError, binascii.Error, OverflowError):
        return None
    if not issued_at - timedelta(minutes=5) <= now <= issued_at + MAX_AGE:
        return None
    return found


def _signature(body: str, key: str) -> str:
    digest = hmac.new(key.encode(), b"uketsuke-web:" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
