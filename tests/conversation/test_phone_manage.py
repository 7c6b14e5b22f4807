"""Changing and cancelling by phone in the table: the caller's bookings read one by one,
cancel (asked first; after the deadline staff call back), change (a new time, as when
booking), and nothing to find."""

from __future__ import annotations

from typing import Any

import pytest

from backend.conversation.model import Hangup, Keys, Result, Text
from tests.conversation.patient_dialogue import PELVIS, YAMADA, at
from tests.conversation.test_phone_dialogue import OFFER, Hear, Turn, run, started

DEC_3 = at(3, 10, month=12)


def booking(booking_id: int, start: str, *, late: bool = False, **more: Any) -> dict[str, Any]:
    """One booking as `list_bookings` finds it."""
    return {
        "id": booking_id,
        "start": start,
        "course": "骨盤矯正",
        "course_id": PELVIS.id,
        "staff_id": None,
        "name": "佐藤 花子",
        "status": "confirmed",
        "late": late,
        **more,
    }


def listed(*bookings: dict[str, Any]) -> Result:
    return Result("list_bookings", data={"bookings": list(bookings)})


def to_list(*bookings: dict[str, Any]) -> list[Turn]:
    """The menu's 2, and the bookings found; the first is read."""
    return [
        *started(),
        (Keys("2"), Hear("manage", effect="list_bookings")),
        (listed(*bookings), Hear("manage", keys=1)),
    ]


LATE_WORDS = "ご予約の3時間前を過ぎているため、自動音声では"

