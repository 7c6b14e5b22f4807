"""The patient's LINE conversation: register, book by buttons or by words, see, change and
cancel bookings, answer staff proposals.

The flows live in patient_register, patient_book, patient_slots and patient_manage; this
module puts them into one table. Its intercept answers what means the same in any state:
effect results (each routed to the flow that asked), follow and unfollow, the rich menu,
and words such as 予約, 予約確認, やめる and ヘルプ.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from backend.conversation import patient_book as book
from backend.conversation import patient_manage as manage
from backend.conversation import patient_notices as notices
from backend.conversation import patient_register as register
from backend.conversation import patient_slots as slots
from backend.conversation import patient_texts as texts
from backend.conversation import patient_waitlist as waitlist
from backend.conversation.engine import Table
from backend.conversation.model import (
    Effect,
    Event,
    Facts,
    Followed,
    Result,
    Say,
    State,
    Step,
    Unfollowed,
)
from backend.conversation.patient_common import (
    IDLE,
    REACHABLE,
    UNREACHABLE,
    ResultHandler,
    fresh,
    tapped,
    typed,
)

_BOOK = re.compile(r"予約(する|します|したい(です)?|を?お願いします|を?取りたい(です)?|希望)?")
_LIST = frozenset({"予約確認", "予約の確認", "予約を確認", "予約確認したい", "予約一覧", "確認"})
_MANAGE = re.compile(
    r"(予約[のを]?)?(変更|キャンセル|取り消し|取消)(したい(です)?|します|を?お願いします)?"
)
_STOP = frozenset({"やめる", "やめます", "やめたい", "止める", "中止", "キャンセル", "取り消し"})
_HELP = frozenset({"ヘルプ", "help", "HELP", "使い方", "メニュー", "?"})
_INFO = frozenset(
    {"診療時間", "営業時間", "受付時間", "住所", "場所", "アクセス", "行き方", "地図"}
)
_CALL = frozenset({"電話", "電話番号", "電話する"})


Action = Callable[[State, Facts], Step | None]


def start_booking(state: State, facts: Facts, when: dict[str, Any] | None = None) -> Step:
    """予約: registration first for someone not yet linked to a カルテ."""
    if facts.patient is not None:
        return book.begin(when=when)
    if state.name in register.STATES:
        return register.ask_again(state.with_data(then="book", when=when), facts, texts.BOOK_FIRST)
    return register.start(fresh(IDLE, then="book", when=when), facts, for_booking=True)


def _show_list(state: State, facts: Facts) -> Step:
    if facts.patient is None:
        return register.start(fresh(IDLE), facts, intro=texts.NO_BOOKINGS_YET)
    return manage.show_list()


def _followed(facts: Facts) -> Step:
    if facts.patient is not None:
        return Step(fresh(IDLE), effect=Effect(REACHABLE))
    return register.start(fresh(IDLE), facts, intro=texts.greeting(facts))


def _reachable(state: State, result: Result, facts: Facts) -> Step:
    if facts.patient is None:
        return _followed(facts)
    return Step(fresh(IDLE), (texts.welcome_back(facts, facts.patient.name),))


def _unreachable(state: State, result: Result, facts: Facts) -> Step:
    return Step(fresh(IDLE))  # blocked: nothing can be said


RESULTS: dict[str, ResultHandler] = {
    **register.RESULTS,
    **book.RESULTS,
    **slots.RESULTS,
    **manage.RESULTS,
    **notices.RESULTS,
    **waitlist.RESULTS,
    REACHABLE: _reachable,
    UNREACHABLE: _unreachable,
}


def _stop(state: State, facts: Facts) -> Step:
    if state.name == IDLE:
        return Step(state, (texts.help_(facts),))
    return Step(fresh(IDLE), (texts.stopped(),))


def _cancel_word(state: State, facts: Facts) -> Step | None:
    """「キャンセル」 stops a flow; with nothing going on it means cancelling a booking. Asked
    whether to cancel a booking it could mean either, so the question is asked again."""
    if state.name == manage.CANCEL_CONFIRM:
        return None
    return _show_list(state, facts) if state.name == IDLE else _stop(state, facts)


def _register(value: str) -> Action:
    def start(state: State, facts: Facts) -> Step:
        if facts.patient is not None:
            return Step(fresh(IDLE), (texts.already_registered(facts.patient.name),))
        begin = register.start_new if value == "reg:new" else register.start_existing
        return begin(state if state.name in register.STATES else fresh(IDLE), facts)

    return start


def _say(reply: Callable[[Facts], Say]) -> Action:
    return lambda state, facts: Step(state, (reply(facts),))


_TAPS: dict[str, Action] = {
    "menu:book": start_booking,
    "menu:list": _show_list,
    "menu:info": _say(texts.info),
    "menu:call": _say(texts.call),
    "stop": lambda state, facts: Step(fresh(IDLE), (texts.stopped(),)),
    "reg:new": _register("reg:new"),
    "reg:existing": _register("reg:existing"),
}

_WORDS: tuple[tuple[Callable[[str], object], Action], ...] = (
    (waitlist.WORDS.__contains__, waitlist.show),
    (_BOOK.fullmatch, start_booking),
    (_LIST.__contains__, _show_list),
    ("キャンセル".__eq__, _cancel_word),
    (_STOP.__contains__, _stop),
    (_MANAGE.fullmatch, _show_list),
    (_HELP.__contains__, _say(texts.help_)),
    (_INFO.__contains__, _say(texts.info)),
    (_CALL.__contains__, _say(texts.call)),
    *notices.WORDS,
)


def _tap(state: State, value: str, facts: Facts) -> Step | None:
    """Rich menu and buttons that work from any state."""
    action = _TAPS.get(value)
    if action is not None:
        return action(state, facts)
    if facts.patient is not None and (notice := notices.tapped(value, facts)) is not None:
        return notice
    step = manage.tapped_booking(value) or waitlist.tapped(value)
    if step is not None and facts.patient is None:
        return Step(fresh(IDLE), (texts.stale(),))
    return step


def _words(state: State, words: str, facts: Facts) -> Step | None:
    """Words that mean the same in any state."""
    for means, action in _WORDS:
        if means(words):
            return action(state, facts)
    return None


def _intercept(state: State, event: Event, facts: Facts) -> Step | None:
    if isinstance(event, Result):
        answer = RESULTS.get(event.name)
        return answer(state, event, facts) if answer else Step(fresh(IDLE), (texts.failed(facts),))
    if isinstance(event, Followed):
        return _followed(facts)
    if isinstance(event, Unfollowed):
        return Step(fresh(IDLE), effect=Effect(UNREACHABLE))
    value = tapped(event)
    if value is not None:
        return _tap(state, value, facts)
    words = typed(event)
    return _words(state, words, facts) if words is not None else None


def _idle(state: State, event: Event, facts: Facts) -> Step:
    """Words naming a day or time start a booking; anything else gets the menu."""
    when = slots.typed_when(event, facts)
    if when is not None:
        return start_booking(state, facts, when)
    if typed(event) is None:
        return Step(fresh(IDLE), (texts.stale(),))  # a button from an old message
    if facts.patient is None:
        return register.start(fresh(IDLE), facts, intro=texts.unregistered(facts))
    return Step(fresh(IDLE), (texts.help_(facts),))


TABLE = Table(
    name="patient",
    handlers={
        IDLE: _idle,
        **register.HANDLERS,
        **book.HANDLERS,
        **slots.HANDLERS,
        **manage.HANDLERS,
    },
    intercept=_intercept,
)
