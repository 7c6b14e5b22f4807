"""Changing or cancelling by phone: the upcoming bookings of the caller's number, read one
by one; 1 cancels (asked first), 2 moves (the booking steps of phone_book), 9 goes on.

After the clinic's deadline the attendant does not cancel or move a confirmed booking:
staff are told and call back (the effects record the callback request).
Data: `bookings` (what the `list_bookings` effect found), `index` (the one being read).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from backend.conversation import phone_book as book
from backend.conversation import phone_book_texts as book_texts
from backend.conversation import phone_texts as texts
from backend.conversation.model import Effect, Event, Facts, Result, Say, State, Step
from backend.conversation.patient_common import moment
from backend.conversation.phone_common import (
    CALLBACK,
    CANCEL,
    CANCEL_CONFIRM,
    FAILED,
    LATE_CHANGE,
    LIST_BOOKINGS,
    MANAGE,
    NOT_FOUND,
    RESCHEDULE,
    YES_NO_HINTS,
    anything_else,
    ask,
    go,
    heard,
    keyed,
    menu,
    missed,
    offer_callback,
    yes_no,
)

MANAGE_HINTS = ("キャンセル", "変更", "次")
_SAID = (
    ("1", re.compile(r".*(キャンセル|取り消|取消|やめ).*")),
    ("2", re.compile(r".*(変更|変え|ずらし).*")),
    ("9", re.compile(r".*(次|つぎ|ほか|戻|もど|メニュー).*")),
)


def begin(state: State, facts: Facts) -> Step:
    """Look up the bookings of the caller's number (there is none to look up when it is
    withheld)."""
    if state.data.get("withheld"):
        return offer_callback(state, NOT_FOUND, intro=(book_texts.WITHHELD,))
    return Step(go(state, MANAGE, bookings=None, index=None), effect=Effect(LIST_BOOKINGS))


def _item(raw: object, facts: Facts) -> dict[str, Any] | None:
    """A booking as the effect listed it, or None when it is not one."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        return None
    start = moment(raw.get("start"), facts)
    if start is None:
        return None
    staff_id = raw.get("staff_id")
    return {
        "id": raw["id"],
        "start": start.isoformat(),
        "course": str(raw.get("course", "")),
        "course_id": raw.get("course_id"),
        "staff_id": staff_id if isinstance(staff_id, int) else None,
        "name": texts.surname(str(raw.get("name", ""))),
        "late": bool(raw.get("late")),
    }


def _read(state: State, index: int, *, intro: tuple[str, ...] = ()) -> Step:
    items = state.data.get("bookings", [])
    item = items[index]
    question = book_texts.booking_item(
        index,
        datetime.fromisoformat(item["start"]),
        item["name"],
        item["course"],
        last=index == len(items) - 1,
    )
    reading = go(state, MANAGE, index=index)
    return ask(reading, question, intro=intro, hints=MANAGE_HINTS)


def _current(state: State) -> dict[str, Any] | None:
    items, index = state.data.get("bookings"), state.data.get("index")
    if not isinstance(items, list) or not isinstance(index, int) or not 0 <= index < len(items):
        return None
    item = items[index]
    return item if isinstance(item, dict) else None


def _manage(state: State, event: Event, facts: Facts) -> Step:
    item = _current(state)
    if item is None:
        return menu(state)
    choice = keyed(event) or _said(heard(event) or "")
    if choice == "1":
        return _cancel(state, item)
    if choice == "2":
        return _change(state, item, facts)
    if choice == "9":
        index = int(state.data.get("index", 0)) + 1
        return _read(state, index) if index < len(state.data["bookings"]) else menu(state)
    return missed(state)


def _said(words: str) -> str | None:
    return next((key for key, pattern in _SAID if pattern.fullmatch(words)), None)


def _cancel(state: State, item: dict[str, Any]) -> Step:
    if item["late"]:  # the effect refuses and tells staff; asking first would only delay it
        return Step(state, effect=Effect(CANCEL, {"booking_id": item["id"]}))
    start = datetime.fromisoformat(item["start"])
    confirming = go(state, CANCEL_CONFIRM)
    return ask(confirming, book_texts.confirm_cancel(start), hints=YES_NO_HINTS)


def _change(state: State, item: dict[str, Any], facts: Facts) -> Step:
    if item["late"]:
        late = book_texts.too_late(facts.clinic.cancel_deadline_minutes, "変更")
        args = {"reason": LATE_CHANGE, "booking_id": item["id"]}
        return Step(state, (Say(late),), Effect(CALLBACK, args))
    return book.change(state, item)


def _cancel_confirm(state: State, event: Event, facts: Facts) -> Step:
    item = _current(state)
    answer = yes_no(event)
    if item is None:
        return menu(state)
    if answer is None:
        return missed(state)
    if answer:
        return Step(state, effect=Effect(CANCEL, {"booking_id": item["id"]}))
    return _read(state, int(state.data.get("index", 0)), intro=(book_texts.KEPT,))


HANDLERS = {MANAGE: _manage, CANCEL_CONFIRM: _cancel_confirm}


# What the effects found


def _listed(state: State, result: Result, facts: Facts) -> Step:
    if not result.ok:
        return offer_callback(state, FAILED, intro=(texts.FAILED,))
    found = [_item(raw, facts) for raw in result.data.get("bookings", [])]
    items = [item for item in found if item is not None]
    if not items:
        return offer_callback(state, NOT_FOUND, intro=(book_texts.NO_BOOKINGS,))
    listed = go(state, MANAGE, bookings=items)
    return _read(listed, 0, intro=(book_texts.bookings_found(len(items)),))


def _cancelled(state: State, result: Result, facts: Facts) -> Step:
    if result.ok:
        start = moment(result.data.get("start"), facts)
        return anything_else(state, intro=(book_texts.cancelled(start),))
    return _refused(state, result, facts, action="キャンセル")


def _rescheduled(state: State, result: Result, facts: Facts) -> Step:
    start = moment(result.data.get("start"), facts)
    if result.ok and start is not None:
        said = book_texts.moved(str(result.data.get("status")), start)
        return anything_else(state, intro=(said,))
    if result.data.get("code") == "slot_unavailable":
        return book.retry(state)
    return _refused(state, result, facts, action="変更")


def _refused(state: State, result: Result, facts: Facts, *, action: str) -> Step:
    code = result.data.get("code")
    if code == "deadline_passed":  # staff were told and call back
        late = book_texts.too_late(facts.clinic.cancel_deadline_minutes, action)
        return anything_else(state, intro=(late, texts.WILL_CALL_BACK))
    if code in ("not_found", "illegal_transition"):
        return anything_else(state, intro=(book_texts.NOT_ACTIVE,))
    return offer_callback(state, FAILED, intro=(texts.FAILED,))


RESULTS = {LIST_BOOKINGS: _listed, CANCEL: _cancelled, RESCHEDULE: _rescheduled}
