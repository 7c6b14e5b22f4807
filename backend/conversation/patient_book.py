"""Booking by buttons: course → staff → day, then the time and confirm steps in
`patient_slots`. A change of an existing booking (mode "change") reuses the day and time
steps with the booking's course and staff kept.

Data while booking: `mode` ("book" or "change"), `course_id`, `staff_id` (0 = 指名なし),
`visited` (has come before), `when` (words the patient typed before a course was chosen),
`days`/`first`/`last` (the day offer), and for a change `booking_id` and `previous`.
"""

from __future__ import annotations

from typing import Any

from backend.conversation import patient_book_texts as book_texts
from backend.conversation import patient_slots as slots
from backend.conversation import patient_texts as texts
from backend.conversation.model import (
    CourseInfo,
    Effect,
    Event,
    Facts,
    Reply,
    Result,
    Say,
    State,
    Step,
)
from backend.conversation.patient_common import (
    FIND_DAYS,
    HISTORY,
    IDLE,
    LIST_BOOKINGS,
    NO_STAFF,
    ResultHandler,
    a_day,
    course_of,
    fields,
    fresh,
    number,
    picked_day,
    staff_of,
    tapped,
)

COURSE, STAFF, DAY = "book_course", "book_staff", "book_day"
MAX_COURSES = 12


def begin(*, when: dict[str, Any] | None = None, intro: str = "") -> Step:
    """Start booking: first learn whether the patient came before and what they had."""
    replies: tuple[Reply, ...] = (Say(intro),) if intro else ()
    return Step(fresh(COURSE, mode="book", when=when), replies, Effect(HISTORY))


def with_course(
    state: State, facts: Facts, *, course_id: int, staff_id: int | None, mode: str = "book"
) -> Step:
    """Go to the days of a known course and staff (after a declined proposal, a change)."""
    chosen = state.to(DAY, mode=mode, course_id=course_id, staff_id=staff_id or NO_STAFF)
    return slots.find_days(chosen)


def courses_for(facts: Facts, *, visited: bool, last_id: object = None) -> list[CourseInfo]:
    """The courses to offer: first-visit courses first for a new patient, left out for
    one who has come before; the course they had last time leads."""
    first = [course for course in facts.courses if course.for_first_visit]
    others = [course for course in facts.courses if not course.for_first_visit]
    ordered = (others or first) if visited else first + others
    ordered.sort(key=lambda course: course.id != last_id)
    return ordered[:MAX_COURSES]


def ask_course(state: State, facts: Facts, note: str = "") -> Step:
    """Ask which course, or say there is none to book."""
    offered = courses_for(
        facts, visited=bool(state.data.get("visited")), last_id=state.data.get("last_course")
    )
    if not offered:
        return Step(fresh(IDLE), (texts.failed(facts),))
    return Step(state.to(COURSE), (book_texts.ask_course(offered, note),))


def ask_staff(state: State, facts: Facts, note: str = "") -> Step:
    """Ask for a nominee; with one staff member or none there is nothing to choose."""
    if len(facts.staff) <= 1:
        return after_staff(state.with_data(staff_id=NO_STAFF), facts)
    return Step(state.to(STAFF), (book_texts.ask_staff(facts, note),))


def after_staff(state: State, facts: Facts) -> Step:
    """Course and staff known: search what the patient typed, or offer days."""
    when = state.data.get("when")
    if isinstance(when, dict):
        return slots.search_when(state, when)
    return slots.find_days(state)


def ask_day(state: State, facts: Facts, note: str = "") -> Step:
    """Offer the days found (again)."""
    days = [day for day in map(a_day, state.data.get("days", [])) if day is not None]
    first, last = a_day(state.data.get("first")), a_day(state.data.get("last"))
    if first is None or last is None:
        return slots.find_days(state)
    return Step(state.to(DAY), (book_texts.ask_day(days, first, last, note),))


# Answers


def _course(state: State, event: Event, facts: Facts) -> Step:
    parts = fields(tapped(event) or "", "course", 1)
    course = course_of(facts, number(parts[0])) if parts else None
    if course is not None:
        return ask_staff(state.with_data(course_id=course.id), facts)
    when = slots.typed_when(event, facts)
    if when is not None:
        note = f"{book_texts.wanted(when)}ですね。先にメニューをお選びください。"
        return ask_course(state.with_data(when=when), facts, note)
    return ask_course(state, facts)


def _staff(state: State, event: Event, facts: Facts) -> Step:
    value = tapped(event) or ""
    parts = fields(value, "staff", 1)
    if parts and parts[0] == str(NO_STAFF):
        return after_staff(state.with_data(staff_id=NO_STAFF), facts)
    member = staff_of(facts, number(parts[0])) if parts else None
    if member is not None:
        return after_staff(state.with_data(staff_id=member.id), facts)
    if value == "back":
        return ask_course(state, facts)
    when = slots.typed_when(event, facts)
    if when is not None:
        note = f"{book_texts.wanted(when)}ですね。担当のご希望をお選びください。"
        return ask_staff(state.with_data(when=when), facts, note)
    return ask_staff(state, facts)


def _day(state: State, event: Event, facts: Facts) -> Step:
    if (tapped(event) or "").startswith(("slot:", "more:")):
        return slots.time_step(state, event, facts)
    day = picked_day(event)
    if day is not None and day < facts.now.date():
        return ask_day(state, facts, book_texts.past_day(day))
    if day is not None:
        return slots.search_day(state, day)
    if tapped(event) == "back":
        return back_from_day(state, facts)
    when = slots.typed_when(event, facts)
    if when is not None:
        return slots.search_when(state, when)
    return ask_day(state, facts)


def back_from_day(state: State, facts: Facts) -> Step:
    """Back from the days: to the staff (or course) question, or to the bookings list when
    changing a booking."""
    if state.data.get("mode") == "change":
        return Step(fresh(IDLE), effect=Effect(LIST_BOOKINGS))
    if len(facts.staff) > 1:
        return ask_staff(state, facts)
    return ask_course(state, facts)


HANDLERS = {COURSE: _course, STAFF: _staff, DAY: _day}


# What the effects found


def _history(state: State, result: Result, facts: Facts) -> Step:
    visited = bool(result.data.get("visited"))
    last = course_of(facts, result.data.get("course_id"))
    state = state.with_data(visited=visited, last_course=last.id if last else None)
    when = state.data.get("when")
    if isinstance(when, dict) and last is not None:
        staff = staff_of(facts, result.data.get("staff_id"))
        chosen = state.with_data(course_id=last.id, staff_id=staff.id if staff else NO_STAFF)
        return slots.search_when(chosen, when)
    if isinstance(when, dict):
        note = f"{book_texts.wanted(when)}ですね。先にメニューをお選びください。"
        return ask_course(state, facts, note)
    return ask_course(state, facts)


def _days(state: State, result: Result, facts: Facts) -> Step:
    if not result.ok:
        return Step(fresh(IDLE), (texts.failed(facts),))
    days = [str(day) for day in result.data.get("days", [])]
    if not days:
        return Step(fresh(IDLE), (book_texts.no_days(facts),))
    found = state.with_data(days=days, first=result.data.get("first"), last=result.data.get("last"))
    return ask_day(found, facts)


RESULTS: dict[str, ResultHandler] = {HISTORY: _history, FIND_DAYS: _days}
