"""After a booking request: the confirmation SMS. A mobile caller gets it at the number
they call from; a landline (or withheld) caller may key a mobile number for it, or press
# to do without (a bare # arrives as silence, so silence here means no).
"""

from __future__ import annotations

import functools
import re

import phonenumbers

from backend.conversation import phone_book_texts as book_texts
from backend.conversation.model import Effect, Event, Facts, Result, Silence, State, Step
from backend.conversation.phone_common import (
    SMS,
    SMS_NUMBER,
    anything_else,
    heard,
    keyed,
    missed,
)

MOBILE_DIGITS = 11
_SKIP = re.compile(r".*(いらない|要らない|不要|結構|けっこう|なし|いいえ|大丈夫).*")


# Numbers whose kind is kept: parsing one costs about 50 µs, and a booking call asks of
# its caller's number three times.
NUMBERS_KEPT = 1024


@functools.lru_cache(maxsize=NUMBERS_KEPT)
def is_mobile(number: str) -> bool:
    """Whether an E.164 number is a Japanese mobile (070/080/090…), which can take SMS."""
    try:
        parsed = phonenumbers.parse(number, "JP")
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.region_code_for_number(parsed) == "JP"
        and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    )


def keyed_mobile(digits: str) -> str | None:
    """Eleven keyed digits of a Japanese mobile (09012345678) in E.164, else None."""
    if len(digits) != MOBILE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    number = "+81" + digits[1:] if digits.startswith("0") else ""
    return number if number and is_mobile(number) else None


def _number(state: State, event: Event, facts: Facts) -> Step:
    if isinstance(event, Silence) or _SKIP.fullmatch(heard(event) or ""):
        return anything_else(state, intro=(book_texts.SMS_SKIPPED,))
    number = keyed_mobile(keyed(event) or "")
    if number is None:
        return missed(state, book_texts.NOT_A_MOBILE)
    args = {"booking_id": state.data.get("booking_id"), "to": number}
    return Step(state.with_data(sms_to=number), effect=Effect(SMS, args))


def _sent(state: State, result: Result, facts: Facts) -> Step:
    """Said only when it is queued: a number that opted out of SMS gets nothing."""
    if not result.ok or not result.data.get("sent"):
        return anything_else(state)
    keyed_number = state.data.get("sms_to")
    if isinstance(keyed_number, str):
        return anything_else(state, intro=(book_texts.sms_to(keyed_number),))
    return anything_else(state, intro=(book_texts.SMS_WILL_BE_SENT,))


HANDLERS = {SMS_NUMBER: _number}
RESULTS = {SMS: _sent}
