"""The chat simulator's wire: LINE's webhook events and ids, X-Line-Signature, the posts to
the uketsuke server, and the messages read back from the fake LINE API (bot/fake_line.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

Event = dict[str, Any]


def new_user_id() -> str:
    """A LINE user id: U and 32 hex digits."""
    return "U" + uuid.uuid4().hex


def new_group_id() -> str:
    """A LINE group id: C and 32 hex digits."""
    return "C" + uuid.uuid4().hex


def ulid(now_ms: int) -> str:
    """A ULID (what LINE's webhookEventId is): 48-bit time, 80 random bits, base 32."""
    number = (now_ms << 80) | secrets.randbits(80)
    return "".join(CROCKFORD[(number >> shift) & 31] for shift in range(125, -1, -5))


def sign(secret: str, body: bytes) -> str:
    """X-Line-Signature: base64 of the HMAC-SHA256 of the raw body under the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def user_source(user_id: str) -> dict[str, str]:
    """The source of a 1:1 chat event."""
    return {"type": "user", "userId": user_id}


def group_source(group_id: str, user_id: str) -> dict[str, str]:
    """The source of an event in a group, with who did it."""
    return {"type": "group", "groupId": group_id, "userId": user_id}


def _event(kind: str, source: dict[str, str], now_ms: int, **fields: Any) -> Event:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": now_ms,
        "source": source,
        "webhookEventId": ulid(now_ms),
        "deliveryContext": {"isRedelivery": False},
        **fields,
    }


def message_event(text: str, source: dict[str, str], *, now_ms: int) -> Event:
    """A text message event with a fresh reply token."""
    message = {
        "type": "text",
        "id": str(secrets.randbelow(10**18)),
        "quoteToken": secrets.token_urlsafe(24),
        "text": text,
    }
    return _event("message", source, now_ms, replyToken=uuid.uuid4().hex, message=message)


def postback_event(
    data: str, source: dict[str, str], *, now_ms: int, params: dict[str, str] | None = None
) -> Event:
    """A postback event (a tapped button); `params` carries a date picker's answer."""
    postback: dict[str, Any] = {"data": data, **({"params": params} if params else {})}
    return _event("postback", source, now_ms, replyToken=uuid.uuid4().hex, postback=postback)


def follow_event(source: dict[str, str], *, now_ms: int, unblocked: bool = False) -> Event:
    """The user added the bot as a friend (or unblocked it)."""
    follow = {"isUnblocked": unblocked}
    return _event("follow", source, now_ms, replyToken=uuid.uuid4().hex, follow=follow)


def unfollow_event(source: dict[str, str], *, now_ms: int) -> Event:
    """The user blocked the bot (no reply token: nobody can answer a block)."""
    return _event("unfollow", source, now_ms)


def webhook_body(events: list[Event], *, destination: str) -> bytes:
    """The raw body LINE posts: the bot's user id and the events."""
    return json.dumps({"destination": destination, "events": events}, ensure_ascii=False).encode()


class SimulatorError(RuntimeError):
    """The server or the fake could not be reached, or refused; the text says what to do."""


@dataclass
class Link:
    """The wire: signed webhooks to the server, messages read back from the fake."""

    webhook_url: str
    fake_url: str
    secret: str
    destination: str
    http: httpx.Client

    def post(self, event: Event, chat: str) -> None:
        """Send one event; its replies will be shown in `chat` (a user or group id)."""
        try:
            if "replyToken" in event:
                self.http.post(
                    f"{self.fake_url}/_fake/reply-tokens",
                    json={"replyToken": event["replyToken"], "to": chat},
                ).raise_for_status()
            body = webhook_body([event], destination=self.destination)
            headers = {
                "Content-Type": "application/json",
                "X-Line-Signature": sign(self.secret, body),
            }
            response = self.http.post(self.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise SimulatorError(
                f"cannot reach the server or the fake LINE API: {error}"
            ) from error
        _check(response, self.webhook_url)

    def messages(self, since: int) -> tuple[list[dict[str, Any]], int]:
        """Messages the fake received after `since`, and the new cursor."""
        try:
            response = self.http.get(f"{self.fake_url}/_fake/messages", params={"since": since})
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise SimulatorError(
                f"the fake LINE API at {self.fake_url} is gone (did the `uketsuke chat` that "
                f"started it quit?): {error}"
            ) from error
        found = response.json()
        return found["messages"], int(found["next"])


def _check(response: httpx.Response, url: str) -> None:
    if response.status_code == 401:
        raise SimulatorError(
            "the server refused the signature: its UKETSUKE_LINE_CHANNEL_SECRET is not the "
            "one the simulator signs with"
        )
    if response.status_code == 404:
        raise SimulatorError(f"{url} does not exist: is this server's LINE webhook installed?")
    if not response.is_success:
        raise SimulatorError(f"the webhook answered HTTP {response.status_code}: {response.text}")
