"""予約確認, cancel, change, answers to staff proposals, stale buttons and global words."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from backend.conversation.model import Carousel, DatePicked, Event, Picked, Result, State, Text
from tests.conversation.patient_dialogue import NEWCOMER, Expect, at, run

MENU = ("menu:book", "menu:list", "menu:info", "menu:call")
DAYS = {"days": ["2026-11-30"], "first": "2026-11-26", "last": "2027-01-25"}


def _booking(booking_id: int, start: str, **changes: Any) -> dict[str, Any]:
    """What `get_booking` or `list_bookings` says of a booking."""
    found = {
        "id": booking_id,
        "start": start,
        "course": "骨盤矯正",
        "course_id": 2,
        "staff": "山田 太郎",
        "staff_id": 7,
        "status": "confirmed",
        "awaiting": None,
        "deadline": start,
    }
    return found | changes


def test_the_list_shows_cards_with_change_cancel_or_the_proposal() -> None:
    bookings = [
        _booking(11, at(27, 9)),
        _booking(12, at(1, 15, month=12), status="requested", awaiting="staff", staff=""),
        _booking(13, at(2, 10, month=12), status="requested", awaiting="patient"),
    ]
    step = run(
        [
            (Picked("menu:list"), Expect("idle", effect="list_bookings")),
            (
                Result("list_bookings", data={"bookings": bookings}),
                Expect(
                    "idle",
                    says=(
                        "ご予約は3件です",
                        "ご予約（確定）",
                        "ご予約（確認待ち）",
                        "日時のご提案",
                        "担当 指名なし",
                    ),
                    choices=(
                        "booking:11:change",
                        "booking:11:cancel",
                        "booking:12:change",
                        "booking:12:cancel",
                        "proposal:13:accept",
                        "proposal:13:decline",
                    ),
                ),
            ),
        ]
    )
    assert isinstance(step.replies[1], Carousel)
    assert step.replies[1].cards[0].rows[0] == ("日時", "11月27日(金) 9:00")


def test_no_bookings_offers_to_book() -> None:
    run(
        [
            (Text("予約確認"), Expect("idle", effect="list_bookings")),
            (
                Result("list_bookings", data={"bookings": []}),
                Expect("idle", says=("現在、ご予約はありません",), choices=MENU),
            ),
        ]
    )


def test_cancel_asks_first_then_cancels() -> None:
    booking = _booking(11, at(27, 15), deadline=at(27, 12))
    run(
        [
            (
                Picked("booking:11:cancel"),
                Expect("idle", effect="get_booking", args={"booking_id": 11}),
            ),
            (
                Result("get_booking", data=booking),
                Expect(
                    "cancel_confirm",
                    says=("11月27日(金) 15:00〜 骨盤矯正 のご予約をキャンセルしますか",),
                    choices=("ok", "back"),
                ),
            ),
            (Picked("ok"), Expect("cancel_confirm", effect="cancel", args={"booking_id": 11})),
            (
                Result(
                    "cancel", data={"booking_id": 11, "start": at(27, 15), "course": "骨盤矯正"}
                ),
                Expect(
                    "idle",
                    says=("ご予約をキャンセルしました", "11月27日(金) 15:00〜 骨盤矯正"),
                    choices=MENU,
                ),
            ),
        ]
    )


def test_cancel_can_be_called_off() -> None:
    state = State("cancel_confirm", {"booking_id": 11, "start": at(27, 15), "course": "骨盤矯正"})
    run([(Text("いいえ"), Expect("idle", says=("ご予約はそのままです",)))], state=state)
    run([(Text("うーん"), Expect("cancel_confirm", says=("キャンセルしますか",)))], state=state)


def test_cancel_after_the_deadline_is_refused_with_the_phone_number() -> None:
    booking = _booking(11, at(26, 12), deadline=at(26, 9))
    run(
        [
            (Picked("booking:11:cancel"), Expect("idle", effect="get_booking")),
            (
                Result("get_booking", data=booking),
                Expect("idle", effect="cancel", args={"booking_id": 11}),
            ),
            (
                Result("cancel", ok=False, data={"code": "deadline_passed", "deadline": at(26, 9)}),
                Expect(
                    "idle",
                    says=(
                        "3時間前を過ぎているため",
                        "キャンセルを承れません",
                        "電話: 03-1234-5678",
                        "スタッフにもお伝えしました",
                    ),
                    choices=MENU,
                ),
            ),
        ]
    )


def test_change_keeps_course_and_staff_and_reschedules() -> None:
    booking = _booking(11, at(27, 15), deadline=at(27, 12))
    run(
        [
            (Picked("booking:11:change"), Expect("idle", effect="get_booking")),
            (
                Result("get_booking", data=booking),
                Expect(
                    "book_day",
                    says=("11月27日(金) 15:00〜 骨盤矯正 のご予約を変更します",),
                    effect="find_days",
                    args={"course_id": 2, "staff_id": 7},
                ),
            ),
            (
                Result("find_days", data=DAYS),
                Expect("book_day", choices=("day:2026-11-30", "back")),
            ),
            (
                Picked("day:2026-11-30"),
                Expect("book_time", effect="find_slots", args={"staff_id": 7}),
            ),
            (Result("find_slots", data={"starts": [at(30, 10)]}), Expect("book_time")),
            (
                Picked(f"slot:{at(30, 10)}"),
                Expect(
                    "book_confirm",
                    says=(
                        "ご予約の変更",
                        "変更前 11月27日(金) 15:00",
                        "変更後 11月30日(月) 10:00",
                        "この日時に変更する",
                    ),
                ),
            ),
            (
                Picked("ok"),
                Expect(
                    "book_confirm",
                    effect="reschedule",
                    args={"booking_id": 11, "start": at(30, 10)},
                ),
            ),
            (
                Result(
                    "reschedule",
                    data={
                        "booking_id": 11,
                        "status": "requested",
                        "start": at(30, 10),
                        "course": "骨盤矯正",
                    },
                ),
                Expect(
                    "idle",
                    says=(
                        "ご予約の変更を受け付けました",
                        "変更後: 11月30日(月) 10:00〜 骨盤矯正",
                        "スタッフが確認",
                    ),
                ),
            ),
        ]
    )


def test_change_after_the_deadline_is_refused_without_asking() -> None:
    booking = _booking(11, at(26, 12), deadline=at(26, 9))
    run(
        [
            (
                Result("get_booking", data=booking),
                Expect(
                    "idle",
                    says=("変更を承れません", "03-1234-5678"),
                    absent=("スタッフにもお伝えしました",),
                ),
            )
        ],
        state=State("idle", {"then": "change"}),
    )


def test_back_from_the_days_of_a_change_shows_the_list_again() -> None:
    state = State("book_day", {"mode": "change", "booking_id": 11, "course_id": 2, **DAYS})
    run([(Picked("back"), Expect("idle", effect="list_bookings"))], state=state)


def test_a_change_whose_new_time_was_taken() -> None:
    state = State(
        "book_confirm",
        {
            "mode": "change",
            "booking_id": 11,
            "course_id": 2,
            "start": at(30, 10),
            "previous": at(27, 15),
        },
    )
    run(
        [
            (
                Result(
                    "reschedule",
                    ok=False,
                    data={
                        "code": "slot_unavailable",
                        "start": at(30, 10),
                        "starts": [at(30, 10, 15)],
                        "booking_id": 11,
                    },
                ),
                Expect(
                    "book_time",
                    says=("ちょうど埋まってしまいました",),
                    choices=(f"slot:{at(30, 10, 15)}", "back"),
                ),
            ),
            (
                Picked(f"slot:{at(30, 10, 15)}"),
                Expect("book_confirm", says=("変更後 11月30日(月) 10:15",)),
            ),
        ],
        state=state,
    )


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("cancelled", "キャンセル済み"),
        ("completed", "ご来院済み"),
        ("declined", "お受けできなかった"),
    ],
)
def test_a_booking_no_longer_active(status: str, said: str) -> None:
    run(
        [
            (
                Result("get_booking", data=_booking(11, at(30, 10), status=status)),
                Expect("idle", says=(said,)),
            )
        ],
        state=State("idle", {"then": "cancel"}),
    )


def test_someone_elses_booking_is_not_found() -> None:
    run(
        [
            (Picked("booking:99:cancel"), Expect("idle", effect="get_booking")),
            (
                Result("get_booking", ok=False, data={"code": "not_found"}),
                Expect("idle", says=("見つかりませんでした",)),
            ),
        ]
    )


def test_accepting_a_proposal_lets_the_confirmation_speak() -> None:
    run(
        [
            (
                Picked("proposal:13:accept"),
                Expect("idle", effect="accept_proposal", args={"booking_id": 13}),
            ),
            (
                Result(
                    "accept_proposal",
                    data={"booking_id": 13, "status": "confirmed", "start": at(2, 10, month=12)},
                ),
                Expect("idle", silent=True),
            ),
        ]
    )


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"code": "illegal_transition", "status": "confirmed"}, "すでに確定しています"),
        ({"code": "illegal_transition", "status": "cancelled"}, "受付が終わっています"),
        ({"code": "not_found"}, "受付が終わっています"),
    ],
)
def test_a_proposal_answered_twice_or_gone(data: dict[str, Any], said: str) -> None:
    run([(Result("accept_proposal", ok=False, data=data), Expect("idle", says=(said,)))])


def test_a_proposal_taken_meanwhile_offers_other_days() -> None:
    data = {"code": "slot_unavailable", "course_id": 2, "staff_id": None}
    run(
        [
            (
                Result("accept_proposal", ok=False, data=data),
                Expect(
                    "book_day",
                    says=("ご提案の日時が埋まってしまいました",),
                    effect="find_days",
                    args={"course_id": 2},
                ),
            )
        ]
    )


def test_declining_a_proposal_offers_days_for_the_same_course() -> None:
    run(
        [
            (
                Picked("proposal:13:decline"),
                Expect("idle", effect="decline_proposal", args={"booking_id": 13}),
            ),
            (
                Result("decline_proposal", data={"booking_id": 13, "course_id": 2, "staff_id": 7}),
                Expect(
                    "book_day",
                    says=("ご提案の日時はお取り消ししました",),
                    effect="find_days",
                    args={"course_id": 2, "staff_id": 7},
                ),
            ),
            (
                Result("find_days", data=DAYS),
                Expect("book_day", choices=("day:2026-11-30", "back")),
            ),
        ]
    )


def test_rebooking_an_offered_alternative() -> None:
    start = at(1, 15, month=12)
    run(
        [
            (
                Picked(f"rebook:21:{start}"),
                Expect("idle", effect="rebook", args={"booking_id": 21, "start": start}),
            ),
            (
                Result(
                    "rebook",
                    data={
                        "booking_id": 22,
                        "status": "requested",
                        "start": start,
                        "course": "骨盤矯正",
                    },
                ),
                Expect("idle", says=("リクエストを受け付けました", "12月1日(火) 15:00〜 骨盤矯正")),
            ),
        ]
    )
    run(
        [
            (
                Result(
                    "rebook",
                    ok=False,
                    data={
                        "code": "slot_unavailable",
                        "start": start,
                        "starts": [at(1, 15, 30, month=12)],
                        "course_id": 2,
                        "staff_id": None,
                    },
                ),
                Expect("book_time", says=("ちょうど埋まってしまいました",)),
            ),
            (Picked(f"slot:{at(1, 15, 30, month=12)}"), Expect("book_confirm", says=("骨盤矯正",))),
        ]
    )


STALE: list[tuple[Event, str]] = [
    (Picked("day:2026-11-20"), "idle"),
    (Picked(f"slot:{at(27, 9)}"), "idle"),
    (Picked("more:2026-11-27T09:00:00+09:00"), "idle"),
    (Picked("ok"), "idle"),
    (Picked("back"), "idle"),
    (Picked("course:2"), "idle"),
    (Picked("booking:abc:cancel"), "idle"),
    (Picked("proposal:13:maybe"), "idle"),
    (Picked("something-else"), "idle"),
    (DatePicked("pick_day", date(2026, 12, 1)), "idle"),
]


@pytest.mark.parametrize(("event", "state"), STALE)
def test_stale_buttons_in_idle_are_answered_not_crashed_on(event: Event, state: str) -> None:
    run([(event, Expect(state, says=("受付が終わっています",), choices=MENU))])


def test_buttons_for_bookings_from_someone_not_registered() -> None:
    run(
        [(Picked("proposal:13:accept"), Expect("idle", says=("受付が終わっています",)))],
        facts=NEWCOMER,
    )


def test_global_words_in_the_middle_of_a_flow() -> None:
    flow = State("book_time", {"course_id": 2, "offer": [at(27, 9)]})
    run(
        [(Text("やめる"), Expect("idle", says=("手続きを中止しました",), choices=MENU))], state=flow
    )
    run([(Text("キャンセル"), Expect("idle", says=("手続きを中止しました",)))], state=flow)
    run([(Picked("stop"), Expect("idle", says=("手続きを中止しました",)))], state=flow)
    run([(Text("予約"), Expect("book_course", effect="history"))], state=flow)
    run([(Text("予約確認"), Expect("idle", effect="list_bookings"))], state=flow)
    run([(Text("ヘルプ"), Expect("book_time", says=("LINE受付です",), choices=MENU))], state=flow)


def test_cancel_words_with_nothing_going_on_show_the_bookings() -> None:
    run([(Text("キャンセル"), Expect("idle", effect="list_bookings"))])
    run([(Text("予約をキャンセルしたい"), Expect("idle", effect="list_bookings"))])
    run([(Text("予約変更したいです"), Expect("idle", effect="list_bookings"))])
    run([(Text("やめる"), Expect("idle", says=("LINE受付です",)))])


def test_hours_access_and_phone() -> None:
    run(
        [
            (
                Picked("menu:info"),
                Expect(
                    "idle",
                    says=(
                        "【診療時間】",
                        "月〜金 9:00〜12:00・15:00〜20:00",
                        "【住所】",
                        "東京都新宿区西新宿1-2-3",
                        "03-1234-5678",
                    ),
                ),
            ),
            (Text("診療時間"), Expect("idle", says=("【診療時間】",))),
            (Picked("menu:call"), Expect("idle", says=("お電話はこちら", "03-1234-5678"))),
            (Text("電話番号"), Expect("idle", says=("03-1234-5678",))),
        ]
    )


def test_a_bare_cancel_word_at_the_cancel_question_asks_again() -> None:
    state = State("cancel_confirm", {"booking_id": 11, "start": at(27, 15), "course": "骨盤矯正"})
    run([(Text("キャンセル"), Expect("cancel_confirm", says=("キャンセルしますか",)))], state=state)
    run([(Text("キャンセルする"), Expect("cancel_confirm", effect="cancel"))], state=state)
