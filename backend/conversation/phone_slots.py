"""Times found for a phone booking: up to three read back at a time, in time order (the
nearest to an exact time asked for come first), one picked by key (「1」), by voice
(「2番」「10時で」) or 9 for the next three; then a new caller's name and the request.

Data: `found` (free starts in the order to offer), `next` (where the next three start),
`offer` (the starts just read), `start` (the one picked), `name` (as heard).
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from backend.conversation import phone_book as book
from backend.conversation import phone_book_texts as book_texts
from backend.conversation import phone_texts as texts
from backend.conversation.model import Effect, Event, Facts, Result, Say, State, Step, Text
from backend.conversation.patient_common import moment
from backend.conversation.patient_slots import typed_when
from backend.conversation.phone_common import (
    BOOK_NAME,
    BOOK_PICK,
    FAILED,
    FIND_SLOTS,
    REQUEST,
    RESCHEDULE,
    ask,
    go,
    heard,
    keyed,
    missed,
    offer_callback,
    yes_no,
)

OFFERED = 3  # a caller keeps about three times in mind
OTHER_TIMES = "9"
PICK_HINTS = ("1番", "2番", "3番", "ほかの時間")
MAX_NAME = 50

_OTHER = re.compile(r".*(ほか|他の|別の|違う|ちがう|もっと|次).*")
_FILLERS = re.compile(r"^(?:えーと|えっと|えー|あのー|あの)[、\s]*")
_NAME_ENDS = re.compile(r"(?:です|と申します|ともうします|といいます|と言います|でございます)$")


def _pick(state: State, event: Event, facts: Facts) -> Step:
    offer = _moments(state.data.get("offer"), facts)
    digits = keyed(event)
    if digits == OTHER_TIMES or _OTHER.fullmatch(heard(event) or ""):
        return _next(state)
    if digits is not None and digits.isdigit() and 1 <= int(digits) <= len(offer):
        return picked(state, facts, offer[int(digits) - 1])
    answer = yes_no(event) if len(offer) == 1 else None
    if answer is not None:  # 「このお時間でよろしければ1」: yes takes it, no looks further
        return picked(state, facts, offer[0]) if answer else _next(state)
    when = typed_when(event, facts)
    if when is None:
        return missed(state)
    said = _said_time(offer, when)
    return picked(state, facts, said) if said else book.search(state, when)


def _said_time(offer: list[datetime], when: dict[str, Any]) -> datetime | None:
    """The start read back that a time said names: 「3時半で」 means the 15:30 offered,
    whichever day it is on; with two such, the day said decides."""
    if when.get("kind") != "exact":
        return None
    same = [start for start in offer if start.strftime("%H:%M") == when.get("time_from")]
    if len(same) > 1:
        same = [start for start in same if start.date().isoformat() == when.get("date_from")]
    return same[0] if len(same) == 1 else None


def picked(state: State, facts: Facts, start: datetime) -> Step:
    """A time was chosen: move the booking, or ask a new caller's name, or request it."""
    if start <= facts.now:
        return book.ask_when(state, intro=(book_texts.GONE,))
    chose = state.with_data(start=start.isoformat())
    if state.data.get("mode") == "change":
        args = {"booking_id": state.data.get("booking_id"), "start": start.isoformat()}
        return Step(chose, effect=Effect(RESCHEDULE, args))
    if facts.patient is None and not state.data.get("name"):
        return ask(go(chose, BOOK_NAME), book_texts.ASK_NAME)
    return _request(chose)


def _request(state: State) -> Step:
    args = {**book.chosen(state), "start": state.data.get("start"), "name": state.data.get("name")}
    return Step(state, effect=Effect(REQUEST, args))


def _name(state: State, event: Event, facts: Facts) -> Step:
    name = spoken_name(event.text) if isinstance(event, Text) else None
    if not name:
        return missed(state)
    named = state.with_data(name=name)
    step = _request(named)
    return Step(step.state, (Say(book_texts.heard_name(name)),), step.effect)


def spoken_name(text: str) -> str | None:
    """The name as heard, without 「えーと」 before it or 「です」 after it."""
    name = _NAME_ENDS.sub("", _FILLERS.sub("", text.strip().rstrip("。.、 ")))
    if not name or name.isdigit() or len(name) > MAX_NAME:
        return None
    return name


# What the effects found


def _found(state: State, result: Result, facts: Facts) -> Step:
    if not result.ok:
        return offer_callback(state, FAILED, intro=(texts.FAILED,))
    asked = state.data.get("search") or {}
    starts = _moments(result.data.get("starts"), facts)
    exact = moment(result.data.get("exact"), facts)
    if exact is not None:
        others = [start for start in _closest(starts, asked) if start != exact]
        offering = state.with_data(found=_iso([exact, *others]), next=1, offer=_iso([exact]))
        return ask(go(offering, BOOK_PICK), book_texts.exact_free(exact), hints=PICK_HINTS)
    reason = str(result.data.get("reason") or "")
    if starts:
        ordered = state.with_data(found=_iso(_closest(starts, asked)))
        return present(ordered, 0, intro=(book_texts.found(asked, reason),))
    later = _moments(result.data.get("alternatives"), facts)
    if later:
        intro = (book_texts.later(asked, reason),)
        return present(state.with_data(found=_iso(later)), 0, intro=intro)
    return book.ask_when(state, intro=(book_texts.no_room(reason, asked), book_texts.NOTHING_NEAR))


def _closest(starts: list[datetime], asked: dict[str, Any]) -> list[datetime]:
    """For an exact time, the starts nearest to it first; otherwise the earliest first."""
    target = asked.get("time_from")
    if asked.get("kind") != "exact" or not isinstance(target, str):
        return starts
    wanted = time.fromisoformat(target)
    return sorted(starts, key=lambda start: (_gap(start, wanted), start))


def _gap(start: datetime, wanted: time) -> int:
    return abs((start.hour - wanted.hour) * 60 + start.minute - wanted.minute)


def present(state: State, offset: int, *, intro: tuple[str, ...] = ()) -> Step:
    """Read the next three of the starts found, in time order."""
    found = [datetime.fromisoformat(value) for value in state.data.get("found", [])]
    shown = sorted(found[offset : offset + OFFERED])
    if not shown:
        return book.ask_when(state, intro=(*intro, book_texts.NO_MORE))
    offering = go(state, BOOK_PICK, offer=_iso(shown), next=offset + OFFERED)
    return ask(offering, book_texts.offer(shown), intro=intro, hints=PICK_HINTS)


def _next(state: State) -> Step:
    offset = state.data.get("next")
    return present(state, offset if isinstance(offset, int) else 0)


def _moments(values: object, facts: Facts) -> list[datetime]:
    found = [moment(value, facts) for value in values] if isinstance(values, list) else []
    return [value for value in found if value is not None]


def _iso(starts: list[datetime]) -> list[str]:
    return [start.isoformat() for start in starts]


HANDLERS = {BOOK_PICK: _pick, BOOK_NAME: _name}
RESULTS = {FIND_SLOTS: _found}
