"""キャンセル待ち in the pure patient table: when the invitation appears, and what each
button and effect result says."""

from __future__ import annotations

from typing import Any

import pytest

from backend.conversation.model import Picked, Result, State, Text
from tests.conversation.patient_dialogue import NEWCOMER, Expect, at, run


def _search(
    kind: str, first: str, last: str, start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    return {"kind": kind, "date_from": first, "date_to": last, "time_from": start, "time_to": end}


def _found(reason: str, alternatives: list[str]) -> Result:
    return Result("find_slots", data={"starts": [], "reason": reason, "alternatives": alternatives})


def test_a_full_day_invites_with_course_and_nominee() -> None:
    later = [at(30, 9)]
    run(
        [
            (
                _found("full", later),
                Expect(
                    "book_time",
                    says=("満席", "キャンセル待ち", "空きが出たら知らせる"),
                    choices=(f"slot:{later[0]}", "wait:2026-11-27:2:7", "back"),
                ),
            ),
            (
                Picked("wait:2026-11-27:2:7"),
                Expect(
                    "idle",
                    effect="join_waitlist",
                    args={"day": "2026-11-27", "course_id": 2, "staff_id": 7},
                ),
            ),
            (
                Result("join_waitlist", data={"day": "2026-11-27", "new": True}),
                Expect("idle", says=("11月27日(金)に空きが出たら、LINEでお知らせします。",)),
            ),
        ],
        state=State(
            "book_time",
            {"course_id": 2, "staff_id": 7, "search": _search("day", "2026-11-27", "2026-11-27")},
        ),
    )


NOT_INVITED: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("full", _search("window", "2026-11-27", "2026-11-27", "12:00"), {}),  # only the afternoon
    ("full", _search("days", "2026-11-27", "2026-11-28"), {}),  # not one day
    ("closed_day", _search("day", "2026-11-29", "2026-11-29"), {}),
    ("staff_off", _search("day", "2026-11-27", "2026-11-27"), {}),
    ("full", _search("day", "2026-11-27", "2026-11-27"), {"mode": "change", "booking_id": 3}),
]


@pytest.mark.parametrize(("reason", "search", "data"), NOT_INVITED)
def test_no_invitation_where_waiting_cannot_help(
    reason: str, search: dict[str, Any], data: dict[str, Any]
) -> None:
    run(
        [(_found(reason, []), Expect("book_time", choices=("back",), absent=("キャンセル待ち",)))],
        state=State("book_time", {"course_id": 2, "staff_id": 0, "search": search, **data}),
    )


def test_joining_twice_and_the_list_and_leaving() -> None:
    run(
        [
            (
                Result("join_waitlist", data={"day": "2026-12-03", "new": False}),
                Expect("idle", says=("12月3日(木)はすでにキャンセル待ちにご登録いただいています",)),
            ),
            (Text("キャンセル待ち"), Expect("idle", effect="list_waitlist")),
            (
                Result(
                    "list_waitlist",
                    data={"entries": [{"id": 4, "day": "2026-12-03", "course": "骨盤矯正"}]},
                ),
                Expect("idle", says=("・12月3日(木) 骨盤矯正",), choices=("waitlist:4:leave",)),
            ),
            (Picked("waitlist:4:leave"), Expect("idle", effect="leave_waitlist")),
            (
                Result("leave_waitlist", data={"day": "2026-12-03"}),
                Expect("idle", says=("12月3日(木)のキャンセル待ちを取り消しました",)),
            ),
            (Text("空き待ち"), Expect("idle", effect="list_waitlist")),
            (
                Result("list_waitlist", data={"entries": []}),
                Expect("idle", says=("現在、キャンセル待ちのご登録はありません",)),
            ),
        ]
    )


ACCEPT_ANSWERS = [
    ({"code": "illegal_transition", "reason": "taken"}, "この枠は先に埋まりました"),
    ({"code": "illegal_transition", "reason": "yours"}, "すでにご予約を承っています"),
    ({"code": "slot_unavailable", "reason": "past"}, "すでに過ぎています"),
    ({"code": "slot_unavailable", "reason": "full_or_closed"}, "ご予約いただけなくなりました"),
    ({"code": "not_found"}, "受付が終わっています"),
]


@pytest.mark.parametrize(("data", "said"), ACCEPT_ANSWERS)
def test_taking_an_offer(data: dict[str, Any], said: str) -> None:
    run(
        [
            (Picked("waitoffer:9"), Expect("idle", effect="accept_offer", args={"offer_id": 9})),
            (Result("accept_offer", ok=False, data=data), Expect("idle", says=(said,))),
        ]
    )


def test_a_taken_offer_is_a_request() -> None:
    done = {"status": "requested", "start": at(27, 10), "course": "骨盤矯正"}
    run(
        [
            (
                Result("accept_offer", data=done),
                Expect(
                    "idle", says=("リクエストを受け付けました", "11月27日(金) 10:00〜 骨盤矯正")
                ),
            )
        ]
    )


def test_someone_not_registered_gets_no_waitlist() -> None:
    run(
        [
            (Picked("waitoffer:9"), Expect("idle", says=("受付が終わっています",))),
            (Text("キャンセル待ち"), Expect("idle", says=("ご登録はありません",))),
        ],
        facts=NEWCOMER,
    )
