"""Booking by phone: which course, when (spoken, or keyed as MMDD then HHMM), the search
for free starts, and what the request did. Reading the times found, picking one and a new
caller's name are in phone_slots.

Moving a booking (mode "change") reuses the same steps with the booking's course and
nominee kept. Data: `mode`, `course_id`, `staff_id` (a nominee or None), `booking_id` (the
booking being moved, or the one just made), `day` (keyed MMDD), `search` (what was asked,
`When.to_json()` shape), and what phone_slots keeps.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from backend.conversation import phone_book_texts as book_texts
from backend.conversation import phone_texts as texts
from backend.conversation.model import (
    CourseInfo,
    Effect,
    Event,
    Facts,
    Result,
    Say,
    State,
    Step,
)
from backend.conversation.patient_common import a_day, course_of, moment
from backend.conversation.patient_slots import typed_when
from backend.conversation.phone_common import (
    BOOK_HOUR,
    BOOK_PICK,
    BOOK_WHEN,
    FAILED,
    FIND_SLOTS,
    REQUEST,
    SMS,
    SMS_NUMBER,
    anything_else,
    ask,
    go,
    heard,
    keyed,
    missed,
    offer_callback,
)
from backend.conversation.when import parse_when

WHEN_HINTS = ("今日", "明日", "明後日", "来週", "午前", "午後", "曜日")
HOUR_HINTS = ("午前", "午後", "何時でも")
# 「何時でもいいです」「特にないです」: no time asked for, the whole day is searched.
_ANY_TIME = re.compile(
    r"(?:何時|なんじ|いつ)でも.*|(?:特に|とくに|おまかせ).*|(?:ない|なし|ありません)(?:です)?"
)


def course_for(state: State, facts: Facts) -> CourseInfo | None:
    """The course a phone booking is for: a known caller's last one, else the first-visit
    course, else the clinic's first."""
    if facts.patient is not None:
        last = course_of(facts, state.data.get("last_course"))
        if last is not None:
            return last
    first_visit = [course for course in facts.courses if course.for_first_visit]
    offered = first_visit or list(facts.courses)
    return offered[0] if offered else None


def begin(state: State, facts: Facts, when: dict[str, Any] | None = None) -> Step:
    """Start booking, searching at once when the caller already said when."""
    course = course_for(state, facts)
    if course is None:
        return offer_callback(state, FAILED, intro=(book_texts.NO_COURSE,))
    booking = _fresh(state, mode="book", course_id=course.id)
    return search(booking, when) if when else ask_when(booking)


def change(state: State, item: dict[str, Any]) -> Step:
    """Move a booking: the same course and nominee, a new time."""
    staff_id = item.get("staff_id")
    changing = _fresh(
        state,
        mode="change",
        course_id=item.get("course_id"),
        staff_id=staff_id if isinstance(staff_id, int) else None,
        booking_id=item.get("id"),
    )
    start = datetime.fromisoformat(str(item["start"]))
    return ask_when(changing, intro=(book_texts.changing(start),))


def _fresh(state: State, **chosen: Any) -> State:
    cleared = dict.fromkeys(("staff_id", "booking_id", "day", "search", "found", "offer", "start"))
    return go(state, BOOK_WHEN, **{**cleared, "next": None, **chosen})


def ask_when(state: State, *, intro: tuple[str, ...] = ()) -> Step:
    """Ask for the day and time."""
    asking = go(state, BOOK_WHEN)
    return ask(asking, book_texts.ASK_WHEN, intro=intro, keys=4, hints=WHEN_HINTS)


def chosen(state: State) -> dict[str, Any]:
    """The course and nominee being booked (and the booking being moved), as effect args."""
    args = {"course_id": state.data.get("course_id"), "staff_id": state.data.get("staff_id")}
    moving = state.data.get("booking_id") if state.data.get("mode") == "change" else None
    return args | ({"booking_id": moving} if isinstance(moving, int) else {})


