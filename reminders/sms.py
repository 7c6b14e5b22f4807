"""Outbound SMS behind a small provider interface, with Twilio as the first provider.

Twilio's Japanese numbers are voice-only: SMS to Japanese mobiles goes one-way from an
alphanumeric sender ID or a non-Japanese number (UKETSUKE_SMS_SENDER), and landlines
cannot receive it (Twilio refuses them with a 4xx).

SMS has no idempotency key, so an attempt whose result is unknown is never repeated
blindly. `send` answers with an outcome rather than raising:

| outcome | when | the outbox row |
|---|---|---|
| `Sent` | 2xx (with the provider's message id, for the log) | sent |
| `Retry` | nothing was sent (connect error or timeout), or 429 | pending, after a backoff |
| `Failed` | any other 4xx, with Twilio's reason; SMS not configured | failed, shown to staff |
| `Uncertain` | 5xx, read timeout, broken connection: it may be out | uncertain, staff decide |

An SMS row's payload is `{"text": "..."}` (backend.messaging and the phone dialogue write
it that way); `deliver` sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import httpx
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from backend import outbox, wire
from backend.settings import Settings, SmsSettings, TwilioSettings

log = logging.getLogger(__name__)

NOT_CONFIGURED = "SMS is not configured"
MAX_REASON = 500
# Raised before a single byte of the request was sent: trying again cannot send twice.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The Twilio client reads TWILIO_EDGE and TWILIO_REGION from os.environ unless given a
# non-empty mapping; either would send requests past UKETSUKE_TWILIO_API_BASE.
_NO_ENVIRONMENT = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}
# The Twilio client puts this before Twilio's own message (or alone, when it had none).
_PREFIX = "Unable to create record"


# Outcomes are the outbox's, shared by every channel's sender.
Outcome = outbox.Outcome


class Provider(Protocol):
    """Something that sends one SMS."""

    def send(self, to: str, body: str, *, key: str) -> Outcome:
        """Send `body` to `to` (E.164); `key` names the message in logs."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class NotConfigured:
    """The provider when SMS is switched off or incomplete: every message fails visibly."""

    missing: str

    def send(self, to: str, body: str, *, key: str) -> Outcome:
        return outbox.Failed(f"{NOT_CONFIGURED} ({self.missing})")

    def close(self) -> None:
        pass


class HttpxClient(HttpClient):  # type: ignore[misc]  # twilio ships no type information
    """Twilio's HTTP client interface over httpx: explicit timeouts, mockable with respx."""

    def __init__(self, http: httpx.Client) -> None:
        super().__init__(log, is_async=False, timeout=None)
        self.http = http

    def request(  # noqa: PLR0917 - the signature of Twilio's HttpClient interface
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        """Make the request; httpx's exceptions reach the caller unchanged."""
        response = self.http.request(
            method,
            uri,
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            auth=auth,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            follow_redirects=allow_redirects,
        )
        return TwilioResponse(response.status_code, response.text, response.headers)


class TwilioSms:
    """SMS through Twilio's Messages API, From the configured sender."""

    def __init__(self, client: Client, *, sender: str, http: httpx.Client) -> None:
        self.client = client
        self.sender = sender
        self.http = http

    @classmethod
    def connect(cls, twilio: TwilioSettings, sms: SmsSettings) -> TwilioSms:
        """A provider on the configured API base; close it (or use `with`) when done."""
        http = httpx.Client(timeout=httpx.Timeout(twilio.timeout_seconds), verify=wire.tls())
        client = Client(
            twilio.account_sid,
            twilio.auth_token.get_secret_value(),
            http_client=HttpxClient(http),
            environment=_NO_ENVIRONMENT,
        )
        # So a local fake (or a test) can stand in for api.twilio.com.
        client.api.base_url = twilio.api_base
        return cls(client, sender=sms.sender, http=http)

    def send(self, to: str, body: str, *, key: str) -> Outcome:
        try:
            message = self.client.messages.create(to=to, from_=self.sender, body=body)
        except NOT_SENT as error:
            return outbox.Retry(f"connection failed before sending ({type(error).__name__})")
        except TwilioException as error:
            return refused(error)
        except Exception as error:
            # A read timeout, a dropped connection, an unreadable 2xx: it may have gone out.
            log.warning("SMS %s: result unknown (%s)", key, type(error).__name__)
            return outbox.Uncertain(f"no clear answer from Twilio ({type(error).__name__})")
        log.info("SMS %s accepted by Twilio as %s", key, message.sid)
        return outbox.Sent(message.sid or "")

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> TwilioSms:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def refused(error: TwilioException) -> Outcome:
    """What an error answer from Twilio means for the message."""
    status = int(getattr(error, "status", 0) or 0)
    code = getattr(error, "code", None)
    message = str(getattr(error, "msg", "") or getattr(error, "detail", "") or "")
    message = message.removeprefix(_PREFIX).removeprefix(":").strip()
    reason = f"Twilio {status}" + (f" ({code})" if code and code != status else "")
    reason = f"{reason}: {message}"[:MAX_REASON] if message else reason
    if status == 429:
        return outbox.Retry(reason)  # refused before it was queued: nothing went out
    if 400 <= status < 500:
        return outbox.Failed(reason)
    return outbox.Uncertain(f"{reason} (it may have been sent)"[:MAX_REASON])


def connect(settings: Settings) -> Provider:
    """The configured provider; a `NotConfigured` one says what is missing."""
    if settings.sms.provider == "none":
        return NotConfigured("UKETSUKE_SMS_PROVIDER=none")
    missing = [
        name
        for name, value in (
            ("UKETSUKE_TWILIO_ACCOUNT_SID", settings.twilio.account_sid),
            ("UKETSUKE_TWILIO_AUTH_TOKEN", settings.twilio.auth_token.get_secret_value()),
            ("UKETSUKE_SMS_SENDER", settings.sms.sender),
        )
        if not value
    ]
    if missing:
        return NotConfigured("missing " + ", ".join(missing))
    return TwilioSms.connect(settings.twilio, settings.sms)


@contextmanager
def opened(settings: Settings) -> Iterator[Provider]:
    """The configured provider for the length of a `with` block (one drain)."""
    provider = connect(settings)
    try:
        yield provider
    finally:
        provider.close()


def deliver(sms: Provider, *, to: str, payload: dict[str, Any], retry_key: str) -> Outcome:
    """Send an outbox row's SMS; `retry_key` (the row's) names it in the logs."""
    body = payload.get("text")
    if not isinstance(body, str) or not body.strip():
        return outbox.Failed("unreadable payload (no text)")
    return sms.send(to, body.strip(), key=retry_key)
