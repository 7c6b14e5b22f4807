"""Fixed facts and a runner for table-driven patient dialogues.

A dialogue is a list of turns `(event, Expect(...))`, optionally with the facts of that
turn (a registration links the patient mid-dialogue). Effects are not performed: the test
feeds the `Result` the effect would give as the next turn's event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from backend.conversation import codec
from backend.conversation.model import (
    Card,
    Carousel,
    ClinicInfo,
    CourseInfo,
    Event,
    Facts,
    MediaInfo,
    PatientInfo,
    Reply,
    Say,
    StaffInfo,
    State,
    Step,
)
from backend.conversation.patient import TABLE

TOKYO = ZoneInfo("Asia/Tokyo")
# Thursday 26 November 2026, 10:00 in the clinic.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)

CLINIC = ClinicInfo(
    id=1,
    name="さくら整骨院",
    phone="+81312345678",
    address="東京都新宿区西新宿1-2-3",
    hours_text="月〜金 9:00〜12:00・15:00〜20:00\n土 9:00〜14:00\n休診日: 日・祝日",
    auto_approve=False,
    cancel_deadline_minutes=180,
)
FIRST_VISIT = CourseInfo(1, "初診（検査・施術）", 60, 3000, insurance=False, for_first_visit=True)
PELVIS = CourseInfo(2, "骨盤矯正", 30, 4400, insurance=False, for_first_visit=False)
INSURANCE = CourseInfo(3, "保険施術", 20, 500, insurance=True, for_first_visit=False)
YAMADA = StaffInfo(7, "山田 太郎")
SUZUKI = StaffInfo(8, "鈴木 花子")
MEDIA = (MediaInfo(1, "ホットペッパー"), MediaInfo(2, "Googleマップ"), MediaInfo(3, "ご紹介"))

NEWCOMER = Facts(
    now=NOW,
    clinic=CLINIC,
    courses=(FIRST_VISIT, PELVIS, INSURANCE),
    staff=(YAMADA, SUZUKI),
    media=MEDIA,
    subject="U0123456789abcdef",
)
KNOWN = replace(NEWCOMER, patient=PatientInfo(5, "佐藤 花子"))


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> str:
    """A start in 2026 as ISO 8601 in Tokyo, as the effects give them."""
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO).isoformat()


@dataclass(frozen=True)
class Expect:
    """What one turn must produce. `says`: substrings of the replies' text, in any reply;
    `choices`: every button value, in order (None = not checked); `effect` and a subset of
    its `args`; `silent`: no reply at all."""

    state: str
    says: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    effect: str | None = None
    args: Mapping[str, Any] | None = None
    silent: bool = False
    absent: tuple[str, ...] = ()


Turn = tuple[Event, Expect] | tuple[Event, Expect, Facts]


def text_of(replies: Sequence[Reply]) -> str:
    """Everything the replies would show, as one text."""
    parts: list[str] = []
    for reply in replies:
        if isinstance(reply, Say):
            parts.append(reply.text)
            if reply.date_pick:
                parts.append(reply.date_pick.label)
        elif isinstance(reply, Card):
            parts += [reply.title, reply.note, *(f"{key} {value}" for key, value in reply.rows)]
        elif isinstance(reply, Carousel):
            parts += [reply.alt, text_of(reply.cards)]
        parts += [choice.label for choice in getattr(reply, "choices", ())]
    return "\n".join(parts)


def values_of(replies: Sequence[Reply]) -> tuple[str, ...]:
    """Every button value of the replies, cards in a carousel included."""
    found: list[str] = []
    for reply in replies:
        if isinstance(reply, Carousel):
            found += values_of(reply.cards)
        else:
            found += [choice.value for choice in reply.choices]
    return tuple(found)


def check(step: Step, expect: Expect, turn: int) -> None:
    """Compare one step with what was expected, and that it all is storable JSON."""
    where = f"turn {turn}"
    assert step.state.name == expect.state, f"{where}: state {step.state.name}"
    json.dumps(dict(step.state.data))
    assert codec.load(codec.dump(step.replies)) == step.replies
    shown = text_of(step.replies)
    for words in expect.says:
        assert words in shown, f"{where}: {words!r} not in {shown!r}"
    for words in expect.absent:
        assert words not in shown, f"{where}: {words!r} in {shown!r}"
    if expect.choices is not None:
        assert values_of(step.replies) == expect.choices, f"{where}: {values_of(step.replies)}"
    if expect.silent:
        assert step.replies == (), f"{where}: {shown!r}"
    effect = step.effect.name if step.effect else None
    assert effect == expect.effect, f"{where}: effect {effect}"
    if expect.args is not None and step.effect is not None:
        args = dict(step.effect.args)
        for key, value in expect.args.items():
            assert args.get(key) == value, f"{where}: {key}={args.get(key)!r}, want {value!r}"


def run(turns: Sequence[Turn], *, facts: Facts = KNOWN, state: State | None = None) -> Step:
    """Play the turns through the patient table; return the last step."""
    state = state or State()
    last = Step(state)
    for number, turn in enumerate(turns, start=1):
        event, expect = turn[0], turn[1]
        current = turn[2] if len(turn) == 3 else facts
        last = TABLE.step(state, event, current)
        check(last, expect, number)
        state = last.state
    return last
