"""Reaching a person: ringing the staff phones in opening hours, and otherwise (or when
nobody picks up) a callback request — never voicemail.

Data: `reason` (why the callback is offered, see phone_common), `open`, `withheld`.
"""

from __future__ import annotations

import re

import phonenumbers

from backend.conversation import phone_texts as texts
from backend.conversation.model import (
    Dialed,
    Effect,
    Event,
    Facts,
    Hangup,
    Result,
    Say,
    State,
    Step,
    Transfer,
)
from backend.conversation.phone_common import (
    CALLBACK,
    CALLBACK_NUMBER,
    CALLBACK_OFFER,
    CLOSED,
    FAILED,
    GOODBYE,
    LATE_CHANGE,
    NO_ANSWER,
    OUTCOME,
    TRANSFER,
    ask,
    go,
    goodbye,
    keyed,
    menu,
    missed,
    offer_callback,
    yes_no,
)

TRANSFERRED = "transferred"

_STAFF = re.compile(
    r".*(スタッフ|オペレーター|先生|担当の|受付の(?:人|方|かた)|(?:人|ひと|方|かた)と(?:話|はな)"
    r"|話したい|はなしたい|話せ|はなせ|つないで|繋いで|代わって|かわって).*"
)


def wants_staff(words: str) -> bool:
    """Whether the caller asks for a person (「受付の人と話したい」)."""
    return bool(_STAFF.fullmatch(words))


def to_staff(state: State, facts: Facts) -> Step:
    """In opening hours ring the staff phones; outside them offer a callback."""
    if state.data.get("open"):
        return Step(go(state, TRANSFER), (Say(texts.CONNECTING), Transfer()))
    return offer_callback(state, CLOSED, intro=(texts.CLOSED_FOR_STAFF,))


def dialed(state: State, event: Dialed) -> Step:
    """How ringing ended: put through (the call is done), or back to the attendant."""
    if event.answered:
        return Step(State(GOODBYE), effect=Effect(OUTCOME, {"outcome": TRANSFERRED}))
    return offer_callback(state, NO_ANSWER, intro=(texts.NO_ANSWER,))


def transferred() -> Step:
    """The caller spoke with staff: nothing more to say."""
    return Step(State(GOODBYE), (Hangup(),))


def _transfer(state: State, event: Event, facts: Facts) -> Step:
    if isinstance(event, Dialed):
        return dialed(state, event)
    # Words or keys while the phones ring never reach us; a stray event offers a callback.
    return offer_callback(state, NO_ANSWER, intro=(texts.NO_ANSWER,))


def _offer(state: State, event: Event, facts: Facts) -> Step:
    answer = yes_no(event)
    if answer is None:
        return missed(state)
    if not answer:
        return menu(state)
    if state.data.get("withheld"):
        return ask(go(state, CALLBACK_NUMBER), texts.CALLBACK_NUMBER, keys=11)
    return Step(state, effect=Effect(CALLBACK, {"reason": state.data.get("reason", FAILED)}))


def _number(state: State, event: Event, facts: Facts) -> Step:
    number = any_number(keyed(event) or "")
    if number is None:
        return missed(state, texts.NOT_A_NUMBER)
    args = {"reason": state.data.get("reason", FAILED), "number": number}
    return Step(state, effect=Effect(CALLBACK, args))


def any_number(digits: str) -> str | None:
    """A Japanese phone number keyed from its area code, in E.164; None if it is not one."""
    if not digits.isascii() or not digits.isdigit() or not digits.startswith("0"):
        return None
    try:
        number = phonenumbers.parse(digits, "JP")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _called_back(state: State, result: Result, facts: Facts) -> Step:
    if not result.ok:
        return goodbye(texts.FAILED, texts.GOODBYE)
    if result.data.get("reason") == LATE_CHANGE:  # the caller was just told why
        return goodbye(texts.WILL_CALL_BACK, texts.GOODBYE)
    return goodbye(texts.CALLING_BACK, texts.GOODBYE)


HANDLERS = {TRANSFER: _transfer, CALLBACK_OFFER: _offer, CALLBACK_NUMBER: _number}
RESULTS = {CALLBACK: _called_back}
