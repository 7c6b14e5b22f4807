"""LINE webhook bodies: parsed with the line-bot-sdk models, then translated into the
channel-neutral events the conversation tables understand."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from linebot.v3 import webhooks
from linebot.v3.models.events import UnknownEvent

from backend.conversation import model
from backend.dialogue import line

log = logging.getLogger(__name__)


class Malformed(ValueError):
    """The body is not a LINE webhook the SDK can read."""


@dataclass(frozen=True)
class Received:
    """One event of a webhook body: as sent (for the inbox) and as the SDK reads it."""

    raw: dict[str, Any]
    event: Any  # a linebot.v3.webhooks Event (the SDK is untyped)

    @property
    def event_id(self) -> str:
        return str(self.event.webhook_event_id)

    @property
    def kind(self) -> str:
        return str(self.raw.get("type", ""))[:32]


@dataclass(frozen=True)
class Translated:
    """What the backend is asked to handle: who, what, and the token to answer with."""

    source: line.Source
    event: model.Event
    reply_token: str | None


def parse(body: bytes) -> list[Received]:
    """Every event of a webhook body, or `Malformed` when any of them cannot be read."""
    try:
        document = json.loads(body)
        items = document["events"]
        if not isinstance(items, list):
            raise TypeError("events is not a list")
        return [Received(raw=item, event=_model(item)) for item in items]
    # The SDK raises whatever its models meet (ValidationError, KeyError, TypeError, …);
    # any of them means the body is not one we can act on.
    except Exception as error:
        raise Malformed(type(error).__name__) from error


def _model(item: dict[str, Any]) -> Any:
    # As the SDK's WebhookParser does: a type it does not know still has to carry the
    # common fields (mode, webhookEventId, deliveryContext) or the event is malformed.
    try:
        return webhooks.Event.from_dict(item)
    except ValueError:
        unknown = UnknownEvent.new_from_json_dict(item)
    log.info("LINE event of type %r not known to the SDK: ignored", unknown.type)
    return unknown


def translate(item: dict[str, Any]) -> Translated | None:
    """The neutral event for a LINE event as stored in the inbox (the SDK checked it when it
    arrived: reading the plain dict again costs far less than the SDK's models); None for
    events the conversation ignores."""
    source = _source(item.get("source"))
    what = _event(item)
    if source is None or what is None:
        return None
    if item.get("mode") != "active" and not isinstance(what, model.Unfollowed):
        # Standby: a module channel has the chat, so stay silent; a block still counts.
        return None
    token = item.get("replyToken")
    return Translated(source, what, token if isinstance(token, str) else None)


def _source(source: Any) -> line.Source | None:
    if not isinstance(source, dict):
        return None
    user_id = source.get("userId")
    kind = source.get("type")
    if kind == "user" and user_id:
        return line.Source(user_id=user_id)
    if kind == "group" and source.get("groupId"):
        return line.Source(user_id=user_id, group_id=source["groupId"])
    if kind == "room" and source.get("roomId"):
        # A multi-person chat behaves like a group: pushes take its id the same way.
        return line.Source(user_id=user_id, group_id=source["roomId"])
    return None


def _event(item: dict[str, Any]) -> model.Event | None:
    kind = item.get("type")
    if kind == "message":
        return _message(item.get("message"))
    if kind == "postback":
        return _postback(item.get("postback"))
    if kind == "follow":
        return model.Followed()
    if kind == "unfollow":
        return model.Unfollowed()
    # join, leave, memberJoined, unsend, beacon, …: nothing for a conversation to answer.
    return None


def _message(message: Any) -> model.Event | None:
    # Stickers, images and the like carry no words a table could act on.
    if isinstance(message, dict) and message.get("type") == "text":
        text = message.get("text")
        return model.Text(text) if isinstance(text, str) else None
    return None


def _postback(postback: Any) -> model.Event | None:
    if not isinstance(postback, dict) or not isinstance(postback.get("data"), str):
        return None
    params = postback.get("params") or {}
    if not isinstance(params, dict) or "date" not in params:
        return model.Picked(postback["data"])
    try:
        return model.DatePicked(postback["data"], date.fromisoformat(params["date"]))
    except (TypeError, ValueError):
        return None
