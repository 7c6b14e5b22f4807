"""Answering a request card in the staff group: 承認, お断り (with a reason) or 別の時間を提案.

Every button carries all it needs (`req:<id>:decline:full`, `req:<id>:propose:<ISO start>`),
so any linked staff member can finish what another started: in a group anyone may tap a
quick reply, and a dialogue state kept per person could not follow that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from backend.conversation import staff_words, words
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

APPROVE = "approve"
DECLINE = "decline"
NEXT_SLOTS = "next_slots"
PROPOSE = "propose"
EFFECTS = (APPROVE, DECLINE, NEXT_SLOTS, PROPOSE)

_REQUEST = re.compile(r"req:(\d+):(approve|propose|decline)(?::(.+))?")
# Reason key (in the button) → the words the patient reads; None tells no reason.
REASONS: dict[str, str | None] = {
    "full": "満席のため",
    "absent": "担当者不在のため",
    "hours": "営業時間外のため",
    "none": None,
}
NO_REASON_LABEL = "理由を伝えない"
FAILED = "処理できませんでした。もう一度お試しください。"
NOT_FOUND = "このリクエストは見つかりませんでした。"
# What became of a request someone answered first, and of one nobody can answer any more.
BY_SOMEONE = {
    "confirmed": "承認済みです。",
    "declined": "お断り済みです。",
    "proposed": "別の時間を提案済みです。患者さまの返答をお待ちください。",
}
GONE = {
    "cancelled": "このリクエストは取り消されています。",
    "expired": "このリクエストは期限切れです。",
    "completed": "このご予約はすでに終わっています。",
    "no_show": "このご予約はすでに終わっています。",
}


def answer(state: State, event: Event, facts: Facts) -> Step | None:
    """A tap on a request card (or its follow-up buttons), or what the ledger made of it."""
    match event:
        case Picked(value=value) if (found := _REQUEST.fullmatch(value)) is not None:
            if not staff_words.is_staff(facts):
                return Step(state, (Say(staff_words.NOT_STAFF),))
            return _tapped(state, int(found[1]), found[2], found[3])
        case Result(name=name) if name in EFFECTS:
            return _answered(state, event, facts)
    return None


def is_request_button(event: Event) -> bool:
    """Whether the event is a tap on a request card's buttons."""
    return isinstance(event, Picked) and _REQUEST.fullmatch(event.value) is not None


def _tapped(state: State, booking_id: int, action: str, extra: str | None) -> Step:
    if action == APPROVE:
        return Step(state, effect=Effect(APPROVE, {"booking_id": booking_id}))
    if action == DECLINE:
        return _decline(state, booking_id, extra)
    return _propose(state, booking_id, extra)


def _decline(state: State, booking_id: int, reason: str | None) -> Step:
    if reason not in REASONS:
        return Step(state, (_ask_reason(booking_id),))
    args = {"booking_id": booking_id, "reason": REASONS[reason]}
    return Step(state, effect=Effect(DECLINE, args))


def _ask_reason(booking_id: int) -> Say:
    choices = tuple(
        Choice(reason or NO_REASON_LABEL, f"req:{booking_id}:decline:{key}")
        for key, reason in REASONS.items()
    )
    return Say("お断りの理由を選んでください（患者さまにお伝えします）。", choices)


def _propose(state: State, booking_id: int, starts_at: str | None) -> Step:
    if starts_at is None or not _is_moment(starts_at):
        return Step(state, effect=Effect(NEXT_SLOTS, {"booking_id": booking_id}))
    return Step(state, effect=Effect(PROPOSE, {"booking_id": booking_id, "starts_at": starts_at}))


def _is_moment(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _answered(state: State, result: Result, facts: Facts) -> Step:
    if not result.ok:
        return _refused(state, result, facts)
    data = result.data
    if result.name == NEXT_SLOTS:
        return Step(state, (_slots(data),))
    by = data.get("by") or staff_words.staff_name(facts.actor, facts) or "スタッフ"
    text = {APPROVE: _approved, DECLINE: _declined, PROPOSE: _proposed}[result.name](data, by)
    if not data.get("patient_on_line", True):
        text += "\nLINEでお知らせできない患者さまです。お電話でお伝えください。"
    return Step(state, (Say(text),))


def _approved(data: Mapping[str, Any], by: str) -> str:
    return f"{by}さんが承認しました: {staff_words.summary(data['booking'])}"


def _declined(data: Mapping[str, Any], by: str) -> str:
    because = f"（{data['reason']}）" if data.get("reason") else ""
    text = f"{by}さんがお断りしました: {staff_words.summary(data['booking'])}{because}"
    offered = len(data.get("alternatives", ()))
    if offered:
        text += f"\n患者さまに空き時間の候補を{offered}件お送りしました。"
    return text


def _proposed(data: Mapping[str, Any], by: str) -> str:
    booking = data["booking"]
    return (
        f"{by}さんが{booking['patient']}さまに "
        f"{words.moment(staff_words.start(booking))}〜 {booking['course']} を提案しました。"
        "患者さまの返答をお待ちください。"
    )


def _slots(data: Mapping[str, Any]) -> Say:
    booking = data["booking"]
    about = staff_words.summary(booking)
    if not data.get("slots"):
        return Say(
            f"{about}\nこの後に提案できる空き時間が見つかりませんでした。",
            (Choice("お断りする", f"req:{booking['id']}:decline"),),
        )
    choices = tuple(
        Choice(words.moment(datetime.fromisoformat(slot)), f"req:{booking['id']}:propose:{slot}")
        for slot in data["slots"]
    )
    return Say(f"{about}\n提案する時間を選んでください。", choices)


def _refused(state: State, result: Result, facts: Facts) -> Step:
    data = result.data
    code = data.get("code")
    about = f"{staff_words.summary(data['booking'])}\n" if data.get("booking") else ""
    if code == "illegal_transition":
        return Step(state, (Say(about + _handled(data, facts)),))
    if code == "slot_unavailable":
        return _slot_taken(state, result, about)
    if code == "not_staff":
        return Step(state, (Say(staff_words.NOT_STAFF),))
    if code == "not_found":
        return Step(state, (Say(NOT_FOUND),))
    return Step(state, (Say(about + FAILED),))


def _slot_taken(state: State, result: Result, about: str) -> Step:
    booking_id = result.data.get("booking_id")
    if result.name == PROPOSE and booking_id is not None:
        # The slot went while staff chose it: offer what is free now.
        taken = Say("その時間はたった今埋まりました。空いている時間を探し直します。")
        return Step(state, (taken,), Effect(NEXT_SLOTS, {"booking_id": booking_id}))
    choices = (
        (
            Choice("別の時間を提案", f"req:{booking_id}:propose"),
            Choice("お断り", f"req:{booking_id}:decline"),
        )
        if booking_id is not None
        else ()
    )
    return Step(state, (Say(about + "この時間はすでに埋まっているため承認できません。", choices),))


def _handled(data: Mapping[str, Any], facts: Facts) -> str:
    """Who answered the request first, or why it cannot be answered any more."""
    status = str(data.get("status"))
    if status == "requested" and data.get("awaiting") == "patient":
        status = "proposed"
    if status in BY_SOMEONE:
        who = data.get("handled_by_name") or staff_words.staff_name(data.get("handled_by"), facts)
        return f"{who}さんが{BY_SOMEONE[status]}" if who else f"すでに{BY_SOMEONE[status]}"
    return GONE.get(status, "このリクエストはすでに対応済みです。")
