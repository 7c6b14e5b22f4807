"""The patient's bookings: 予約確認, キャンセル, 変更, and answers to staff proposals.

A tap on a booking's button first reads the booking (`get_booking`), so a button from an
old message acts on what the booking is now, and one that is not the patient's is "not
found". Cancelling asks first; after the deadline the `cancel` effect refuses and tells
staff, so the patient is told to call at once rather than asked to confirm.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from backend.conversation import patient_book as book
from backend.conversation import patient_manage_texts as manage_texts
from backend.conversation import patient_slots as slots
from backend.conversation import patient_texts as texts
from backend.conversation.model import Effect, Event, Facts, Result, Say, State, Step
from backend.conversation.patient_common import (
    ACCEPT_PROPOSAL,
    CANCEL,
    DECLINE_PROPOSAL,
    GET_BOOKING,
    IDLE,
    LIST_BOOKINGS,
    NO_WORDS,
    REBOOK,
    RESCHEDULE,
    YES_WORDS,
    ResultHandler,
    fields,
    fresh,
    moment,
    number,
    tapped,
    typed,
)

CANCEL_CONFIRM = "cancel_confirm"
ACTIVE = ("requested", "confirmed")


def show_list() -> Step:
    """Read the patient's upcoming bookings."""
    return Step(fresh(IDLE), effect=Effect(LIST_BOOKINGS))


def tapped_booking(value: str) -> Step | None:
    """`booking:<id>:change|cancel`, `proposal:<id>:accept|decline`, `rebook:<id>:<ISO>`;
    None when the value is none of them."""
    booking = fields(value, "booking", 2)
    if booking and number(booking[0]) and booking[1] in ("change", "cancel"):
        args = {"booking_id": number(booking[0])}
        return Step(fresh(IDLE, then=booking[1]), effect=Effect(GET_BOOKING, args))
    proposal = fields(value, "proposal", 2)
    if proposal and number(proposal[0]) and proposal[1] in ("accept", "decline"):
        name = ACCEPT_PROPOSAL if proposal[1] == "accept" else DECLINE_PROPOSAL
        return Step(fresh(IDLE), effect=Effect(name, {"booking_id": number(proposal[0])}))
    rebook = fields(value, "rebook", 2)
    if rebook and number(rebook[0]):
        again = {"booking_id": number(rebook[0]), "start": rebook[1]}
        return Step(fresh(IDLE), effect=Effect(REBOOK, again))
    return None


def _cancel_confirm(state: State, event: Event, facts: Facts) -> Step:
    answer = tapped(event) or typed(event) or ""
    if answer == "ok" or answer in YES_WORDS or answer == "キャンセルする":
        return Step(state, effect=Effect(CANCEL, {"booking_id": state.data.get("booking_id")}))
    if answer == "back" or answer in NO_WORDS:
        return Step(fresh(IDLE), (Say(manage_texts.KEPT, texts.MENU),))
    start = moment(state.data.get("start"), facts)
    if start is None:
        return Step(fresh(IDLE), (texts.stale(),))
    return Step(state, (manage_texts.ask_cancel(start, str(state.data.get("course", ""))),))


HANDLERS = {CANCEL_CONFIRM: _cancel_confirm}


# What the effects found


def _listed(state: State, result: Result, facts: Facts) -> Step:
    if not result.ok:
        return Step(fresh(IDLE), (texts.failed(facts),))
    items: list[tuple[datetime, Any]] = []
    for item in result.data.get("bookings", []):
        start = moment(item.get("start"), facts) if isinstance(item, dict) else None
        if start is not None:
            items.append((start, item))
    return Step(fresh(IDLE), manage_texts.bookings(items))


def _got(state: State, result: Result, facts: Facts) -> Step:
    data = result.data
    start = moment(data.get("start"), facts)
    deadline = moment(data.get("deadline"), facts)
    if not result.ok or start is None or deadline is None:
        return Step(fresh(IDLE), (Say(manage_texts.NOT_FOUND, texts.MENU),))
    if data.get("status") not in ACTIVE or start <= facts.now:
        return Step(fresh(IDLE), (manage_texts.not_active(str(data.get("status", ""))),))
    booking_id, course = data.get("id"), str(data.get("course", ""))
    late = facts.now > deadline
    if state.data.get("then") == "cancel":
        if late:  # the effect refuses and tells staff; asking first would only delay that
            return Step(fresh(IDLE), effect=Effect(CANCEL, {"booking_id": booking_id}))
        asking = fresh(
            CANCEL_CONFIRM, booking_id=booking_id, start=start.isoformat(), course=course
        )
        return Step(asking, (manage_texts.ask_cancel(start, course),))
    if late:
        return Step(fresh(IDLE), (manage_texts.too_late(facts, action="変更", staff_told=False),))
    return _change(booking_id, data, start, facts)


