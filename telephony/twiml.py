"""The attendant's replies as TwiML: what the caller hears, and what the call does next.

Words are `<Say language="ja-JP">`. An `Expect` puts the words before it inside a
`<Gather>` (so the caller may answer while they are still spoken) and follows it with a
`<Redirect>` to the same next turn, so silence never falls through to a hang-up. A
`Transfer` rings every staff phone at once; a `Hangup`, or a turn that asks nothing more,
ends the call. Every URL is absolute, built from UKETSUKE_PUBLIC_BASE_URL, and carries
the number of the turn it starts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from twilio.twiml.voice_response import VoiceResponse

from backend.conversation.model import (
    Card,
    Carousel,
    Expect,
    Hangup,
    Reply,
    Say,
    Transfer,
)

LANGUAGE = "ja-JP"
VOICE_PATH = "/twilio/voice"
TURN_PATH = "/twilio/voice/turn"
DIALED_PATH = "/twilio/voice/dialed"
STATUS_PATH = "/twilio/status"
FALLBACK_PATH = "/twilio/fallback"
# Seconds of silence after the words before the Gather gives up (Twilio's default).
GATHER_TIMEOUT = 5
# Rendered documents kept: the greeting, the menu and most prompts are the same for every
# call of a line, and building the XML cost more than the rest of a simple turn's answer.
RENDERED = 256

SORRY = "申し訳ございません。ただいまお電話を承ることができませんでした。"
CALL_AGAIN = "恐れ入りますが、しばらくしてからおかけ直しください。"
GOODBYE = "お電話ありがとうございました。失礼いたします。"


@dataclass(frozen=True)
class Line:
    """What rendering needs to know about the phone line a call came in on."""

    base_url: str
    voice: str
    staff_numbers: tuple[str, ...]
    ring_seconds: int
    # Shown on the staff phones when a call is put through: the clinic's own (Twilio)
    # number, which Twilio always accepts as a caller ID.
    caller_id: str


def turn_url(line: Line, turn: int) -> str:
    """Where the answer of `turn` is posted."""
    return f"{line.base_url}{TURN_PATH}?n={turn}"


def dialed_url(line: Line, turn: int) -> str:
    """Where the outcome of ringing the staff phones is posted."""
    return f"{line.base_url}{DIALED_PATH}?n={turn}"


def render(replies: Iterable[Reply], *, line: Line, next_turn: int) -> str:
    """TwiML for one turn's replies; `next_turn` numbers what the caller does next."""
    key = (tuple(replies), line, next_turn)
    try:
        hash(key)
    except TypeError:  # a reply holding a list: rendered every time
        return _render(*key)
    return _rendered(*key)


@functools.lru_cache(maxsize=RENDERED)
def _rendered(replies: tuple[Reply, ...], line: Line, next_turn: int) -> str:
    return _render(replies, line, next_turn)


# What the words of a turn lead to: listening (the Expect), ringing the staff, or the end.
Ending = Expect | Transfer | None


def _render(replies: tuple[Reply, ...], line: Line, next_turn: int) -> str:
    """The document of a turn's shape (how many sentences, what they lead to), built by
    Twilio's library once per shape and kept, with this turn's sentences written in. A
    slot search or a booking reads out times and names no other turn says: building
    their XML each time cost a tenth of such a turn."""
    words: list[str] = []
    ending: Ending = None
    for reply in replies:
        if isinstance(reply, Expect | Transfer):
            ending = reply
            break
        if isinstance(reply, Hangup):
            break
        words.extend(_spoken(reply))
    if any(_MARK in text for text in words):  # cannot be told from a blank: built whole
        return _built(words, ending, line, next_turn)
    document = _shaped(len(words), ending, line, next_turn)
    for number, text in enumerate(words):
        document = document.replace(_blank(number), escape(text), 1)
    return document


# Private-use characters around a blank's number: left alone by the XML writer.
_MARK = "\ue000"


def _blank(number: int) -> str:
    return f"{_MARK}{number}\ue001"


