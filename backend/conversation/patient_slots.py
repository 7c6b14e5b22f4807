"""Times and confirmation: searching free starts (for a day button or for words such as
「明日の午後」), offering them, confirming one, and what the request or change did.

`search` in the data is what was asked (`When.to_json()` shape: kind, date_from, date_to,
time_from, time_to); `offer` the starts shown as buttons, `more` whether later ones exist;
`start` the time being confirmed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from backend.conversation import patient_book_texts as book_texts
from backend.conversation import patient_texts as texts
from backend.conversation import patient_waitlist as waitlist
from backend.conversation.model import Effect, Event, Facts, Result, Say, State, Step
from backend.conversation.patient_common import (
    FIND_DAYS,
    FIND_SLOTS,
    IDLE,
    NO_STAFF,
    REBOOK,
    REQUEST,
    RESCHEDULE,
    YES_WORDS,
    ResultHandler,
    course_of,
    fresh,
    moment,
    picked_day,
    raw_text,
    staff_of,
    tapped,
    typed,
)
from backend.conversation.when import parse_when

TIME, CONFIRM = "book_time", "book_confirm"
DAY = "book_day"


def typed_when(event: Event, facts: Facts) -> dict[str, Any] | None:
    """The day or time the patient typed, as JSON, or None."""
    text = raw_text(event)
    found = parse_when(text, now=facts.now) if text else None
    return dict(found.to_json()) if found else None


def chosen(state: State) -> dict[str, Any]:
    """The course and nominee being booked, as effect arguments; when a booking is being
    moved, its id too, so its own time does not count as taken."""
    staff_id = state.data.get("staff_id")
    nominee = staff_id if isinstance(staff_id, int) and staff_id != NO_STAFF else None
    args = {"course_id": state.data.get("course_id"), "staff_id": nominee}
    moving = state.data.get("booking_id")
    return args | ({"booking_id": moving} if isinstance(moving, int) else {})


def find_days(state: State) -> Step:
    """Ask for the days that have room."""
    return Step(state.to(DAY), effect=Effect(FIND_DAYS, chosen(state)))


def search_when(state: State, when: dict[str, Any]) -> Step:
    """Look for free starts in what the patient typed."""
    args = {**chosen(state), **when}
    return Step(state.to(TIME, when=None, search=when), effect=Effect(FIND_SLOTS, args))


def search_day(state: State, day: date, *, after: datetime | None = None) -> Step:
    """Look for the free starts of one day (after a given start, for 「もっと後の時間」)."""
    search: dict[str, Any] = {
        "kind": "day",
        "date_from": day.isoformat(),
        "date_to": day.isoformat(),
        "time_from": None,
        "time_to": None,
    }
    if after is not None:
        search["after"] = after.isoformat()
    args = {**chosen(state), **search}
    return Step(state.to(TIME, when=None, search=search), effect=Effect(FIND_SLOTS, args))


def confirm(state: State, facts: Facts, start: datetime) -> Step:
    """Show the summary of the booking (or change) to confirm."""
    course = course_of(facts, state.data.get("course_id"))
    if course is None:
        return Step(fresh(IDLE), (texts.stale(),))
    staff = staff_of(facts, state.data.get("staff_id"))
    previous = moment(state.data.get("previous"), facts)
    if state.data.get("mode") != "change":
        previous = None
    card = book_texts.confirm_card(facts, course, staff.name if staff else "", start, previous)
    return Step(state.to(CONFIRM, start=start.isoformat()), (card,))


def offer(state: State, facts: Facts, intro: str, starts: list[datetime], more: bool) -> Step:
    """Offer starts as buttons and wait for a tap."""
    shown = [start.isoformat() for start in starts]
    reply = book_texts.offer(intro, starts, more=more)
    return Step(state.to(TIME, offer=shown, more=more), (reply,))


def _moments(values: object, facts: Facts) -> list[datetime]:
    found = [moment(value, facts) for value in values] if isinstance(values, list) else []
    return [value for value in found if value is not None]


# Answers


def time_step(state: State, event: Event, facts: Facts) -> Step:
    """A time tapped, more times asked for, another day, or words naming a time."""
    value = tapped(event) or ""
    if value.startswith(("slot:", "more:")):
        return _tapped_time(state, value, facts)
    if value == "back":
        return find_days(state)
    day = picked_day(event)
    if day is not None:
        return _day_or_past(state, facts, day)
    when = typed_when(event, facts)
    if when is not None:
        return search_when(state, when)
    return _reoffer(state, facts)


def _tapped_time(state: State, value: str, facts: Facts) -> Step:
    """`slot:<ISO>` confirms that time; `more:<ISO>` shows the day's later times."""
    kind, _, iso = value.partition(":")
    start = moment(iso, facts)
    if start is None or start <= facts.now or "course_id" not in state.data:
        return _reoffer(state, facts, book_texts.GONE)
    if kind == "more":
        return _search_more(state, start)
    return confirm(state, facts, start)


