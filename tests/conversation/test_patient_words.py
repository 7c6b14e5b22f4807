"""Booking by words: what the patient types becomes a search, and the answers to it."""

from __future__ import annotations

from typing import Any

import pytest

from backend.conversation.model import Picked, Result, State, Text
from tests.conversation.patient_dialogue import Expect, at, run

MENU = ("menu:book", "menu:list", "menu:info", "menu:call")
LAST_COURSE = Result("history", data={"visited": True, "course_id": 2, "staff_id": None})


def _when(kind: str, first: str, last: str, start: str | None, end: str | None) -> dict[str, Any]:
    return {"kind": kind, "date_from": first, "date_to": last, "time_from": start, "time_to": end}


PHRASES = [
    ("明日の午後空いてますか", _when("window", "2026-11-27", "2026-11-27", "12:00", None)),
    ("来週火曜の15時半", _when("exact", "2026-12-01", "2026-12-01", "15:30", None)),
    ("12/3 10時", _when("exact", "2026-12-03", "2026-12-03", "10:00", None)),
    ("あさっての夕方", _when("window", "2026-11-28", "2026-11-28", "16:00", "19:00")),
    ("今週末", _when("days", "2026-11-28", "2026-11-29", None, None)),
    (
        "１２月３日の午前中でお願いします",
        _when("window", "2026-12-03", "2026-12-03", None, "12:00"),
    ),
    ("金曜日", _when("day", "2026-11-27", "2026-11-27", None, None)),
]


@pytest.mark.parametrize(("text", "search"), PHRASES)
def test_words_search_with_the_last_course(text: str, search: dict[str, Any]) -> None:
    run(
        [
            (Text(text), Expect("book_course", effect="history")),
            (
                LAST_COURSE,
                Expect(
                    "book_time",
                    effect="find_slots",
                    args={"course_id": 2, "staff_id": None, **search},
                ),
            ),
        ]
    )


def test_words_without_a_known_course_ask_the_course_first() -> None:
    run(
        [
            (Text("あさっての夕方"), Expect("book_course", effect="history")),
            (
                Result("history", data={"visited": True, "course_id": None}),
                Expect("book_course", says=("11月28日(土) 夕方ですね。先にメニューを",)),
            ),
            (Picked("course:2"), Expect("book_staff")),
            (
                Picked("staff:8"),
                Expect(
                    "book_time",
                    effect="find_slots",
                    args={
                        "staff_id": 8,
                        "kind": "window",
                        "time_from": "16:00",
                        "time_to": "19:00",
                    },
                ),
            ),
        ]
    )


def test_words_typed_at_the_course_step_are_kept_for_later() -> None:
    run(
        [
            (Text("来週火曜の15時半"), Expect("book_course", says=("12月1日(火) 15:30ですね",))),
            (Picked("course:2"), Expect("book_staff")),
            (Text("12/3 10時"), Expect("book_staff", says=("12月3日(木) 10:00ですね",))),
            (
                Picked("staff:0"),
                Expect("book_time", effect="find_slots", args={"date_from": "2026-12-03"}),
            ),
        ],
        state=State("book_course", {"mode": "book", "visited": True}),
    )


def test_an_exact_free_time_goes_straight_to_the_confirmation() -> None:
    search = _when("exact", "2026-12-03", "2026-12-03", "10:00", None)
    run(
        [
            (
                Result(
                    "find_slots",
                    data={"starts": [at(3, 10, month=12)], "exact": at(3, 10, month=12)},
                ),
                Expect("book_confirm", says=("日時 12月3日(木) 10:00", "骨盤矯正")),
            ),
        ],
        state=State("book_time", {"course_id": 2, "staff_id": 0, "search": search}),
    )


def test_a_full_exact_time_offers_the_nearest_ones() -> None:
    search = _when("exact", "2026-12-03", "2026-12-03", "10:00", None)
    nearest = [at(3, 9, 30, month=12), at(3, 10, 30, month=12)]
    run(
        [
            (
                Result("find_slots", data={"starts": nearest, "reason": "full"}),
                Expect(
                    "book_time",
                    says=("12月3日(木) 10:00はあいにく満席です", "近い時間で空いている"),
                    choices=(f"slot:{nearest[0]}", f"slot:{nearest[1]}", "back"),
                ),
            ),
        ],
        state=State("book_time", {"course_id": 2, "search": search}),
    )