DIALOGUES: dict[str, list[Turn]] = {
    "two bookings read one by one; the second cancelled": [
        *started(),
        (Keys("2"), Hear("manage", effect="list_bookings")),
        (
            listed(booking(11, DEC_3), booking(12, at(10, 15, month=12))),
            Hear(
                "manage",
                says=(
                    "お預かりしているご予約が、2件ございます。",
                    "1件目、12月3日 木曜日 午前10時、佐藤様、骨盤矯正のご予約です。",
                    "キャンセルは1、日時の変更は2、次のご予約は9を押してください。",
                ),
                keys=1,
            ),
        ),
        (
            Keys("9"),
            Hear(
                "manage",
                says=("2件目、12月10日 木曜日 午後3時", "メニューに戻る場合は9"),
                keys=1,
            ),
        ),
        (
            Text("キャンセルしたいです"),
            Hear(
                "cancel_confirm",
                says=("12月10日 木曜日 午後3時のご予約をキャンセルいたします。よろしければ1",),
                keys=1,
            ),
        ),
        (Keys("1"), Hear("cancel_confirm", effect="cancel", args={"booking_id": 12})),
        (
            Result("cancel", data={"booking_id": 12, "start": at(10, 15, month=12)}),
            Hear(
                "anything_else",
                says=("12月10日 木曜日 午後3時のご予約のキャンセルを承りました。", "ほかにご用件"),
                keys=1,
            ),
        ),
    ],
    "a cancel thought better of": [
        *to_list(booking(11, DEC_3)),
        (Keys("1"), Hear("cancel_confirm", keys=1)),
        (Text("いいえ"), Hear("manage", says=("ご予約はそのままです。", "1件目"), keys=1)),
        (Keys("9"), Hear("menu", keys=1)),
    ],
    "after the deadline a cancel is not asked: staff call back": [
        *to_list(booking(11, at(26, 12), late=True)),
        (Keys("1"), Hear("manage", effect="cancel", args={"booking_id": 11})),
        (
            Result("cancel", ok=False, data={"code": "deadline_passed"}),
            Hear(
                "anything_else",
                says=(
                    LATE_WORDS + "キャンセルを承れません。",
                    "スタッフより、折り返しお電話いたします。",
                ),
                keys=1,
            ),
        ),
    ],
    "a change: a new time as when booking, the same course and nominee": [
        *to_list(booking(11, DEC_3, staff_id=YAMADA.id)),
        (
            Keys("2"),
            Hear(
                "book_when",
                says=("12月3日 木曜日 午前10時のご予約を変更いたします。", "ご希望の日にち"),
                keys=4,
            ),
        ),
        (
            Text("12月4日の15時"),
            Hear(
                "book_pick",
                effect="find_slots",
                args={
                    "course_id": PELVIS.id,
                    "staff_id": YAMADA.id,
                    "booking_id": 11,
                    "kind": "exact",
                    "date_from": "2026-12-04",
                    "time_from": "15:00",
                },
            ),
        ),
        (
            Result(
                "find_slots", data={"starts": [at(4, 15, month=12)], "exact": at(4, 15, month=12)}
            ),
            Hear("book_pick", keys=1),
        ),
        (
            Keys("1"),
            Hear(
                "book_pick",
                effect="reschedule",
                args={"booking_id": 11, "start": at(4, 15, month=12)},
            ),
        ),
        (
            Result("reschedule", data={"status": "requested", "start": at(4, 15, month=12)}),
            Hear(
                "anything_else",
                says=("ご予約の変更を承りました。変更後は、12月4日 金曜日 午後3時です。",),
                keys=1,
            ),
        ),
    ],
    "a change the clinic confirms at once": [
        *to_list(booking(11, DEC_3)),
        (Text("変更したい"), Hear("book_when", keys=4)),
        (Text("12月4日の15時"), Hear("book_pick", effect="find_slots")),
        (
            Result(
                "find_slots", data={"starts": [at(4, 15, month=12)], "exact": at(4, 15, month=12)}
            ),
            Hear("book_pick", keys=1),
        ),
        (Text("はい"), Hear("book_pick", effect="reschedule")),
        (
            Result("reschedule", data={"status": "confirmed", "start": at(4, 15, month=12)}),
            Hear(
                "anything_else",
                says=("ご予約を、12月4日 金曜日 午後3時に変更いたしました。",),
                keys=1,
            ),
        ),
    ],
    "a change whose time went meanwhile: searched again": [
        *to_list(booking(11, DEC_3)),
        (Keys("2"), Hear("book_when", keys=4)),
        (Text("12月4日の15時"), Hear("book_pick", effect="find_slots")),
        (
            Result(
                "find_slots", data={"starts": [at(4, 15, month=12)], "exact": at(4, 15, month=12)}
            ),
            Hear("book_pick", keys=1),
        ),
        (Keys("1"), Hear("book_pick", effect="reschedule")),
        (
            Result("reschedule", ok=False, data={"code": "slot_unavailable"}),
            Hear("book_pick", says=("ちょうど埋まってしまいました。",), effect="find_slots"),
        ),
    ],
    "after the deadline a change is a callback": [
        *to_list(booking(11, at(26, 12), late=True)),
        (
            Keys("2"),
            Hear(
                "manage",
                says=(LATE_WORDS + "変更を承れません。",),
                effect="callback",
                args={"reason": "late_change", "booking_id": 11},
            ),
        ),
        (
            Result("callback", data={"reason": "late_change", "number": "+819012345678"}),
            Hear(
                "goodbye",
                says=("スタッフより、折り返しお電話いたします。",),
                absent=("承知いたしました",),
                ends=Hangup,
            ),
        ),
    ],
    "no bookings for the number: a callback offered": [
        *started(),
        (Keys("2"), Hear("manage", effect="list_bookings")),
        (listed(), Hear("callback_offer", says=("ご予約は見つかりませんでした。", OFFER), keys=1)),
        (Keys("1"), Hear("callback_offer", effect="callback", args={"reason": "not_found"})),
    ],
    "a withheld number cannot be looked up": [
        *started(caller=""),
        (Keys("2"), Hear("callback_offer", says=("非通知のため", OFFER), keys=1)),
    ],
    "a booking already handled": [
        *to_list(booking(11, DEC_3)),
        (Keys("1"), Hear("cancel_confirm", keys=1)),
        (Keys("1"), Hear("cancel_confirm", effect="cancel")),
        (
            Result("cancel", ok=False, data={"code": "illegal_transition"}),
            Hear("anything_else", says=("すでにお手続きが済んでいる",), keys=1),
        ),
    ],
}


@pytest.mark.parametrize("name", DIALOGUES)
def test_phone_manage(name: str) -> None:
    run(DIALOGUES[name])