def _search_more(state: State, after: datetime) -> Step:
    """The same search again, for starts after the last one shown."""
    search = state.data.get("search")
    if not isinstance(search, dict):
        return search_day(state, after.date(), after=after)
    search = {**search, "after": after.isoformat()}
    args = {**chosen(state), **search}
    return Step(state.to(TIME, search=search), effect=Effect(FIND_SLOTS, args))


def _day_or_past(state: State, facts: Facts, day: date) -> Step:
    if day < facts.now.date():
        return _reoffer(state, facts, book_texts.past_day(day))
    return search_day(state, day)


def _reoffer(state: State, facts: Facts, note: str = "") -> Step:
    starts = [start for start in _moments(state.data.get("offer"), facts) if start > facts.now]
    if not starts:
        return (
            find_days(state) if "course_id" in state.data else Step(fresh(IDLE), (texts.stale(),))
        )
    intro = texts.lines(note, book_texts.PICK_TIME)
    return offer(state, facts, intro, starts, bool(state.data.get("more")))


def _confirm_step(state: State, event: Event, facts: Facts) -> Step:
    answer = tapped(event) or typed(event) or ""
    start = moment(state.data.get("start"), facts)
    if start is None:
        return Step(fresh(IDLE), (texts.stale(),))
    if answer == "ok" or answer in YES_WORDS:
        return _commit(state, start)
    if answer == "back":
        return search_day(state, start.date())
    if answer.startswith(("slot:", "more:", "day:")) or typed_when(event, facts):
        return time_step(state, event, facts)
    return confirm(state, facts, start)


def _commit(state: State, start: datetime) -> Step:
    if state.data.get("mode") == "change":
        args = {"booking_id": state.data.get("booking_id"), "start": start.isoformat()}
        return Step(state, effect=Effect(RESCHEDULE, args))
    return Step(state, effect=Effect(REQUEST, {**chosen(state), "start": start.isoformat()}))


HANDLERS = {TIME: time_step, CONFIRM: _confirm_step}


# What the effects found


def _found(state: State, result: Result, facts: Facts) -> Step:
    if not result.ok:
        return Step(fresh(IDLE), (texts.failed(facts),))
    exact = moment(result.data.get("exact"), facts)
    if exact is not None:
        return confirm(state, facts, exact)
    search = state.data.get("search") or {}
    reason = str(result.data.get("reason") or "")
    starts = _moments(result.data.get("starts"), facts)
    if starts:
        intro = book_texts.found(search, reason, _nominee_name(state, facts))
        return offer(state, facts, intro, starts, bool(result.data.get("more")))
    why = book_texts.no_room(reason, search, _nominee_name(state, facts))
    alternatives = _moments(result.data.get("alternatives"), facts)
    if alternatives:
        step = offer(state, facts, texts.lines(why, book_texts.LATER), alternatives, False)
    else:
        text = texts.lines(why, book_texts.NO_ALTERNATIVES, texts.call_us(facts))
        step = Step(state.to(TIME, offer=[]), (Say(text, book_texts.OTHER_DAY),))
    return waitlist.invite(step, state, search, reason)


def _nominee_name(state: State, facts: Facts) -> str:
    staff = staff_of(facts, state.data.get("staff_id"))
    return staff.name if staff else ""


def _booked(state: State, result: Result, facts: Facts) -> Step:
    if result.ok:
        start = moment(result.data.get("start"), facts)
        status = str(result.data.get("status", ""))
        course = str(result.data.get("course", ""))
        if start is None:
            return Step(fresh(IDLE), (texts.failed(facts),))
        return Step(fresh(IDLE), (book_texts.booked(status, start, course),))
    return taken_or_failed(state, result, facts)


def taken_or_failed(state: State, result: Result, facts: Facts) -> Step:
    """A refused request or change: offer nearby times when the slot was taken."""
    code = result.data.get("code")
    if code == "slot_unavailable":
        wanted = moment(result.data.get("start"), facts)
        for key in ("course_id", "staff_id", "booking_id"):
            if isinstance(result.data.get(key), int):
                state = state.with_data(**{key: result.data[key]})
        starts = _moments(result.data.get("starts"), facts)
        if starts:
            intro = texts.lines(book_texts.taken(wanted), book_texts.NEAREST)
            return offer(state, facts, intro, starts, False)
        text = texts.lines(book_texts.taken(wanted), book_texts.NO_ALTERNATIVES)
        return Step(state.to(TIME, offer=[]), (Say(text, book_texts.OTHER_DAY),))
    if code in ("not_found", "illegal_transition"):
        return Step(fresh(IDLE), (texts.stale(),))
    return Step(fresh(IDLE), (texts.failed(facts),))


RESULTS: dict[str, ResultHandler] = {FIND_SLOTS: _found, REQUEST: _booked, REBOOK: _booked}
