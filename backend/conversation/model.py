"""The vocabulary of a conversation, the same for LINE and the phone.

Events come in (what the person did), replies go out (what to show or say), and effects
are requests to the backend (find free slots, make a booking) whose results come back as
events. `State` is what is remembered between events. Everything here is plain frozen
data, so a step is pure and a table-driven test can spell out a whole dialogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# Replies: what the person sees (LINE) or hears (phone).


@dataclass(frozen=True)
class Choice:
    """A button. `value` comes back as a `Picked` event; keep labels short (LINE: 20)."""

    label: str
    value: str


@dataclass(frozen=True)
class DatePick:
    """Ask for a date with a calendar (LINE's date picker); answered by `DatePicked`."""

    label: str
    value: str
    first: date
    last: date


@dataclass(frozen=True)
class Say:
    """A message, optionally with buttons (LINE quick replies; phone keypad options)."""

    text: str
    choices: tuple[Choice, ...] = ()
    date_pick: DatePick | None = None


@dataclass(frozen=True)
class Card:
    """A summary with labelled rows and buttons (LINE Flex bubble; read aloud on the phone)."""

    title: str
    rows: tuple[tuple[str, str], ...]
    choices: tuple[Choice, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Carousel:
    """Several cards side by side (LINE carousel); `alt` is the text where cards cannot show."""

    cards: tuple[Card, ...]
    alt: str


@dataclass(frozen=True)
class Expect:
    """The phone: what to listen for after the words before it (a TwiML Gather). `keys`
    is how many keypad digits make an answer (1 for a menu, 4 for 1203 or 1500); speech is
    heard too unless `speech` is False; `hints` help the recogniser (「予約」「キャンセル」)."""

    keys: int = 1
    speech: bool = True
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transfer:
    """The phone: ring the staff phones (the channel knows the numbers); the outcome comes
    back as a `Dialed` event."""


@dataclass(frozen=True)
class Hangup:
    """The phone: end the call after the words before it."""


Reply = Say | Card | Carousel | Expect | Transfer | Hangup

# Events: what the person did, or what an effect found.


@dataclass(frozen=True)
class Text:
    """Words typed in chat or heard on the phone."""

    text: str


@dataclass(frozen=True)
class Picked:
    """A button was tapped (or a key pressed for it)."""

    value: str


@dataclass(frozen=True)
class DatePicked:
    """A date was chosen in the calendar opened by a `DatePick` with this value."""

    value: str
    day: date


@dataclass(frozen=True)
class Followed:
    """The patient added the clinic as a LINE friend (or unblocked it)."""


@dataclass(frozen=True)
class Unfollowed:
    """The patient blocked the clinic's LINE account."""


@dataclass(frozen=True)
class Result:
    """What an effect found or did: `name` is the effect's, `ok` tells success, `data` the
    details (free slots, the booking made, or a refusal's `code`)."""

    name: str
    ok: bool = True
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CallStarted:
    """A phone call came in from `caller` (E.164, or "" when the number is withheld)."""

    caller: str


@dataclass(frozen=True)
class Keys:
    """Digits pressed on the phone's keypad."""

    digits: str


@dataclass(frozen=True)
class Silence:
    """The caller said and pressed nothing before the phone stopped listening."""


@dataclass(frozen=True)
class Dialed:
    """How ringing the staff phones ended."""

    answered: bool


Event = (
    Text
    | Picked
    | DatePicked
    | Followed
    | Unfollowed
    | Result
    | CallStarted
    | Keys
    | Silence
    | Dialed
)

# Effects: what the backend must do for the conversation to go on.


@dataclass(frozen=True)
class Effect:
    """A request to the backend; it answers with a `Result` of the same name."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


# State and steps.


@dataclass(frozen=True)
class State:
    """Where the conversation is, and what it has gathered (JSON-serialisable values)."""

    name: str = "idle"
    data: Mapping[str, Any] = field(default_factory=dict)

    def with_data(self, **changes: Any) -> State:
        """The same state name with some data changed (None removes a key)."""
        merged = {**self.data, **changes}
        return State(self.name, {key: value for key, value in merged.items() if value is not None})

    def to(self, name: str, **changes: Any) -> State:
        """Another state, keeping the data gathered so far."""
        return State(name, self.with_data(**changes).data)


@dataclass(frozen=True)
class Step:
    """The outcome of one event: the next state, replies, and at most one effect."""

    state: State
    replies: tuple[Reply, ...] = ()
    effect: Effect | None = None


@dataclass(frozen=True)
class CourseInfo:
    id: int
    name: str
    minutes: int
    price_yen: int
    insurance: bool
    for_first_visit: bool


@dataclass(frozen=True)
class StaffInfo:
    id: int
    name: str


@dataclass(frozen=True)
class MediaInfo:
    id: int
    name: str


@dataclass(frozen=True)
class PatientInfo:
    id: int
    name: str


@dataclass(frozen=True)
class ClinicInfo:
    id: int
    name: str
    phone: str | None
    address: str | None
    hours_text: str
    auto_approve: bool
    cancel_deadline_minutes: int
    line_add_url: str | None = None


@dataclass(frozen=True)
class Facts:
    """What a step may know without asking: read once per event by the runner. `now` is
    aware, in the clinic's zone."""

    now: datetime
    clinic: ClinicInfo
    courses: tuple[CourseInfo, ...] = ()
    staff: tuple[StaffInfo, ...] = ()
    media: tuple[MediaInfo, ...] = ()
    patient: PatientInfo | None = None
    actor: str = ""
    # Who the conversation is with: a LINE user id, "<group id>:<user id>", or a call id.
    subject: str = ""
