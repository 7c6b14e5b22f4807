"""How the staff tables name people and bookings (concise Japanese for the staff group)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from backend.conversation import words
from backend.conversation.model import Facts

NOT_STAFF = (
    "申し訳ありません。予約の操作はLINE連携済みのスタッフのみ行えます。"
    "管理者にスタッフ登録（uketsuke staff add）を依頼してください。"
)
SOMEONE = "他のスタッフ"


def is_staff(facts: Facts) -> bool:
    """Whether the person talking is a linked staff member."""
    return facts.actor.startswith("staff:")


def staff_name(actor: str | None, facts: Facts) -> str | None:
    """The name of the staff member an actor (「staff:3」) stands for, if facts know it."""
    if not actor or not actor.startswith("staff:"):
        return None
    wanted = actor.removeprefix("staff:")
    return next((member.name for member in facts.staff if str(member.id) == wanted), None)


def start(booking: Mapping[str, Any]) -> datetime:
    """The booking's start, in the zone the performer wrote it in (the clinic's)."""
    return datetime.fromisoformat(str(booking["start"]))


def summary(booking: Mapping[str, Any]) -> str:
    """「12月1日(火) 10:00 佐藤 花子さま 骨盤矯正」."""
    return f"{words.moment(start(booking))} {booking['patient']}さま {booking['course']}"
