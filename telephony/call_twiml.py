"""What the terminal phone understands of TwiML, and how typed lines become what a caller
does: pure functions, no I/O.

Twilio plays a TwiML document's verbs in order. A <Gather> that hears something (or hears
nothing but has actionOnEmptyResult) posts to its action and the rest of the document is
dropped; one that times out empty falls through to the next verb, usually a <Redirect>.
A <Dial> with an action posts how the dial went there; the end of the document, or a
<Hangup/>, ends the call.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree import ElementTree

DEFAULT_FINISH_ON_KEY = "#"
DEFAULT_DIAL_TIMEOUT = 30
KEYS = re.compile(r"^[0-9*#]+$")
CONFIDENCE = "0.92"  # what a clear Japanese utterance typically scores


@dataclass(frozen=True)
class Say:
    """Words the attendant speaks."""

    text: str


@dataclass(frozen=True)
class Gather:
    """The attendant listens: for keys, speech or both; posts what it heard to `action`
    (None: the document's own URL)."""

    action: str | None
    keys: bool
    speech: bool
    num_digits: int | None = None
    finish_on_key: str = DEFAULT_FINISH_ON_KEY
    on_empty: bool = False
    says: tuple[str, ...] = ()
    hints: str = ""


@dataclass(frozen=True)
class Redirect:
    """Fetch the next TwiML from `url`."""

    url: str


@dataclass(frozen=True)
class Dial:
    """Ring `numbers`; how it went is posted to `action`, if there is one."""

    action: str | None
    numbers: tuple[str, ...]
    timeout: int = DEFAULT_DIAL_TIMEOUT


@dataclass(frozen=True)
class Hangup:
    """The attendant ends the call."""


@dataclass(frozen=True)
class Pause:
    """Silence for a few seconds."""

    seconds: int


@dataclass(frozen=True)
class Other:
    """A verb the terminal phone does not act on (Play, Record, Sms …): shown, skipped."""

    name: str


Verb = Say | Gather | Redirect | Dial | Hangup | Pause | Other


class NotTwiML(ValueError):
    """The answer is not a TwiML <Response> document."""


def parse(document: str) -> list[Verb]:
    """The verbs of a TwiML document, in the order Twilio would play them."""
    try:
        # The document comes from the uketsuke server the user chose to call; expat
        # (2.4.1+, shipped with Python 3.11) refuses entity-expansion bombs anyway.
        root = ElementTree.fromstring(document)  # noqa: S314
    except ElementTree.ParseError as error:
        raise NotTwiML(f"not XML: {error}") from error
    if root.tag != "Response":
        raise NotTwiML(f"the root element is <{root.tag}>, not <Response>")
    return [_verb(element) for element in root]


def _verb(element: ElementTree.Element) -> Verb:
    read = _READERS.get(element.tag)
    return read(element) if read else Other(element.tag)


def _text(element: ElementTree.Element) -> str:
    return "".join(element.itertext()).strip()


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _gather(element: ElementTree.Element) -> Gather:
    attributes = element.attrib
    inputs = attributes.get("input", "dtmf").split()
    return Gather(
        action=attributes.get("action"),
        keys="dtmf" in inputs,
        speech="speech" in inputs,
        num_digits=_int(attributes.get("numDigits"), 0) or None,
        finish_on_key=attributes.get("finishOnKey", DEFAULT_FINISH_ON_KEY),
        on_empty=attributes.get("actionOnEmptyResult", "false").lower() == "true",
        says=tuple(_text(child) for child in element if child.tag == "Say"),
        hints=attributes.get("hints", ""),
    )


def _dial(element: ElementTree.Element) -> Dial:
    children = [_text(child) for child in element if child.tag in ("Number", "Client", "Sip")]
    # <Dial>+81…</Dial> is a number too.
    numbers = tuple(children) or ((element.text or "").strip(),)
    return Dial(
        action=element.attrib.get("action"),
        numbers=tuple(number for number in numbers if number),
        timeout=_int(element.attrib.get("timeout"), DEFAULT_DIAL_TIMEOUT),
    )


_READERS: dict[str, Callable[[ElementTree.Element], Verb]] = {
    "Say": lambda element: Say(_text(element)),
    "Gather": _gather,
    "Redirect": lambda element: Redirect(_text(element)),
    "Dial": _dial,
    "Hangup": lambda element: Hangup(),
    "Reject": lambda element: Hangup(),
    "Pause": lambda element: Pause(_int(element.attrib.get("length"), 1)),
}


def listening_for(gather: Gather) -> str:
    """What the Gather waits for, in the simulator's words: 「1 key or speech」."""
    if gather.num_digits is None:
        count = f"keys ending with {gather.finish_on_key}" if gather.finish_on_key else "keys"
    else:
        count = f"{gather.num_digits} key" + ("s" if gather.num_digits > 1 else "")
    if gather.keys and gather.speech:
        return f"{count} or speech"
    return count if gather.keys else "speech"


class CannotAnswer(ValueError):
    """What was typed is not something this Gather can hear; the text says why."""


def normalised(typed: str) -> str:
    """The line as a phone would take it: full-width digits made ASCII, ends trimmed."""
    return unicodedata.normalize("NFKC", typed).strip()


def as_keys(typed: str) -> str | None:
    """The keys a line stands for (「090-1234-5678」 → 09012345678), or None for words."""
    packed = re.sub(r"[\s\-]", "", normalised(typed))
    return packed if packed and KEYS.match(packed) else None


def heard(typed: str, gather: Gather) -> dict[str, str] | None:
    """The parameters Twilio posts to the Gather's action for a typed line: Digits for
    keys, SpeechResult for words, none for silence. None when silence posts nothing
    (no actionOnEmptyResult: Twilio moves on to the verb after the Gather)."""
    text = normalised(typed)
    if not text:
        return {} if gather.on_empty else None
    keys = as_keys(text)
    if keys is not None and gather.keys:
        return {"Digits": _pressed(keys, gather)}
    if gather.speech:
        return {"SpeechResult": text, "Confidence": CONFIDENCE}
    raise CannotAnswer("this prompt listens for keys only: type digits (0-9, * or #)")


def _pressed(keys: str, gather: Gather) -> str:
    """The digits Twilio reports: up to the finish key, at most numDigits of them."""
    if gather.finish_on_key and gather.finish_on_key in keys:
        keys = keys[: keys.index(gather.finish_on_key)]
    return keys[: gather.num_digits] if gather.num_digits else keys
