"""Twilio's webhook form: read it, and check its X-Twilio-Signature against the public URL.

Twilio signs the URL it requested, which is the public one; behind a proxy the URL the app
sees (`request.url`) differs, so the URL is rebuilt from UKETSUKE_PUBLIC_BASE_URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from urllib.parse import parse_qsl, urlparse

from starlette.datastructures import MultiDict
from starlette.requests import Request
from twilio.request_validator import RequestValidator

from backend.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-twilio-signature"
# Twilio's webhook forms are a few hundred bytes; anything far larger is not from Twilio.
MAX_BODY = 64 * 1024


class Malformed(ValueError):
    """The body is not a form Twilio could have sent."""


def read_form(body: bytes) -> MultiDict:
    """The form fields of an `application/x-www-form-urlencoded` body."""
    if len(body) > MAX_BODY:
        raise Malformed("body too large")
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as error:
        raise Malformed(type(error).__name__) from error
    return MultiDict(fields)


def public_url(settings: Settings, request: Request, path: str) -> str:
    """The URL Twilio requested: the public base, the route's path and the raw query."""
    # The route's own path, not the one the proxy forwarded, and the query exactly as sent.
    query = request.scope.get("query_string", b"").decode("latin-1")
    url = settings.public_base_url + path
    return f"{url}?{query}" if query else url


def is_valid(settings: Settings, url: str, form: MultiDict, signature: str) -> bool:
    """Whether `signature` is Twilio's signature of `url` and `form` under the auth token."""
    token = settings.twilio.auth_token.get_secret_value()
    # An empty token is a key anyone can sign with.
    if not token:
        log.error("Twilio webhook refused: UKETSUKE_TWILIO_AUTH_TOKEN is not configured")
        return False
    if not signature:
        return False
    # Twilio's validator signs the URL both with and without its port and accepts either.
    # The form of it Twilio requested (as given, normalised as the validator does) comes
    # first, alone and computed here: one HMAC instead of two when the signature is right,
    # and without the validator's lookups of each name in the form (every request pays it).
    computed = compute(token, urlparse(url).geturl(), form)
    if hmac.compare_digest(computed, signature.encode("utf-8", "replace")):
        return True
    return bool(RequestValidator(token).validate(url, form, signature))


def compute(token: str, url: str, form: MultiDict) -> bytes:
    """Twilio's signature: base64 of the HMAC-SHA1 of the URL followed by each distinct
    parameter's name and value, sorted by name, then value."""
    payload = url + "".join(name + value for name, value in sorted(set(form.multi_items())))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest)
