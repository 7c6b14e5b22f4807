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


def read(item: dict[str, Any]) -> Any:
    """The SDK's model of one stored event (as recorded in the inbox)."""
    return _model(item)


def _model(item: dict[str, Any]) -> Any:
    # As the SDK's WebhookParser does: a type it does not know still has to carry the
    # common fields (mode, webhookEventId, deliveryContext) or the event is malformed.
    try:
        return webhooks.Event.from_dict(item)
    except ValueError:
        unknown = UnknownEvent.new_from_json_dict(item)
    log.info("LINE event of type %r not known to the SDK: ignored", unknown.type)
    return unknown


def translate(event: Any) -> Translated | None:
    """The neutral event for a LINE event; None for events the conversation ignores."""
    source = _source(getattr(event, "source", None))
    what = _event(event)
    if source is None or what is None:
        return None
    if event.mode != webhooks.EventMode.ACTIVE and not isinstance(what, model.Unfollowed):
        # Standby: a module channel has the chat, so stay silent; a block still counts.
        return None
    return Translated(source, what, getattr(event, "reply_token", None))


def _source(source: Any) -> line.Source | None:
    if isinstance(source, webhooks.UserSource):
        return line.Source(user_id=source.user_id)
    if isinstance(source, webhooks.GroupSource):
        return line.Source(user_id=source.user_id, group_id=source.group_id)
    if isinstance(source, webhooks.RoomSource):
        # A multi-person chat behaves like a group: pushes take its id the same way.
        return line.Source(user_id=source.user_id, group_id=source.room_id)
    return None


def _event(event: Any) -> model.Event | None:
    if isinstance(event, webhooks.MessageEvent):
        return _message(event.message)
    if isinstance(event, webhooks.PostbackEvent):
        return _postback(event.postback)
    if isinstance(event, webhooks.FollowEvent):
        return model.Followed()
    if isinstance(event, webhooks.UnfollowEvent):
        return model.Unfollowed()
    # join, leave, memberJoined, unsend, beacon, …: nothing for a conversation to answer.
    return None


def _message(message: Any) -> model.Event | None:
    # Stickers, images and the like carry no words a table could act on.
    if isinstance(message, webhooks.TextMessageContent):
        return model.Text(message.text)
    return None


def _postback(postback: Any) -> model.Event | None:
    params = postback.params or {}
    if "date" not in params:
        return model.Picked(postback.data)
    try:
        return model.DatePicked(postback.data, date.fromisoformat(params["date"]))
    except (TypeError, ValueError):
        return None