def test_a_window_with_room_lists_its_times() -> None:
    search = _when("window", "2026-11-27", "2026-11-27", "12:00", None)
    run(
        [
            (
                Result("find_slots", data={"starts": [at(27, 15), at(27, 15, 15)], "more": False}),
                Expect("book_time", says=("11月27日(金) 午後で空いている時間です", "15:15")),
            ),
        ],
        state=State("book_time", {"course_id": 2, "search": search}),
    )


CLOSED_CASES = [
    (
        "closed_day",
        _when("day", "2026-11-29", "2026-11-29", None, None),
        "11月29日(日)は休診日です",
    ),
    (
        "full",
        _when("days", "2026-11-28", "2026-11-29", None, None),
        "11月28日(土)〜11月29日(日)はあいにく満席です",
    ),
    (
        "closed_hours",
        _when("window", "2026-11-28", "2026-11-28", "16:00", "19:00"),
        "11月28日(土) 夕方は診療時間外です",
    ),
    (
        "past",
        _when("exact", "2026-11-26", "2026-11-26", "09:00", None),
        "11月26日(木) 9:00はすでに受付を終了",
    ),
    ("beyond", _when("day", "2027-03-01", "2027-03-01", None, None), "まだご予約を承っていない日"),
]


@pytest.mark.parametrize(("reason", "search", "said"), CLOSED_CASES)
def test_closed_or_full_says_so_and_offers_what_comes_after(
    reason: str, search: dict[str, Any], said: str
) -> None:
    later = [at(30, 9), at(1, 15, month=12)]
    run(
        [
            (
                Result("find_slots", data={"starts": [], "reason": reason, "alternatives": later}),
                Expect(
                    "book_time",
                    says=(said, "それ以降で空いている時間", "11/30(月) 9:00", "12/1(火) 15:00"),
                    choices=(f"slot:{later[0]}", f"slot:{later[1]}", "back"),
                ),
            ),
            (Picked(f"slot:{later[1]}"), Expect("book_confirm", says=("12月1日(火) 15:00",))),
        ],
        state=State("book_time", {"course_id": 2, "search": search}),
    )


def test_no_room_at_all_gives_the_phone_number() -> None:
    run(
        [
            (
                Result("find_slots", data={"starts": [], "reason": "full", "alternatives": []}),
                Expect(
                    "book_time",
                    says=("満席", "お電話でご相談", "03-1234-5678", "キャンセル待ち"),
                    choices=("wait:2026-11-27:2:0", "back"),
                ),
            ),
            (Picked("back"), Expect("book_day", effect="find_days")),
        ],
        state=State(
            "book_time",
            {"course_id": 2, "search": _when("day", "2026-11-27", "2026-11-27", None, None)},
        ),
    )


def test_the_nominee_off_that_day() -> None:
    run(
        [
            (
                Result(
                    "find_slots",
                    data={"starts": [], "reason": "staff_off", "alternatives": [at(30, 9)]},
                ),
                Expect("book_time", says=("ご指名の山田 太郎がお休み",)),
            )
        ],
        state=State(
            "book_time",
            {
                "course_id": 2,
                "staff_id": 7,
                "search": _when("day", "2026-11-27", "2026-11-27", None, None),
            },
        ),
    )


@pytest.mark.parametrize("name", ["book_day", "book_time", "book_confirm"])
def test_words_at_the_day_time_or_confirm_step_search_again(name: str) -> None:
    state = State(name, {"course_id": 2, "staff_id": 0, "start": at(27, 9), "days": []})
    run(
        [
            (
                Text("あさっての夕方"),
                Expect("book_time", effect="find_slots", args={"date_from": "2026-11-28"}),
            )
        ],
        state=state,
    )


def test_text_that_is_not_a_time() -> None:
    run(
        [
            (
                Text("肩が痛いです"),
                Expect("idle", says=("LINE受付です", "「明日の午後」"), choices=MENU),
            ),
        ]
    )
    run(
        [(Text("うーん"), Expect("book_time", choices=(f"slot:{at(27, 9)}", "back")))],
        state=State("book_time", {"course_id": 2, "offer": [at(27, 9)]}),
    )


def test_more_times_continue_the_same_search() -> None:
    weekend = _when("days", "2026-11-28", "2026-11-29", None, None)
    state = State("book_time", {"course_id": 2, "search": weekend})
    run(
        [
            (
                Picked(f"more:{at(28, 11)}"),
                Expect(
                    "book_time",
                    effect="find_slots",
                    args={**weekend, "after": at(28, 11), "course_id": 2},
                ),
            ),
            (
                Result("find_slots", data={"starts": [at(28, 11, 15)]}),
                Expect("book_time", says=("11月28日(土)〜11月29日(日)の続きの時間",)),
            ),
        ],
        state=state,
    )
