"""The LINE Messaging API calls the outbox sender makes: reply and push, over httpx, and
`deliver`, which sends one outbox row's replies with them.

Each call answers with an outcome rather than raising, so the caller decides what a
failure means for its outbox row: `Sent`, `Retry` (5xx, timeout, 429), `Failed` (any
other 4xx, with LINE's reason), or `TokenExpired` (a reply token LINE no longer takes).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from backend import outbox, wire
from backend.conversation import codec
from backend.settings import LineSettings
from bot import render

log = logging.getLogger(__name__)

REPLY_PATH = "/v2/bot/message/reply"
PUSH_PATH = "/v2/bot/message/push"
# LINE's 429 body says this when the month's message quota is used up, not the rate limit.
QUOTA_MESSAGE = "monthly limit"
INVALID_REPLY_TOKEN = "Invalid reply token"  # noqa: S105 - LINE's error text, not a secret
MAX_REASON = 500


@dataclass(frozen=True)
class TokenExpired:
    """The reply token was used or has expired; push instead."""


Outcome = outbox.Outcome | TokenExpired


class LineClient:
    """Reply and push calls with the channel's access token and an explicit timeout."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    @classmethod
    def connect(cls, settings: LineSettings) -> LineClient:
        """A client for the configured API base; close it (or use `with`) when done."""
        token = settings.access_token.get_secret_value()
        http = wire.LeanClient(
            base_url=settings.api_base,
            timeout=httpx.Timeout(settings.timeout_seconds),
            headers={"Authorization": f"Bearer {token}"},
            transport=wire.PooledTransport(timeout=settings.timeout_seconds, tls=wire.tls()),
        )
        return cls(http)

    def reply(self, token: str, messages: list[dict[str, Any]]) -> Outcome:
        """Answer an event with its reply token (free, but single-use and short-lived)."""
        body = {"replyToken": token, "messages": messages}
        return self._post(REPLY_PATH, body, headers={}, retry_key=False)

    def push(self, to: str, messages: list[dict[str, Any]], *, retry_key: str) -> Outcome:
        """Send to a user or group at any time; LINE runs one retry key only once."""
        body = {"to": to, "messages": messages}
        headers = {"X-Line-Retry-Key": retry_key}
        return self._post(PUSH_PATH, body, headers=headers, retry_key=True)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> LineClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _post(
        self, path: str, body: dict[str, Any], *, headers: dict[str, str], retry_key: bool
    ) -> Outcome:
        try:
            response = self.http.post(path, json=body, headers=headers)
        except httpx.TimeoutException:
            return outbox.Retry("timeout")
        except httpx.HTTPError as error:
            return outbox.Retry(f"connection failed ({type(error).__name__})")
        return outcome(response, retry_key=retry_key)


def outcome(response: httpx.Response, *, retry_key: bool) -> Outcome:
    """What a LINE response means for the message that was sent."""
    status = response.status_code
    if 200 <= status < 300:
        return outbox.Sent()
    message, reason = _reason(response)
    if status == 409 and retry_key:
        log.info("LINE had already accepted this retry key")
        return outbox.Sent()
    if status == 400 and not retry_key and message == INVALID_REPLY_TOKEN:
        return TokenExpired()
    if status == 429:
        return outbox.Retry(reason, quota=QUOTA_MESSAGE in message)
    if status >= 500:
        return outbox.Retry(reason)
    return outbox.Failed(reason)


def _reason(response: httpx.Response) -> tuple[str, str]:
    """LINE's error message, and a reason for the row: status, message and details."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return "", f"LINE {response.status_code}"
    message = str(body.get("message", ""))
    details = body.get("details")
    parts = [message]
    if isinstance(details, list):
        parts += [_detail(detail) for detail in details if isinstance(detail, dict)]
    reason = f"LINE {response.status_code}: " + "; ".join(part for part in parts if part)
    return message, reason[:MAX_REASON]


def _detail(detail: dict[str, Any]) -> str:
    where = detail.get("property")
    what = str(detail.get("message", ""))
    return f"{where}: {what}" if where else what


def deliver(
    line: LineClient, *, to: str, payload: dict[str, Any], retry_key: str, now: datetime
) -> outbox.Outcome:
    """Send an outbox row's replies: reply while its token is fresh, else push."""
    try:
        requests = render.requests(codec.load(payload["replies"]))
        token = _fresh_token(payload, now)
    except (KeyError, TypeError, ValueError) as error:
        return outbox.Failed(f"unreadable payload ({type(error).__name__})")
    # A reply token answers one request only, and a reply cannot be retried without
    # risking a repeat; longer answers go by push, whose retry keys prevent that.
    if token is not None and len(requests) == 1:
        outcome = line.reply(token, requests[0])
        if not isinstance(outcome, TokenExpired):
            return outcome
    return _push_all(line, to, requests, retry_key)


def _fresh_token(payload: dict[str, Any], now: datetime) -> str | None:
    token, until = payload.get("reply_token"), payload.get("reply_until")
    if not token or not until:
        return None
    return str(token) if now < datetime.fromisoformat(until) else None


def _push_all(
    line: LineClient, to: str, requests: list[list[render.Message]], retry_key: str
) -> outbox.Outcome:
    for index, messages in enumerate(requests):
        outcome = line.push(to, messages, retry_key=request_key(retry_key, index))
        if isinstance(outcome, TokenExpired):  # only replies carry tokens
            return outbox.Failed("unexpected reply-token error on a push")
        if not isinstance(outcome, outbox.Sent):
            return outcome
    return outbox.Sent()


def request_key(retry_key: str, index: int) -> str:
    """The row's retry key for its first request, and keys derived from it for the rest,
    the same on every attempt."""
    return retry_key if index == 0 else str(uuid.uuid5(uuid.UUID(retry_key), str(index)))
