"""LINE events become the neutral events of the conversation tables."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from backend.conversation import model
from backend.dialogue.line import Source
from bot import events
from tests.bot.conftest import GROUP, USER, envelope, event, follow, postback, sticker, text


def translated(item: dict[str, Any]) -> events.Translated | None:
    (received,) = events.parse(envelope(item))
    return events.translate(received.raw)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (text("来週火曜の15時半"), model.Text("来週火曜の15時半")),
        (postback("course:3"), model.Picked("course:3")),
        (
            postback("day", {"date": "2026-12-03"}),
            model.DatePicked("day", date(2026, 12, 3)),
        ),
        (postback("slot", {"datetime": "2026-12-03T10:00"}), model.Picked("slot")),
        (follow(), model.Followed()),
        (event("unfollow"), model.Unfollowed()),
    ],
)
def test_what_a_person_did(item: dict[str, Any], expected: model.Event) -> None:
    answer = translated(item)

    assert answer is not None
    assert answer.event == expected
    assert answer.source == Source(user_id=USER)
    assert answer.reply_token == item.get("replyToken")


@pytest.mark.parametrize(
    "item",
    [
        sticker(),
        event("join", replyToken="rt"),
        event("leave"),
        event("memberJoined", joined={"members": [{"type": "user", "userId": "U2"}]}),
        event("unsend", unsend={"messageId": "1"}),
        event("somethingNew"),
        postback("day", {"date": "not a date"}),
        text("予約", mode="standby"),
    ],
)
def test_what_the_conversation_ignores(item: dict[str, Any]) -> None:
    assert translated(item) is None


def test_a_block_counts_even_in_standby() -> None:
    answer = translated(event("unfollow", mode="standby"))

    assert answer is not None
    assert answer.event == model.Unfollowed()


def test_who_is_talking_in_a_group_or_a_room() -> None:
    in_group = translated(text("今日", source={"type": "group", "groupId": GROUP, "userId": USER}))
    in_room = translated(text("今日", source={"type": "room", "roomId": "R1", "userId": USER}))

    assert in_group is not None
    assert in_group.source == Source(user_id=USER, group_id=GROUP)
    assert in_room is not None
    assert in_room.source == Source(user_id=USER, group_id="R1")


def test_the_inbox_keeps_the_event_as_sent() -> None:
    item = text("予約")

    (received,) = events.parse(envelope(item))

    assert received.raw == item
    assert received.event_id == item["webhookEventId"]
    assert received.kind == "message"
