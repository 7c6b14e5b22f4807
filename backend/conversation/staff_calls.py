"""Staff mark a missed call or a callback request as handled (対応済み) from its card in
the staff group, so the evening digest stops listing it and nobody calls twice."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from backend.conversation import staff_words
from backend.conversation.model import (
    Choice,
    Effect,
    Event,
    Facts,
    Picked,
    Result,
    Say,
    State,
    Step,
)

CALL_DONE = "call_done"
EFFECTS = (CALL_DONE,)
LABEL = "対応済みにする"
NOT_FOUND = "このお電話の記録は見つかりませんでした。"

_DONE = re.compile(r"call:(\d+):done")


def button(call_id: int) -> Choice:
    """The card's button for the call with this id."""
    return Choice(LABEL, f"call:{call_id}:done")


def answer(state: State, event: Event, facts: Facts) -> Step | None:
    """A tap on 対応済みにする, or what the ledger made of it."""
    match event:
        case Picked(value=value) if (found := _DONE.fullmatch(value)) is not None:
            if not staff_words.is_staff(facts):
                return Step(state, (Say(staff_words.NOT_STAFF),))
            return Step(state, effect=Effect(CALL_DONE, {"call_id": int(found[1])}))
        case Result(name=name, ok=ok, data=data) if name == CALL_DONE:
            return Step(state, (Say(_said(data, facts) if ok else NOT_FOUND),))
    return None


def _said(data: Mapping[str, Any], facts: Facts) -> str:
    if data.get("already"):
        return f"{data['number']} のお電話は{data['at']}に対応済みになっています。"
    by = data.get("by") or staff_words.staff_name(facts.actor, facts) or "スタッフ"
    return f"{by}さんが {data['number']} のお電話を対応済みにしました。"
