"""Booking by buttons in the patient table: course → staff → day → time → confirm."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from backend.conversation.model import Carousel, DatePicked, Picked, Result, Say, State, Text
from tests.conversation.patient_dialogue import (
    INSURANCE,
    KNOWN,
    NEWCOMER,
    PELVIS,
    YAMADA,
    Expect,
    at,
    run,
)

MENU = ("menu:book", "menu:list", "menu:info", "menu:call")
DAYS = ["2026-11-26", "2026-11-27", "2026-11-28", "2026-11-30"]
DAY_BUTTONS = (*tuple(f"day:{day}" for day in DAYS), "back")
FRIDAY = [at(27, 9), at(27, 9, 15), at(27, 9, 30)]


def test_booking_by_buttons_from_the_rich_menu_to_a_request() -> None:
    run(
        [
            (Picked("menu:book"), Expect("book_course", effect="history")),
            (
                Result("history", data={"visited": True, "course_id": None, "staff_id": None}),
                Expect(
                    "book_course",
                    says=("骨盤矯正（30分・4,400円）", "保険施術（20分・500円〜（保険適用））"),
                    choices=("course:2", "course:3", "stop"),
                    absent=("初診",),
                ),
            ),
            (
                Picked("course:2"),
                Expect(
                    "book_staff",
                    says=("ご指名",),
                    choices=("staff:0", "staff:7", "staff:8", "back"),
                ),
            ),
            (
                Picked("staff:7"),
                Expect("book_day", effect="find_days", args={"course_id": 2, "staff_id": 7}),
            ),
            (
                Result(
                    "find_days", data={"days": DAYS, "first": "2026-11-26", "last": "2027-01-25"}
                ),
                Expect(
                    "book_day",
                    says=("11月27日(金)", "11月30日(月)", "カレンダーから選ぶ"),
                    choices=DAY_BUTTONS,
                ),
            ),
            (
                Picked("day:2026-11-27"),
                Expect(
                    "book_time",
                    effect="find_slots",
                    args={
                        "course_id": 2,
                        "staff_id": 7,
                        "kind": "day",
                        "date_from": "2026-11-27",
                        "date_to": "2026-11-27",
                    },
                ),
            ),
            (
                Result("find_slots", data={"starts": FRIDAY, "more": False}),
                Expect(
                    "book_time",
                    says=("11月27日(金)の空いている時間", "9:15"),
                    choices=(*tuple(f"slot:{start}" for start in FRIDAY), "back"),
                ),
            ),
            (
                Picked(f"slot:{at(27, 9, 15)}"),
                Expect(
                    "book_confirm",
                    says=(
                        "ご予約内容の確認",
                        "日時 11月27日(金) 9:15",
                        "担当 山田 太郎",
                        "料金 4,400円",
                    ),
                    choices=("ok", "back", "stop"),
                ),
            ),
            (
                Picked("ok"),
                Expect(
                    "book_confirm",
                    effect="request",
                    args={"course_id": 2, "staff_id": 7, "start": at(27, 9, 15)},
                ),
            ),
            (
                Result(
                    "request",
                    data={
                        "booking_id": 40,
                        "status": "requested",
                        "start": at(27, 9, 15),
                        "course": "骨盤矯正",
                    },
                ),
                Expect(
                    "idle",
                    says=(
                        "リクエストを受け付けました",
                        "11月27日(金) 9:15〜 骨盤矯正",
                        "スタッフが確認してご連絡します",
                    ),
                    choices=MENU,
                ),
            ),
        ]
    )


def test_a_first_time_patient_sees_the_first_visit_course_first() -> None:
    run(
        [
            (Text("予約したいです"), Expect("book_course", effect="history")),
            (
                Result("history", data={"visited": False, "course_id": None}),
                Expect("book_course", choices=("course:1", "course:2", "course:3", "stop")),
            ),
        ]
    )


def test_the_last_course_leads_for_a_patient_who_came_before() -> None:
    run(
        [
            (Text("予約"), Expect("book_course", effect="history")),
            (
                Result("history", data={"visited": True, "course_id": 3, "staff_id": None}),
                Expect("book_course", choices=("course:3", "course:2", "stop")),
            ),
        ]
    )


def test_auto_approved_booking_is_confirmed_at_once() -> None:
    state = State("book_confirm", {"course_id": 2, "staff_id": 0, "start": at(27, 9)})
    run(
        [
            (Text("はい"), Expect("book_confirm", effect="request", args={"staff_id": None})),
            (
                Result(
                    "request",
                    data={
                        "booking_id": 41,
                        "status": "confirmed",
                        "start": at(27, 9),
                        "course": "骨盤矯正",
                    },
                ),
                Expect("idle", says=("ご予約が確定しました", "ご来院をお待ちしております")),
            ),
        ],
        state=state,
    )


def test_a_slot_taken_meanwhile_offers_the_nearest_times() -> None:
    state = State("book_confirm", {"course_id": 2, "staff_id": 0, "start": at(27, 9)})
    nearest = [at(27, 9, 15), at(27, 9, 30)]
    run(
        [
            (Picked("ok"), Expect("book_confirm", effect="request")),
            (
                Result(
                    "request",
                    ok=False,
                    data={"code": "slot_unavailable", "start": at(27, 9), "starts": nearest},
                ),
                Expect(
                    "book_time",
                    says=("11月27日(金) 9:00はちょうど埋まってしまいました", "近い時間"),
                    choices=(f"slot:{nearest[0]}", f"slot:{nearest[1]}", "back"),
                ),
            ),
            (Picked(f"slot:{nearest[1]}"), Expect("book_confirm", says=("9:30",))),
        ],
        state=state,
    )


def test_a_day_with_many_times_offers_later_ones() -> None:
    starts = [at(27, 9 + quarter // 4, 15 * (quarter % 4)) for quarter in range(12)]
    state = State("book_time", {"course_id": 2, "staff_id": 0})
    step = run(
        [(Result("find_slots", data={"starts": starts, "more": True}), Expect("book_time"))],
        state=state,
    )
    values = [choice.value for choice in step.replies[0].choices]  # type: ignore[union-attr]
    assert len(values) == 13
    assert values[-2:] == [f"more:{starts[10]}", "back"]
    run(
        [
            (
                Picked(f"more:{starts[10]}"),
                Expect(
                    "book_time",
                    effect="find_slots",
                    args={"kind": "day", "date_from": "2026-11-27", "after": starts[10]},
                ),
            ),
            (
                Result("find_slots", data={"starts": [at(27, 15)], "more": False}),
                Expect("book_time", says=("続きの時間",)),
            ),
        ],
        state=step.state,
    )


def test_the_calendar_and_going_back() -> None:
    state = State(
        "book_day",
        {"course_id": 2, "staff_id": 0, "days": DAYS, "first": "2026-11-26", "last": "2027-01-25"},
    )
    run(
        [
            (
                DatePicked("pick_day", date(2026, 11, 20)),
                Expect("book_day", says=("11月20日(金)はすでに過ぎています",)),
            ),
            (
                DatePicked("pick_day", date(2026, 12, 24)),
                Expect("book_time", effect="find_slots", args={"date_from": "2026-12-24"}),
            ),
            (Picked("back"), Expect("book_day", effect="find_days")),
            (
                Result(
                    "find_days", data={"days": DAYS, "first": "2026-11-26", "last": "2027-01-25"}
                ),
                Expect("book_day"),
            ),
            (
                Picked("back"),
                Expect("book_staff", choices=("staff:0", "staff:7", "staff:8", "back")),
            ),
            (Picked("back"), Expect("book_course")),
            (Text("なんでもいい"), Expect("book_course", says=("メニューをお選びください",))),
        ],
        state=state,
    )


def test_one_staff_member_means_no_nomination_question() -> None:
    facts = replace(KNOWN, staff=(YAMADA,))
    run(
        [
            (Picked("course:2"), Expect("book_day", effect="find_days", args={"staff_id": None})),
            (
                Result("find_days", data={"days": [], "first": "2026-11-26", "last": "2027-01-25"}),
                Expect("idle", says=("空きがありませんでした", "03-1234-5678")),
            ),
        ],
        facts=facts,
        state=State("book_course", {"mode": "book"}),
    )


def test_the_confirm_card_of_an_insurance_course_without_nomination() -> None:
    state = State("book_time", {"course_id": INSURANCE.id, "staff_id": 0, "offer": [at(27, 9)]})
    run(
        [
            (
                Picked(f"slot:{at(27, 9)}"),
                Expect("book_confirm", says=("担当 指名なし", "500円〜（保険適用）")),
            ),
            (
                Picked("back"),
                Expect("book_time", effect="find_slots", args={"date_from": "2026-11-27"}),
            ),
        ],
        state=state,
    )


def test_unregistered_booking_goes_through_registration() -> None:
    run(
        [(Picked("menu:book"), Expect("reg_kind", says=("ご予約の前に、かんたんなご登録",)))],
        facts=NEWCOMER,
    )


def test_a_withdrawn_course_or_a_past_slot_is_not_confirmed() -> None:
    run(
        [
            (Picked("course:99"), Expect("book_course", says=("メニューをお選びください",))),
        ],
        state=State("book_course", {"mode": "book", "visited": True}),
    )
    run(
        [
            (
                Picked(f"slot:{at(20, 9)}"),
                Expect(
                    "book_time", says=("すでに過ぎています",), choices=(f"slot:{at(27, 9)}", "back")
                ),
            ),
            (Picked(f"slot:{at(27, 9)}"), Expect("idle", says=("受付が終わっています",))),
        ],
        state=State("book_time", {"course_id": PELVIS.id, "offer": [at(27, 9)]}),
        facts=replace(KNOWN, courses=(INSURANCE,)),
    )


def test_the_day_list_reply_is_a_question_with_a_date_picker() -> None:
    step = run(
        [
            (
                Result(
                    "find_days", data={"days": DAYS, "first": "2026-11-26", "last": "2027-01-25"}
                ),
                Expect("book_day"),
            )
        ],
        state=State("book_day", {"course_id": 2}),
    )
    reply = step.replies[0]
    assert isinstance(reply, Say)
    assert not isinstance(reply, Carousel)
    assert reply.date_pick is not None
    assert (reply.date_pick.first, reply.date_pick.last) == (date(2026, 11, 26), date(2027, 1, 25))
