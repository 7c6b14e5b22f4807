"""Pieces the patient conversation modules share: effect names, reading events and data."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from backend.conversation.model import (
    CourseInfo,
    DatePicked,
    Event,
    Facts,
    Picked,
    Result,
    StaffInfo,
    State,
    Step,
    Text,
)

# Effects the patient table asks for (performed in backend/dialogue/patient_effects.py).
CHECK_PHONE = "check_phone"
REGISTER = "register"
MATCH = "match"
REACHABLE = "reachable"
UNREACHABLE = "unreachable"
HISTORY = "history"
FIND_DAYS = "find_days"
FIND_SLOTS = "find_slots"
REQUEST = "request"
REBOOK = "rebook"
LIST_BOOKINGS = "list_bookings"
GET_BOOKING = "get_booking"
CANCEL = "cancel"
RESCHEDULE = "reschedule"
ACCEPT_PROPOSAL = "accept_proposal"
DECLINE_PROPOSAL = "decline_proposal"
OPT_OUT = "opt_out"
OPT_IN = "opt_in"
JOIN_WAITLIST = "join_waitlist"
LIST_WAITLIST = "list_waitlist"
LEAVE_WAITLIST = "leave_waitlist"
ACCEPT_OFFER = "accept_offer"

EFFECTS = frozenset(
    {
        CHECK_PHONE,
        REGISTER,
        MATCH,
        REACHABLE,
        UNREACHABLE,
        HISTORY,
        FIND_DAYS,
        FIND_SLOTS,
        REQUEST,
        REBOOK,
        LIST_BOOKINGS,
        GET_BOOKING,
        CANCEL,
        RESCHEDULE,
        ACCEPT_PROPOSAL,
        DECLINE_PROPOSAL,
        OPT_OUT,
        OPT_IN,
        JOIN_WAITLIST,
        LIST_WAITLIST,
        LEAVE_WAITLIST,
        ACCEPT_OFFER,
    }
)

IDLE = "idle"
NO_STAFF = 0  # `staff:0` is 指名なし

ResultHandler = Callable[[State, Result, Facts], Step]

_CLOSING = re.compile(r"[\s。．.!！?？、,]+$")
YES_WORDS = frozenset({"はい", "はーい", "ok", "OK", "お願いします", "大丈夫です", "yes"})
NO_WORDS = frozenset({"いいえ", "いえ", "no", "いや", "やめておく", "しない", "しません"})


def typed(event: Event) -> str | None:
    """The typed words, width-folded, without surrounding space and closing marks."""
    if not isinstance(event, Text):
        return None
    return _CLOSING.sub("", unicodedata.normalize("NFKC", event.text).strip())


def raw_text(event: Event) -> str | None:
    """The typed words as written (names keep their characters), trimmed."""
    return event.text.strip() if isinstance(event, Text) else None


def tapped(event: Event) -> str | None:
    """The value of the tapped button, or None."""
    return event.value if isinstance(event, Picked) else None


def picked_day(event: Event) -> date | None:
    """The day chosen in the calendar, or from a `day:YYYY-MM-DD` button."""
    if isinstance(event, DatePicked):
        return event.day
    value = tapped(event)
    if value is None or not value.startswith("day:"):
        return None
    try:
        return date.fromisoformat(value.removeprefix("day:"))
    except ValueError:
        return None


def fields(value: str, prefix: str, count: int) -> list[str] | None:
    """The parts after `prefix:` when there are exactly `count` of them (`booking:12:cancel`)."""
    head, _, rest = value.partition(":")
    if head != prefix or not rest:
        return None
    found = rest.split(":", count - 1)
    return found if len(found) == count else None


def number(text: str) -> int | None:
    """A positive id, or None."""
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else None


def moment(iso: object, facts: Facts) -> datetime | None:
    """An aware ISO 8601 time in the clinic's zone, or None for anything else."""
    if not isinstance(iso, str):
        return None
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value.astimezone(facts.now.tzinfo)


def a_day(iso: object) -> date | None:
    """An ISO date, or None."""
    if not isinstance(iso, str):
        return None
    try:
        return date.fromisoformat(iso)
    except ValueError:
        return None


def course_of(facts: Facts, course_id: object) -> CourseInfo | None:
    """The clinic's course with this id, or None (withdrawn since the button was sent)."""
    return next((course for course in facts.courses if course.id == course_id), None)


def staff_of(facts: Facts, staff_id: object) -> StaffInfo | None:
    """The staff member with this id, or None (指名なし, or no longer there)."""
    return next((member for member in facts.staff if member.id == staff_id), None)


def fresh(name: str, **data: Any) -> State:
    """A state with only the given data (None values left out)."""
    return State(name, {key: value for key, value in data.items() if value is not None})


def keep(state: State, *keys: str) -> dict[str, Any]:
    """Some of the data gathered so far, to carry into a new flow."""
    return {key: state.data[key] for key in keys if key in state.data}