def search(state: State, when: dict[str, Any]) -> Step:
    """Look for free starts in what the caller asked for."""
    searching = go(state, BOOK_PICK, search=when, day=None)
    return Step(searching, effect=Effect(FIND_SLOTS, {**chosen(state), **when}))


def retry(state: State) -> Step:
    """The time picked was taken meanwhile: the same search again."""
    asked = state.data.get("search")
    if not isinstance(asked, dict):
        return ask_when(state, intro=(book_texts.TAKEN,))
    step = search(state, asked)
    return Step(step.state, (Say(book_texts.TAKEN),), step.effect)


# Answers


def _when(state: State, event: Event, facts: Facts) -> Step:
    digits = keyed(event)
    if digits is not None:
        day = _keyed_day(digits, facts)
        if day is None:
            return missed(state, book_texts.NOT_A_DAY)
        asking = go(state, BOOK_HOUR, day=day.isoformat())
        return ask(asking, book_texts.ask_hour(day), keys=4, hints=HOUR_HINTS)
    when = typed_when(event, facts)
    return search(state, when) if when else missed(state)


def _keyed_day(digits: str, facts: Facts) -> date | None:
    """MMDD: the next such day (1203 in December 2026 is 2026-12-03, in January 2027 too)."""
    if len(digits) != 4 or not digits.isdigit():
        return None
    found = parse_when(f"{digits[:2]}/{digits[2:]}", now=facts.now)
    return found.date_from if found is not None else None


def _hour(state: State, event: Event, facts: Facts) -> Step:
    day = a_day(state.data.get("day"))
    if day is None:
        return ask_when(state)
    digits = keyed(event)
    if digits == "0" or _ANY_TIME.fullmatch(heard(event) or ""):
        return search(state, _whole_day(day))
    if digits is not None:
        at = _keyed_time(digits)
        return search(state, _exact(day, at)) if at else missed(state, book_texts.NOT_A_TIME)
    words = heard(event)
    found = parse_when(f"{day.month}月{day.day}日 {words}", now=facts.now) if words else None
    if found is None or found.kind not in ("exact", "window"):
        return missed(state)
    return search(state, dict(found.to_json()))


def _keyed_time(digits: str) -> time | None:
    """HHMM (or H, HH, HMM): 1500 is 15:00, 930 is 9:30, 10 is 10:00."""
    if not digits.isdigit() or not 1 <= len(digits) <= 4:
        return None
    hour, minute = divmod(int(digits), 100) if len(digits) > 2 else (int(digits), 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _whole_day(day: date) -> dict[str, Any]:
    iso = day.isoformat()
    return {"kind": "day", "date_from": iso, "date_to": iso, "time_from": None, "time_to": None}


def _exact(day: date, at: time) -> dict[str, Any]:
    return {**_whole_day(day), "kind": "exact", "time_from": at.strftime("%H:%M")}


HANDLERS = {BOOK_WHEN: _when, BOOK_HOUR: _hour}


# What the effects found


def _requested(state: State, result: Result, facts: Facts) -> Step:
    start = moment(result.data.get("start"), facts)
    if not result.ok and result.data.get("code") == "slot_unavailable":
        return retry(state)
    if not result.ok or start is None:
        return offer_callback(state, FAILED, intro=(texts.FAILED,))
    status, course = str(result.data.get("status")), str(result.data.get("course", ""))
    said = book_texts.requested(status, start, course)
    made = state.with_data(booking_id=result.data.get("booking_id"), mode="booked", sms_to=None)
    sms = result.data.get("sms")
    if sms == "mobile":
        return Step(made, (Say(said),), Effect(SMS, {"booking_id": made.data.get("booking_id")}))
    if sms == "ask":
        return ask(go(made, SMS_NUMBER), book_texts.ASK_MOBILE, intro=(said,), keys=11)
    return anything_else(made, intro=(said,))


RESULTS = {REQUEST: _requested}