@functools.lru_cache(maxsize=RENDERED)
def _shaped(sentences: int, ending: Ending, line: Line, next_turn: int) -> str:
    return _built([_blank(number) for number in range(sentences)], ending, line, next_turn)


def _built(words: list[str], ending: Ending, line: Line, next_turn: int) -> str:
    """The document, built by Twilio's library."""
    response = VoiceResponse()
    match ending:
        case Expect():
            _gather(response, ending, words, line, next_turn)
        case Transfer():
            _say_all(response, words, line)
            _dial(response, line, next_turn)
        case None:  # nothing more to wait for: the call ends after the words
            _say_all(response, words, line)
            response.hangup()
    return str(response)


def _spoken(reply: Reply) -> list[str]:
    """A reply as sentences to read aloud (cards are LINE's; on the phone they are read)."""
    match reply:
        case Say(text=text):
            return [text] if text.strip() else []
        case Card(title=title, rows=rows, note=note):
            parts = [title, *(f"{label}は{value}" for label, value in rows), note]
            return ["。".join(part for part in parts if part)]
        case Carousel(alt=alt):
            return [alt] if alt.strip() else []
    return []


def _say(target: VoiceResponse, text: str, line: Line) -> None:
    if line.voice:
        target.say(text, language=LANGUAGE, voice=line.voice)
    else:
        target.say(text, language=LANGUAGE)


def _say_all(target: VoiceResponse, words: list[str], line: Line) -> None:
    for text in words:
        _say(target, text, line)


def _gather(
    response: VoiceResponse, expect: Expect, words: list[str], line: Line, next_turn: int
) -> None:
    action = turn_url(line, next_turn)
    attributes: dict[str, object] = {
        "input": "speech dtmf" if expect.speech else "dtmf",
        "language": LANGUAGE,
        "action": action,
        "method": "POST",
        # An answer of silence still comes to the action URL, as a turn of its own.
        "action_on_empty_result": True,
        "timeout": GATHER_TIMEOUT,
        "num_digits": max(expect.keys, 1),
    }
    if expect.speech:
        attributes["speech_timeout"] = "auto"
    if expect.keys > 1:
        # Callers may end a short answer early: 「1203#」.
        attributes["finish_on_key"] = "#"
    if expect.hints:
        attributes["hints"] = ",".join(expect.hints)
    gather = response.gather(**attributes)
    _say_all(gather, words, line)
    # Reached only if the Gather ends without posting: the call goes on, not off.
    response.redirect(action, method="POST")


def _dial(response: VoiceResponse, line: Line, next_turn: int) -> None:
    dial = response.dial(
        timeout=line.ring_seconds,
        action=dialed_url(line, next_turn),
        method="POST",
        caller_id=line.caller_id or None,
    )
    for number in line.staff_numbers:
        dial.number(number)


def apology(voice: str) -> str:
    """Safe TwiML when a turn could not be handled: an apology, call again, goodbye."""
    line = Line(base_url="", voice=voice, staff_numbers=(), ring_seconds=0, caller_id="")
    response = VoiceResponse()
    _say_all(response, [SORRY, CALL_AGAIN, GOODBYE], line)
    response.hangup()
    return str(response)


def fallback(voice: str, *, clinic_name: str | None, has_line: bool | None) -> str:
    """Twilio's fallback: the same apology, and that the clinic can be reached on LINE.
    `clinic_name` and `has_line` are what earlier calls told this process (None: unknown)."""
    line = Line(base_url="", voice=voice, staff_numbers=(), ring_seconds=0, caller_id="")
    words = [f"お電話ありがとうございます。{clinic_name}です。" if clinic_name else "", SORRY]
    if has_line is not False:
        where = f"{clinic_name}のLINE公式アカウント" if clinic_name else "当院のLINE公式アカウント"
        words.append(f"ご予約やお問い合わせは、{where}からも承っております。")
    words += [CALL_AGAIN, GOODBYE]
    response = VoiceResponse()
    _say_all(response, [text for text in words if text], line)
    response.hangup()
    return str(response)
