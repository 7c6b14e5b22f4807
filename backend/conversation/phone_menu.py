"""The start of a call and its menu: greeting (open or closed), confirming a recognised
caller, the four choices by key or by speech, the hours and address, and the end.

Data: `open` (the clinic was open when the call came in), `withheld` (no caller number),
`candidate` (the one カルテ the number matched, until the caller says it is them) and
`last_course` (that patient's last course, once they have).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from backend.conversation import phone_book as book
from backend.conversation import phone_callback as callback
from backend.conversation import phone_manage as manage
from backend.conversation import phone_texts as texts
from backend.conversation.model import Effect, Event, Facts, Result, Silence, State, Step
from backend.conversation.patient_slots import typed_when
from backend.conversation.phone_common import (
    ANYTHING_ELSE,
    CONFIRM_CALLER,
    GOODBYE,
    GREETING,
    IDENTIFY,
    MENU,
    MENU_HINTS,
    OUTCOME,
    STATUS,
    YES_NO_HINTS,
    ask,
    go,
    goodbye,
    heard,
    keyed,
    menu,
    missed,
    yes_no,
)

INFORMATION = "information"

_MANAGE = re.compile(r".*(変更|キャンセル|取り消|取消|変え|ずらし|確認).*")
_INFO = re.compile(
    r".*(何時|なんじ|診療時間|営業|受付時間|場所|住所|行き方|アクセス|どこ|休み|定休|やって).*"
)
_BOOK = re.compile(r".*(予約|よやく|取りたい|とりたい|空いて|あいて|診て|みてもら).*")


def start(state: State, event: Event, facts: Facts) -> Step:
    """A call comes in (or a call whose state was lost goes on): learn whether the clinic
    is open and whose number it is."""
    return Step(State(GREETING), effect=Effect(STATUS))


def _status(state: State, result: Result, facts: Facts) -> Step:
    open_now = bool(result.ok and result.data.get("open"))
    known = state.with_data(open=open_now, withheld=not result.data.get("caller"))
    hello = texts.greeting(facts, open_now=open_now)
    candidate = _candidate(result.data.get("patient"))
    if candidate is not None:
        confirming = go(known, CONFIRM_CALLER, candidate=candidate)
        question = texts.is_it_you(candidate["name"])
        return ask(confirming, question, intro=(hello,), hints=YES_NO_HINTS)
    return ask(go(known, GREETING), texts.MENU, intro=(hello,), hints=MENU_HINTS)


def _candidate(found: object) -> dict[str, Any] | None:
    if not isinstance(found, dict) or not isinstance(found.get("id"), int):
        return None
    course = found.get("course_id")
    return {
        "id": found["id"],
        "name": str(found.get("name", "")),
        "course_id": course if isinstance(course, int) else None,
    }


def _confirm_caller(state: State, event: Event, facts: Facts) -> Step:
    answer = yes_no(event)
    candidate = state.data.get("candidate")
    if answer is None or not isinstance(candidate, dict):
        return missed(state)
    if answer:
        return Step(state, effect=Effect(IDENTIFY, {"patient_id": candidate["id"]}))
    # Someone else on a shared phone: a new caller from here on.
    return menu(go(state, MENU, candidate=None), intro=(texts.NOT_YOU,))


def _identified(state: State, result: Result, facts: Facts) -> Step:
    candidate = state.data.get("candidate")
    if not result.ok or not isinstance(candidate, dict):
        return menu(go(state, MENU, candidate=None))
    confirmed = go(state, MENU, candidate=None, last_course=candidate.get("course_id"))
    return menu(confirmed, intro=(texts.welcome_back(str(candidate.get("name", ""))),))


def info(state: State, facts: Facts) -> Step:
    """The hours and the address, then the menu again."""
    step = menu(state, intro=(texts.info(facts),))
    return Step(step.state, step.replies, Effect(OUTCOME, {"outcome": INFORMATION}))


ACTIONS: dict[str, Callable[[State, Facts], Step]] = {
    "1": book.begin,
    "2": manage.begin,
    "3": callback.to_staff,
    "4": info,
}


def _menu(state: State, event: Event, facts: Facts) -> Step:
    """A key, or words: a wish for staff, a change, the hours, a day or time, a booking."""
    choice = keyed(event) or _intent(heard(event) or "")
    if choice in ACTIONS:
        return ACTIONS[choice](state, facts)
    when = typed_when(event, facts)
    if when is not None:
        return book.begin(state, facts, when=when)
    if _BOOK.fullmatch(heard(event) or ""):
        return book.begin(state, facts)
    return missed(state)


def _intent(words: str) -> str | None:
    """The menu key that words mean; a day or time is looked for after these."""
    if callback.wants_staff(words):
        return "3"
    if _MANAGE.fullmatch(words):
        return "2"
    return "4" if _INFO.fullmatch(words) else None


def _anything_else(state: State, event: Event, facts: Facts) -> Step:
    answer = yes_no(event)
    if answer:
        return menu(state)
    if answer is False or isinstance(event, Silence):
        return goodbye()
    return missed(state)


def _goodbye(state: State, event: Event, facts: Facts) -> Step:
    return goodbye()


def _noted(state: State, result: Result, facts: Facts) -> Step:
    """An outcome was written down; a transferred call then ends."""
    if result.data.get("outcome") == callback.TRANSFERRED:
        return callback.transferred()
    return Step(state)


HANDLERS = {
    GREETING: _menu,
    CONFIRM_CALLER: _confirm_caller,
    MENU: _menu,
    ANYTHING_ELSE: _anything_else,
    GOODBYE: _goodbye,
}
RESULTS = {STATUS: _status, IDENTIFY: _identified, OUTCOME: _noted}