def _change(booking_id: Any, data: Mapping[str, Any], start: datetime, facts: Facts) -> Step:
    course_id, staff_id = data.get("course_id"), data.get("staff_id")
    if not isinstance(course_id, int):
        return Step(fresh(IDLE), (texts.failed(facts),))
    changing = fresh(IDLE, booking_id=booking_id, previous=start.isoformat())
    step = book.with_course(
        changing,
        facts,
        course_id=course_id,
        staff_id=staff_id if isinstance(staff_id, int) else None,
        mode="change",
    )
    intro = Say(manage_texts.changing(start, str(data.get("course", ""))))
    return Step(step.state, (intro, *step.replies), step.effect)


def _cancelled(state: State, result: Result, facts: Facts) -> Step:
    data = result.data
    if result.ok:
        start = moment(data.get("start"), facts)
        return Step(fresh(IDLE), (manage_texts.cancelled(start, str(data.get("course", ""))),))
    return _refused(result, facts, action="キャンセル")


def _refused(result: Result, facts: Facts, *, action: str) -> Step:
    code = result.data.get("code")
    if code == "deadline_passed":
        told = action == "キャンセル"
        return Step(fresh(IDLE), (manage_texts.too_late(facts, action=action, staff_told=told),))
    if code == "illegal_transition":
        return Step(fresh(IDLE), (manage_texts.not_active(str(result.data.get("status", ""))),))
    if code == "not_found":
        return Step(fresh(IDLE), (Say(manage_texts.NOT_FOUND, texts.MENU),))
    return Step(fresh(IDLE), (texts.failed(facts),))


def _rescheduled(state: State, result: Result, facts: Facts) -> Step:
    data = result.data
    start = moment(data.get("start"), facts)
    if result.ok and start is not None:
        reply = manage_texts.moved(str(data.get("status")), start, str(data.get("course", "")))
        return Step(fresh(IDLE), (reply,))
    if data.get("code") == "slot_unavailable":
        return slots.taken_or_failed(state, result, facts)
    return _refused(result, facts, action="変更")


def _accepted(state: State, result: Result, facts: Facts) -> Step:
    # The confirmation itself is sent by notify.confirmed in the effect: saying it here
    # too would tell the patient twice.
    if result.ok:
        return Step(fresh(IDLE))
    code, status = result.data.get("code"), result.data.get("status")
    if code == "illegal_transition" and status == "confirmed":
        return Step(fresh(IDLE), (Say(manage_texts.ALREADY_CONFIRMED, texts.MENU),))
    if code == "slot_unavailable" and isinstance(result.data.get("course_id"), int):
        return _book_again(result, facts, manage_texts.PROPOSAL_TAKEN)
    if code in ("illegal_transition", "not_found"):
        return Step(fresh(IDLE), (Say(manage_texts.PROPOSAL_OVER, texts.MENU),))
    return Step(fresh(IDLE), (texts.failed(facts),))


def _declined(state: State, result: Result, facts: Facts) -> Step:
    if result.ok and isinstance(result.data.get("course_id"), int):
        return _book_again(result, facts, manage_texts.PROPOSAL_DECLINED)
    if result.data.get("code") in ("illegal_transition", "not_found"):
        return Step(fresh(IDLE), (Say(manage_texts.PROPOSAL_OVER, texts.MENU),))
    return _refused(result, facts, action="キャンセル")


def _book_again(result: Result, facts: Facts, note: str) -> Step:
    """Offer the days for the same course and nominee."""
    course_id, staff_id = result.data.get("course_id"), result.data.get("staff_id")
    if not isinstance(course_id, int):
        return Step(fresh(IDLE), (texts.failed(facts),))
    nominee = staff_id if isinstance(staff_id, int) else None
    step = book.with_course(fresh(IDLE), facts, course_id=course_id, staff_id=nominee)
    return Step(step.state, (Say(note), *step.replies), step.effect)


RESULTS: dict[str, ResultHandler] = {
    LIST_BOOKINGS: _listed,
    GET_BOOKING: _got,
    CANCEL: _cancelled,
    RESCHEDULE: _rescheduled,
    ACCEPT_PROPOSAL: _accepted,
    DECLINE_PROPOSAL: _declined,
}
