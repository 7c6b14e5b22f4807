"""The phone table's start, menu, staff and silence paths, table-driven; and the script
runner the other phone table tests share.

A script is a list of turns `(event, Hear(...))`: the state after the turn, words the
caller hears, how many keys the turn then listens for, and the effect asked for (whose
`Result` the test gives as the next event). Facts are fixed: さくら整骨院, Thursday
2026-11-26 10:00 in Tokyo.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from backend.conversation.model import (
    CallStarted,
    Dialed,
    Event,
    Expect,
    Facts,
    Hangup,
    Keys,
    PatientInfo,
    Reply,
    Result,
    Say,
    Silence,
    State,
    Step,
    Text,
    Transfer,
)
from backend.conversation.phone import TABLE
from tests.conversation.patient_dialogue import CLINIC, FIRST_VISIT, NOW, PELVIS, SUZUKI, YAMADA

MOBILE = "+819012345678"
LANDLINE = "+81312345679"
LINE_URL = "https://lin.ee/sakura"

FACTS = Facts(
    now=NOW,
    clinic=replace(CLINIC, line_add_url=LINE_URL),
    courses=(FIRST_VISIT, PELVIS),
    staff=(YAMADA, SUZUKI),
    subject="CA0123456789abcdef",
)
SATO = replace(FACTS, patient=PatientInfo(5, "佐藤 花子"))
MENU_WORDS = "ご予約は1、ご予約の変更・キャンセルは2"
AGAIN = "もう一度お願いいたします"
OFFER = "折り返しお電話いたしましょうか"


@dataclass(frozen=True)
class Hear:
    """What one turn must produce: the state after it, words said (in order of the
    list, anywhere in the turn), how many keys it then listens for (None: it ends the
    call, rings staff, or asks the backend first), the effect and some of its args;
    `quiet`: a result that only noted something (the step before it listened)."""

    state: str
    says: tuple[str, ...] = ()
    keys: int | None = None
    effect: str | None = None
    args: Mapping[str, Any] | None = None
    ends: type[Reply] | None = None
    absent: tuple[str, ...] = ()
    quiet: bool = False


Turn = tuple[Event, Hear] | tuple[Event, Hear, Facts]


def spoken(replies: Sequence[Reply]) -> str:
    """Everything the caller hears in a turn."""
    return "".join(reply.text for reply in replies if isinstance(reply, Say))


def check(step: Step, hear: Hear, turn: int) -> None:
    """Compare one step with what was expected; its state must stay storable JSON."""
    where = f"turn {turn}"
    assert step.state.name == hear.state, f"{where}: state {step.state.name}"
    json.dumps(dict(step.state.data))
    said = spoken(step.replies)
    for words in hear.says:
        assert words in said, f"{where}: {words!r} not in {said!r}"
    for words in hear.absent:
        assert words not in said, f"{where}: {words!r} in {said!r}"
    effect = step.effect.name if step.effect else None
    assert effect == hear.effect, f"{where}: effect {effect}"
    for key, value in (hear.args or {}).items():
        assert step.effect is not None
        assert step.effect.args.get(key) == value, f"{where}: {key}={step.effect.args.get(key)!r}"
    last = step.replies[-1] if step.replies else None
    if hear.keys is not None:
        assert isinstance(last, Expect), f"{where}: ends with {last!r}"
        assert last.keys == hear.keys, f"{where}: listens for {last.keys} keys"
    elif hear.ends is not None:
        assert isinstance(last, hear.ends), f"{where}: ends with {last!r}"
    elif hear.quiet:
        assert step.replies == (), f"{where}: {step.replies!r}"
        assert step.effect is None, f"{where}: {step.effect!r}"
    else:
        # No dead ends: a turn either listens, ends, rings staff, or asks the backend.
        assert step.effect is not None, f"{where}: {step.replies!r}"


def run(turns: Sequence[Turn], *, facts: Facts = FACTS, state: State | None = None) -> Step:
    """Play the turns through the phone table; return the last step."""
    state = state or State()
    last = Step(state)
    for number, turn in enumerate(turns, start=1):
        event, hear = turn[0], turn[1]
        last = TABLE.step(state, event, turn[2] if len(turn) == 3 else facts)
        check(last, hear, number)
        state = last.state
    return last


def status(*, open_now: bool = True, caller: str = MOBILE, patient: object = None) -> Result:
    """What the `status` effect finds at the start of a call."""
    return Result("status", data={"open": open_now, "caller": caller, "patient": patient})


def started(**status_args: Any) -> list[Turn]:
    """A call comes in; the menu is asked."""
    return [
        (CallStarted(status_args.get("caller", MOBILE)), Hear("greeting", effect="status")),
        (status(**status_args), Hear("greeting", says=(MENU_WORDS,), keys=1)),
    ]


SATO_CARD = {"id": 5, "name": "佐藤 花子", "course_id": PELVIS.id}

DIALOGUES: dict[str, list[Turn]] = {
    "greeting in opening hours": [
        (CallStarted(MOBILE), Hear("greeting", effect="status")),
        (
            status(),
            Hear(
                "greeting",
                says=(
                    "お電話ありがとうございます。さくら整骨院です。",
                    "自動音声でご案内いたします",
                    MENU_WORDS,
                ),
                keys=1,
                absent=("診療時間外",),
            ),
        ),
    ],
    "greeting when closed": [
        (CallStarted(MOBILE), Hear("greeting", effect="status")),
        (
            status(open_now=False),
            Hear(
                "greeting",
                says=("さくら整骨院です。", "ただいま診療時間外ですが", MENU_WORDS),
                keys=1,
            ),
        ),
    ],
    "a recognised caller says it is them": [
        (CallStarted(MOBILE), Hear("greeting", effect="status")),
        (
            status(patient=SATO_CARD),
            Hear(
                "confirm_caller",
                says=("佐藤様でいらっしゃいますか。はいの方は1、違う方は2を押してください。",),
                keys=1,
                absent=("花子",),
            ),
        ),
        (Keys("1"), Hear("confirm_caller", effect="identify", args={"patient_id": 5})),
        (
            Result("identify", data={"patient_id": 5}),
            Hear("menu", says=("佐藤様、いつもありがとうございます。", MENU_WORDS), keys=1),
        ),
    ],
    "a recognised number, someone else calling": [
        (CallStarted(MOBILE), Hear("greeting", effect="status")),
        (status(patient=SATO_CARD), Hear("confirm_caller", keys=1)),
        (Text("いいえ、違います"), Hear("menu", says=("失礼いたしました。", MENU_WORDS), keys=1)),
        (Text("予約したいんですけど"), Hear("book_when", keys=4)),
    ],
    "the menu by key": [
        *started(),
        (Keys("1"), Hear("book_when", says=("ご希望の日にちとお時間をお話しください",), keys=4)),
    ],
    "the menu by 「いち」": [*started(), (Text("いち"), Hear("book_when", keys=4))],
    "the menu by 「2番」 looks up the caller's bookings": [
        *started(),
        (Text("2番でお願いします"), Hear("manage", effect="list_bookings")),
    ],
    "「キャンセルしたい」": [
        *started(),
        (Text("キャンセルしたい"), Hear("manage", effect="list_bookings")),
    ],
    "「何時までやってますか」: the hours and address, then the menu": [
        *started(),
        (
            Text("何時までやってますか"),
            Hear(
                "menu",
                says=(
                    "月曜から金曜は、午前9時から正午までと、午後3時から午後8時まで。",
                    "土曜は、午前9時から午後2時まで。日曜・祝日は休診です。",
                    "所在地は、東京都新宿区西新宿1の2の3です。",
                    MENU_WORDS,
                ),
                effect="outcome",
                args={"outcome": "information"},
            ),
        ),
        (Result("outcome", data={"outcome": "information"}), Hear("menu", quiet=True)),
        (Keys("4"), Hear("menu", says=("診療時間のご案内です。",), effect="outcome")),
    ],
    "「受付の人と話したい」 in opening hours rings staff, who answer": [
        *started(),
        (
            Text("受付の人と話したいんですが"),
            Hear("transfer", says=("スタッフにおつなぎいたします",), ends=Transfer),
        ),
        (Dialed(answered=True), Hear("goodbye", effect="outcome", args={"outcome": "transferred"})),
        (Result("outcome", data={"outcome": "transferred"}), Hear("goodbye", ends=Hangup)),
    ],
    "staff do not answer: a callback": [
        *started(),
        (Keys("3"), Hear("transfer", ends=Transfer)),
        (
            Dialed(answered=False),
            Hear("callback_offer", says=("ただいまスタッフが電話に出られません。", OFFER), keys=1),
        ),
        (Keys("1"), Hear("callback_offer", effect="callback", args={"reason": "no_answer"})),
        (
            Result("callback", data={"reason": "no_answer", "number": MOBILE}),
            Hear("goodbye", says=("折り返しお電話いたします。", "失礼いたします。"), ends=Hangup),
        ),
    ],
    "staff do not answer: back to the menu": [
        *started(),
        (Keys("3"), Hear("transfer", ends=Transfer)),
        (Dialed(answered=False), Hear("callback_offer", keys=1)),
        (Keys("2"), Hear("menu", says=(MENU_WORDS,), keys=1)),
    ],
    "closed: staff cannot be reached, a callback instead": [
        *started(open_now=False),
        (
            Keys("3"),
            Hear(
                "callback_offer",
                says=("診療時間外のため、スタッフにおつなぎできません。", OFFER),
                keys=1,
            ),
        ),
        (
            Text("はい、お願いします"),
            Hear("callback_offer", effect="callback", args={"reason": "closed"}),
        ),
    ],
    "a withheld number keys where to call back": [
        *started(open_now=False, caller=""),
        (Keys("3"), Hear("callback_offer", keys=1)),
        (Keys("1"), Hear("callback_number", says=("市外局番から",), keys=11)),
        (
            Keys("123"),
            Hear("callback_number", says=("お電話番号を確認できませんでした。",), keys=11),
        ),
        (
            Keys("0312345678"),
            Hear("callback_number", effect="callback", args={"number": "+81312345678"}),
        ),
    ],
    "silence twice, a callback offer, then goodbye": [
        *started(),
        (Silence(), Hear("greeting", says=(AGAIN, MENU_WORDS), keys=1)),
        (
            Silence(),
            Hear("callback_offer", says=("うまくお聞き取りできませんでした。", OFFER), keys=1),
        ),
        (
            Silence(),
            Hear("goodbye", says=("お電話が遠いようですので、失礼いたします。",), ends=Hangup),
        ),
    ],
    "not understood twice, then the callback taken": [
        *started(),
        (Text("えーと"), Hear("greeting", says=(AGAIN,), keys=1)),
        (Keys("7"), Hear("callback_offer", says=(OFFER,), keys=1)),
        (Keys("1"), Hear("callback_offer", effect="callback", args={"reason": "unclear"})),
    ],
    "understood after one miss: the count starts again": [
        *started(),
        (Silence(), Hear("greeting", says=(AGAIN,), keys=1)),
        (Keys("1"), Hear("book_when", keys=4)),
        (Silence(), Hear("book_when", says=(AGAIN, "ご希望の日にち"), keys=4)),
    ],
    "nothing more after a request: goodbye": [
        (Keys("2"), Hear("goodbye", says=("お電話ありがとうございました。",), ends=Hangup)),
    ],
}


@pytest.mark.parametrize("name", DIALOGUES)
def test_phone_dialogue(name: str) -> None:
    state = State("anything_else", {"open": True}) if name.startswith("nothing more") else None
    run(DIALOGUES[name], state=state)


def test_a_known_caller_is_greeted_by_surname_only_after_saying_yes() -> None:
    step = run(
        [
            (CallStarted(MOBILE), Hear("greeting", effect="status")),
            (status(patient=SATO_CARD), Hear("confirm_caller", keys=1)),
            (Text("はい、そうです"), Hear("confirm_caller", effect="identify")),
            (Result("identify", data={"patient_id": 5}), Hear("menu", keys=1), SATO),
        ]
    )
    assert step.state.data["last_course"] == PELVIS.id


def test_a_new_call_on_an_old_state_starts_over() -> None:
    run([(CallStarted(MOBILE), Hear("greeting", effect="status"))], state=State("book_pick"))


def test_an_unknown_result_offers_a_callback() -> None:
    run([(Result("mystery"), Hear("callback_offer", says=("お手続きができませんでした",), keys=1))])
