"""Neutral replies (`Say`, `Card`, `Carousel`) as LINE message JSON.

Only this module knows LINE's message format. Messages are built with the line-bot-sdk
models and serialised with `to_dict()`; LINE's limits are applied here, so a reply that
would break one is shortened rather than refused by LINE as a whole request.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from linebot.v3 import messaging

from backend.conversation.model import Card, Carousel, Choice, DatePick, Reply, Say

log = logging.getLogger(__name__)

# LINE's limits (Messaging API reference, message objects and actions).
MAX_MESSAGES = 5  # per reply or push request
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_ALT_TEXT = 400
MAX_BUBBLES = 12
MAX_DATA = 300
MAX_DISPLAY_TEXT = 300
MAX_TEXT = 5000

MUTED = "#888888"
RENDERED = 1024  # replies whose messages are kept

Message = dict[str, Any]
T = TypeVar("T")


def requests(replies: Sequence[Reply]) -> list[list[Message]]:
    """The replies as LINE messages, in groups of at most five (one group per request)."""
    return _chunks(messages(replies), MAX_MESSAGES)


def messages(replies: Sequence[Reply]) -> list[Message]:
    """The replies as LINE messages, in order; a long carousel becomes several. The
    messages are shared between calls (see `_rendered`): serialise them, never change them."""
    return [message for reply in replies for message in _rendered(reply)]


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in … when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(items: Sequence[T], size: int) -> list[list[T]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


@functools.lru_cache(maxsize=RENDERED)
def _rendered(reply: Reply) -> tuple[Message, ...]:
    # Most answers repeat word for word (menus, prompts, help), and building them with the
    # SDK's models costs more than the rest of sending them; replies are frozen values.
    return tuple(_render(reply))


def _render(reply: Reply) -> list[Message]:
    match reply:
        case Say():
            return [_text(reply)]
        case Card():
            return [_flex(clip(reply.title, MAX_ALT_TEXT), _bubble(reply))]
        case Carousel():
            alt = clip(reply.alt, MAX_ALT_TEXT)
            return [_flex(alt, _carousel(cards)) for cards in _chunks(reply.cards, MAX_BUBBLES)]
    raise TypeError(f"not a reply: {reply!r}")


def _text(say: Say) -> Message:
    message = messaging.TextMessage(text=clip(say.text, MAX_TEXT), quick_reply=_quick_reply(say))
    return dict(message.to_dict())


def _quick_reply(say: Say) -> messaging.QuickReply | None:
    pick = say.date_pick if say.date_pick and _fits(say.date_pick.value) else None
    room = MAX_QUICK_REPLIES - (1 if pick else 0)
    actions: list[Any] = [_postback(choice) for choice in _sendable(say.choices)[:room]]
    if pick is not None:
        actions.append(_date_picker(pick))
    if not actions:
        return None
    return messaging.QuickReply(items=[messaging.QuickReplyItem(action=a) for a in actions])


def _sendable(choices: Sequence[Choice]) -> list[Choice]:
    """The choices whose value fits in LINE's postback data."""
    return [choice for choice in choices if _fits(choice.value)]


def _fits(value: str) -> bool:
    # A longer value is a bug upstream; cutting it would send back a value that means
    # something else, so the button is left out instead.
    if len(value) <= MAX_DATA:
        return True
    log.warning("left out a button whose postback data has %d characters", len(value))
    return False


def _postback(choice: Choice) -> messaging.PostbackAction:
    # displayText is what the chat shows as the person's own message: the whole label.
    return messaging.PostbackAction(
        label=clip(choice.label, MAX_LABEL),
        data=choice.value,
        display_text=clip(choice.label, MAX_DISPLAY_TEXT),
    )


def _date_picker(pick: DatePick) -> messaging.DatetimePickerAction:
    first, last = pick.first.isoformat(), pick.last.isoformat()
    return messaging.DatetimePickerAction(
        label=clip(pick.label, MAX_LABEL),
        data=pick.value,
        mode="date",
        initial=first,
        min=first,
        max=last,
    )


def _flex(alt_text: str, contents: Any) -> Message:
    return dict(messaging.FlexMessage(alt_text=alt_text, contents=contents).to_dict())


def _carousel(cards: Sequence[Card]) -> messaging.FlexCarousel:
    return messaging.FlexCarousel(contents=[_bubble(card) for card in cards])


def _bubble(card: Card) -> messaging.FlexBubble:
    """Title, label/value rows and a small note in the body; buttons (primary first) below."""
    contents: list[Any] = [messaging.FlexText(text=card.title, weight="bold", size="lg", wrap=True)]
    if card.rows:
        rows = [_row(label, value) for label, value in card.rows]
        contents.append(messaging.FlexBox(layout="vertical", spacing="sm", contents=rows))
    if card.note:
        contents.append(messaging.FlexText(text=card.note, size="xs", color=MUTED, wrap=True))
    body = messaging.FlexBox(layout="vertical", spacing="md", contents=contents)
    return messaging.FlexBubble(body=body, footer=_buttons(card.choices))


def _row(label: str, value: str) -> messaging.FlexBox:
    # Flex text must not be empty; a blank value still shows its row.
    return messaging.FlexBox(
        layout="horizontal",
        spacing="md",
        contents=[
            messaging.FlexText(text=label or "-", size="sm", color=MUTED, flex=2, wrap=True),
            messaging.FlexText(text=value or "-", size="sm", flex=5, wrap=True),
        ],
    )


def _buttons(choices: Sequence[Choice]) -> messaging.FlexBox | None:
    buttons = [
        messaging.FlexButton(
            action=_postback(choice),
            style="primary" if index == 0 else "secondary",
            height="sm",
        )
        for index, choice in enumerate(_sendable(choices))
    ]
    if not buttons:
        return None
    return messaging.FlexBox(layout="vertical", spacing="sm", contents=buttons)
