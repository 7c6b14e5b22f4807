"""Pieces the phone conversation modules share: state and effect names, reading what the
caller said or pressed, and the steps every flow ends in (ask, the menu, the callback
offer, goodbye).

A question is remembered in the state (`asked`: its words, keys and hints), so a caller
who was not understood hears exactly that question again, whichever flow asked it.
`misses` counts the answers not understood since the last question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from backend.conversation import phone_book_texts as book_texts
from backend.conversation import phone_texts as texts
from backend.conversation.model import Event, Expect, Hangup, Keys, Reply, Say, State, Step, Text

# States. GREETING is the menu asked for the first time: hanging up there is a missed call.
IDLE = "idle"
GREETING = "greeting"
CONFIRM_CALLER = "confirm_caller"
MENU = "menu"
BOOK_WHEN = "book_when"
BOOK_HOUR = "book_hour"
BOOK_PICK = "book_pick"
BOOK_NAME = "book_name"
SMS_NUMBER = "sms_number"
MANAGE = "manage"
CANCEL_CONFIRM = "cancel_confirm"
TRANSFER = "transfer"
CALLBACK_OFFER = "callback_offer"
CALLBACK_NUMBER = "callback_number"
ANYTHING_ELSE = "anything_else"
GOODBYE = "goodbye"

# Effects (performed in backend/dialogue/phone_effects.py).
STATUS = "status"
IDENTIFY = "identify"
FIND_SLOTS = "find_slots"
REQUEST = "request"
LIST_BOOKINGS = "list_bookings"
CANCEL = "cancel"
RESCHEDULE = "reschedule"
CALLBACK = "callback"
SMS = "sms"
OUTCOME = "outcome"

# Why a callback is offered; staff read it on the card (phone_texts.CALLBACK_REASONS).
NO_ANSWER, CLOSED, UNCLEAR, FAILED, NOT_FOUND, LATE_CHANGE = (
    "no_answer",
    "closed",
    "unclear",
    "failed",
    "not_found",
    "late_change",
)

MENU_HINTS = ("予約", "変更", "キャンセル", "スタッフ", "診療時間", "場所")
YES_NO_HINTS = ("はい", "いいえ")

_CLOSING = re.compile(r"[\s。．.!！?？、,]+$")
_KATAKANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
_NUMBER_NOISE = re.compile(r"[\s\-‐−ー、。,.]")
_SPOKEN_DIGITS = {
    "ぜろ": "0",
    "れい": "0",
    "いち": "1",
    "に": "2",
    "さん": "3",
    "よん": "4",
    "ご": "5",
    "ろく": "6",
    "なな": "7",
    "はち": "8",
    "きゅう": "9",
}
_KANJI_DIGITS = "〇一二三四五六七八九"
_DIGIT_WORD = "|".join(sorted(_SPOKEN_DIGITS, key=len, reverse=True))
# 「1」「1番」「一番目」「いちばんで」「2番でお願いします」: a number said where one is asked.
_SPOKEN_NUMBER = re.compile(
    rf"(?P<number>[0-9]+|[{_KANJI_DIGITS}]|{_DIGIT_WORD})"
    r"(?:ばんめ|ばん|番目|番)?(?:です|で(?:おねがいします|お願いします)?|を?(?:おねがいします|お願いします))?"
)
_YES = re.compile(r"(はい|ええ|うん|そう|お願い|おねがい|本人|ほんにん).*")
_NO = re.compile(r"(いいえ|いえ|違|ちが|いや|結構|けっこう|不要|いらない|要らない).*")


def heard(event: Event) -> str | None:
    """The words heard, width-folded, without surrounding space and closing marks."""
    if not isinstance(event, Text):
        return None
    return _CLOSING.sub("", unicodedata.normalize("NFKC", event.text).strip())


def keyed(event: Event) -> str | None:
    """The digits pressed, or a number said where one is expected (「いち」「1番」「一番目」)."""
    if isinstance(event, Keys):
        return event.digits.strip().rstrip("#")
    words = heard(event)
    if not words:
        return None
    folded = _NUMBER_NOISE.sub("", words.translate(_KATAKANA))
    found = _SPOKEN_NUMBER.fullmatch(folded)
    if found is None:
        return None
    number = found["number"]
    if number in _SPOKEN_DIGITS:
        return _SPOKEN_DIGITS[number]
    if number in _KANJI_DIGITS:
        return str(_KANJI_DIGITS.index(number))
    return number


def yes_no(event: Event) -> bool | None:
    """1 or 「はい」 is yes, 2 or 「いいえ」 no; None for anything else."""
    key = keyed(event)
    if key in ("1", "2"):
        return key == "1"
    words = heard(event)
    if not words:
        return None
    if _NO.fullmatch(words):
        return False
    return True if _YES.fullmatch(words) else None


def go(state: State, name: str, **changes: Any) -> State:
    """Another state, keeping what was gathered; a new step starts with no misses."""
    return state.to(name, misses=None, **changes)


def ask(
    state: State,
    question: str,
    *,
    intro: Sequence[str] = (),
    keys: int = 1,
    hints: Sequence[str] = (),
) -> Step:
    """Say `intro`, then ask `question` and listen; the question is kept for a reprompt."""
    asked = {"text": question, "keys": keys, "hints": list(hints)}
    said = "".join((*intro, question))
    return Step(
        state.with_data(asked=asked, misses=None),
        (Say(said), Expect(keys=keys, hints=tuple(hints))),
    )


def reask(state: State, note: str) -> Step:
    """The question of this state again, after `note`."""
    asked = state.data.get("asked")
    if not isinstance(asked, dict):
        return menu(state, intro=(note,))
    question = str(asked.get("text", ""))
    keys = asked["keys"] if isinstance(asked.get("keys"), int) else 1
    hints = tuple(str(hint) for hint in asked.get("hints", []))
    return Step(state, (Say(note + question), Expect(keys=keys, hints=hints)))


def missed(state: State, note: str = "") -> Step:
    """Not understood (or silence): ask once more; the second time, offer a callback; where
    a callback was already offered for this, end the call politely."""
    misses = int(state.data.get("misses", 0)) + 1
    gave_up = state.name == CALLBACK_OFFER and state.data.get("reason") == UNCLEAR
    if gave_up or (misses >= 2 and state.name in (CALLBACK_OFFER, CALLBACK_NUMBER, GOODBYE)):
        return goodbye(texts.FAR_AWAY)
    if misses >= 2 and state.name == SMS_NUMBER:  # the request is made: just do without
        return anything_else(state, intro=(book_texts.SMS_SKIPPED,))
    if misses >= 2:
        return offer_callback(state, UNCLEAR, intro=(texts.NOT_HEARD,))
    return reask(state.with_data(misses=misses), note or texts.AGAIN)


def menu(state: State, *, intro: Sequence[str] = ()) -> Step:
    """Ask what the call is about."""
    return ask(go(state, MENU), texts.MENU, intro=intro, hints=MENU_HINTS)


def anything_else(state: State, *, intro: Sequence[str] = ()) -> Step:
    """After something is done: anything more, or goodbye."""
    return ask(go(state, ANYTHING_ELSE), texts.ANYTHING_ELSE, intro=intro, hints=YES_NO_HINTS)


def offer_callback(state: State, reason: str, *, intro: Sequence[str] = ()) -> Step:
    """Offer to have staff call back (the attendant's answer to everything it cannot do)."""
    offering = go(state, CALLBACK_OFFER, reason=reason)
    return ask(offering, texts.CALLBACK_OFFER, intro=intro, hints=YES_NO_HINTS)


def goodbye(*words: str) -> Step:
    """End the call after a few polite words."""
    said: tuple[Reply, ...] = (Say("".join(words or (texts.GOODBYE,))), Hangup())
    return Step(State(GOODBYE), said)
