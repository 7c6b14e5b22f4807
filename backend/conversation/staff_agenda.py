"""「今日」「明日」「未承認」: the day's bookings and the pending requests, for staff."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from backend.conversation import staff_words, words
from backend.conversation.model import (
    Card,
    Carousel,
    Choice,
    Effect,
    Event,
    Facts,
    Reply,
    Result,
    Say,
    State,
    Step,
    Text,
)

AGENDA = "agenda"
DAYS = {"今日": 0, "きょう": 0, "本日": 0, "明日": 1, "あした": 1, "あす": 1}
PENDING = ("未承認", "みしょうにん")
STATUS_WORDS = {
    "confirmed": "確定",
    "completed": "来院済",
    "no_show": "無断キャンセル",
}
IN_GROUP_ONLY = "承認・お断り・提案はスタッフグループで行えます。"
FAILED = "予約を読み込めませんでした。もう一度お試しください。"


def in_group(state: State, event: Event, facts: Facts) -> Step | None:
    """The commands in the staff group, where pending requests come with their buttons."""
    return _agenda(state, event, facts, answerable=True)


def in_direct(state: State, event: Event, facts: Facts) -> Step | None:
    """The commands 1:1; requests are answered in the group, so cards come without buttons."""
    return _agenda(state, event, facts, answerable=False)


def _agenda(state: State, event: Event, facts: Facts, *, answerable: bool) -> Step | None:
    match event:
        case Text(text=text) if (args := command(text, today=facts.now.date())) is not None:
            if not staff_words.is_staff(facts):
                return Step(state, (Say(staff_words.NOT_STAFF),))
            return Step(state, effect=Effect(AGENDA, args))
        case Result(name=name, ok=ok, data=data) if name == AGENDA:
            replies = _listed(data, answerable=answerable) if ok else (Say(FAILED),)
            return Step(state, replies)
    return None


def command(text: str, *, today: date) -> dict[str, Any] | None:
    """The agenda a message asks for: {"day": ISO date} or {"pending": True}, or None."""
    word = unicodedata.normalize("NFKC", text).strip().removesuffix("の予約")
    if word in DAYS:
        return {"day": (today + timedelta(days=DAYS[word])).isoformat()}
    if word in PENDING:
        return {"pending": True}
    return None


def _listed(data: Mapping[str, Any], *, answerable: bool) -> tuple[Reply, ...]:
    if data.get("kind") == "pending":
        return _pending(data, answerable=answerable)
    return (_day(data),)


def _day(data: Mapping[str, Any]) -> Say:
    title = words.day(date.fromisoformat(data["day"]))
    bookings = data.get("bookings", ())
    if not bookings:
        return Say(f"{title}の予約はありません。")
    lines = [f"{title}の予約 {len(bookings)}件"]
    lines.extend(_line(booking) for booking in bookings)
    return Say("\n".join(lines))


def _line(booking: Mapping[str, Any]) -> str:
    staff = f"（{booking['staff']}）" if booking.get("staff") else ""
    return (
        f"{words.clock(staff_words.start(booking))} {booking['patient']}さま "
        f"{booking['course']}{staff} {status_word(booking)}"
    )


def status_word(booking: Mapping[str, Any]) -> str:
    """「確定」, 「未承認」, 「返答待ち」 (a time proposed to the patient), …"""
    if booking.get("status") == "requested":
        return "返答待ち" if booking.get("awaiting") == "patient" else "未承認"
    return STATUS_WORDS.get(str(booking.get("status")), str(booking.get("status")))


def _pending(data: Mapping[str, Any], *, answerable: bool) -> tuple[Reply, ...]:
    requests = data.get("requests", ())
    if not requests:
        return (Say("未承認のリクエストはありません。"),)
    total = int(data.get("total", len(requests)))
    heading = f"未承認のリクエスト {total}件"
    if total > len(requests):
        heading += f"（近い順に{len(requests)}件を表示）"
    cards = tuple(_card(request, answerable=answerable) for request in requests)
    return Say(heading), Carousel(cards, alt=heading)


def _card(request: Mapping[str, Any], *, answerable: bool) -> Card:
    rows = tuple((str(label), str(value)) for label, value in request["rows"])
    booking_id = request["booking"]["id"]
    if request["booking"].get("awaiting") == "patient":
        return Card("提案中（患者さまの返答待ち）", rows)
    if not answerable:
        return Card("予約リクエスト", rows, note=IN_GROUP_ONLY)
    choices = (
        Choice("承認", f"req:{booking_id}:approve"),
        Choice("別の時間を提案", f"req:{booking_id}:propose"),
        Choice("お断り", f"req:{booking_id}:decline"),
    )
    return Card("予約リクエスト", rows, choices)
