"""Booking by phone in the table: when by speech or by keys (MMDD, HHMM), three times read
back, picked by key or voice, a new caller's name, the request, and the SMS after it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from backend.conversation.model import Keys, Result, Silence, State, Text
from tests.conversation.patient_dialogue import FIRST_VISIT, PELVIS, YAMADA, at
from tests.conversation.test_phone_dialogue import FACTS, SATO, Hear, Turn, run, started

FRIDAY_AFTERNOON = [at(27, 15), at(27, 15, 15), at(27, 15, 30), at(27, 16), at(27, 16, 15)]
ASK_WHEN = "ご希望の日にちとお時間をお話しください"
ASK_NAME = "ご予約のお名前を、フルネームでお話しください。"
PICK = "ご希望の番号を押してください。ほかのお時間をお探しの場合は、9を押してください。"


def found(*starts: str, **more: object) -> Result:
    """What `find_slots` answers (the LINE performer's shape)."""
    return Result("find_slots", data={"starts": list(starts), "more": False, **more})


def requested(start: str, *, sms: str = "mobile", status: str = "requested") -> Result:
    """What `request` answers."""
    data = {"booking_id": 31, "status": status, "start": start, "course": "初診", "sms": sms}
    return Result("request", data=data)


def to_booking() -> list[Turn]:
    return [*started(), (Keys("1"), Hear("book_when", says=(ASK_WHEN,), keys=4))]


def to_named() -> list[Turn]:
    """A new caller takes the time they asked for and gives their name."""
    return [
        *to_booking(),
        (Text("金曜の15時"), Hear("book_pick", effect="find_slots")),
        (found(at(27, 15), exact=at(27, 15)), Hear("book_pick", keys=1)),
        (Keys("1"), Hear("book_name", says=(ASK_NAME,), keys=1)),
        (Text("山田花子です"), Hear("book_name", effect="request")),
    ]


ASK_MOBILE = "携帯電話の番号を、11桁で押してください。不要な方は、シャープを押してください。"
ASKED_FOR_A_MOBILE = (
    requested(at(27, 15), sms="ask"),
    Hear("sms_number", says=(ASK_MOBILE,), keys=11),
)


DIALOGUES: dict[str, list[Turn]] = {
    "by speech: 「明日の午後」, 「2番」, a name, the request and its SMS": [
        *to_booking(),
        (
            Text("明日の午後"),
            Hear(
                "book_pick",
                effect="find_slots",
                args={
                    "course_id": FIRST_VISIT.id,
                    "staff_id": None,
                    "kind": "window",
                    "date_from": "2026-11-27",
                    "time_from": "12:00",
                },
            ),
        ),
        (
            found(*FRIDAY_AFTERNOON),
            Hear(
                "book_pick",
                says=(
                    "11月27日 金曜日の午後のご希望ですね。",
                    "1番、11月27日 金曜日 午後3時。2番、午後3時15分。3番、午後3時30分。",
                    PICK,
                ),
                keys=1,
                absent=("午後4時",),
            ),
        ),
        (Text("2番"), Hear("book_name", says=(ASK_NAME,), keys=1)),
        (
            Text("えーと、山田花子と申します"),
            Hear(
                "book_name",
                says=("山田花子様ですね。",),
                effect="request",
                args={"name": "山田花子", "start": at(27, 15, 15), "course_id": FIRST_VISIT.id},
            ),
        ),
        (
            requested(at(27, 15, 15)),
            Hear(
                "book_name",
                says=(
                    "ご予約のリクエストを承りました。11月27日 金曜日 午後3時15分、初診です。",
                    "スタッフが確認し、ご連絡いたします。",
                ),
                effect="sms",
                args={"booking_id": 31},
            ),
        ),
        (
            Result("sms", data={"sent": True, "to": "+819012345678"}),
            Hear(
                "anything_else",
                says=("確認のショートメッセージをお送りします。", "ほかにご用件"),
                keys=1,
            ),
        ),
    ],
    "by keys: 1203, then 1000, free: 1 takes it": [
        *to_booking(),
        (
            Keys("1203"),
            Hear("book_hour", says=("12月3日 木曜日ですね。", "4桁で押してください"), keys=4),
        ),
        (
            Keys("1000"),
            Hear(
                "book_pick",
                effect="find_slots",
                args={"kind": "exact", "date_from": "2026-12-03", "time_from": "10:00"},
            ),
        ),
        (
            found(at(3, 9, 45, 12), at(3, 10, month=12), exact=at(3, 10, month=12)),
            Hear("book_pick", says=("12月3日 木曜日 午前10時は、ご予約いただけます。",), keys=1),
        ),
        (Keys("1"), Hear("book_name", keys=1)),
    ],
    "by keys: a day that does not exist, then a time that does not": [
        *to_booking(),
        (
            Keys("1340"),
            Hear("book_when", says=("日にちを確認できませんでした。", ASK_WHEN), keys=4),
        ),
        (Keys("0105"), Hear("book_hour", says=("1月5日 火曜日ですね。",), keys=4)),
        (Keys("2575"), Hear("book_hour", says=("お時間を確認できませんでした。",), keys=4)),
    ],
    "by keys: 0 for any time searches the whole day": [
        *to_booking(),
        (Keys("1127"), Hear("book_hour", keys=4)),
        (
            Keys("0"),
            Hear("book_pick", effect="find_slots", args={"kind": "day", "date_from": "2026-11-27"}),
        ),
    ],
    "by keys, then 「何時でもいいです」": [
        *to_booking(),
        (Keys("1127"), Hear("book_hour", keys=4)),
        (Text("何時でもいいです"), Hear("book_pick", effect="find_slots", args={"kind": "day"})),
    ],
    "by keys, then 「午後じゃないと」 is the afternoon": [
        *to_booking(),
        (Keys("1127"), Hear("book_hour", keys=4)),
        (Text("午後じゃないと"), Hear("book_pick", effect="find_slots", args={"kind": "window"})),
    ],
    "by keys, then 「午後」 for the time": [
        *to_booking(),
        (Keys("1127"), Hear("book_hour", keys=4)),
        (
            Text("午後"),
            Hear("book_pick", effect="find_slots", args={"kind": "window", "time_from": "12:00"}),
        ),
    ],
    "a day and time said at the menu search at once": [
        *started(),
        (
            Text("明日の午後空いてますか"),
            Hear("book_pick", effect="find_slots", args={"date_from": "2026-11-27"}),
        ),
    ],
    "not free: the three nearest, then 9 for the next, then none left": [
        *to_booking(),
        (Text("金曜日の10時"), Hear("book_pick", effect="find_slots", args={"kind": "exact"})),
        (
            found(
                at(27, 9), at(27, 9, 45), at(27, 10, 30), at(27, 11), at(27, 11, 15), reason="full"
            ),
            Hear(
                "book_pick",
                says=(
                    "11月27日 金曜日 午前10時は、あいにく埋まっております。",
                    "近いお時間をご案内します。",
                    "1番、11月27日 金曜日 午前9時。2番、午前9時45分。3番、午前10時30分。",
                ),
                keys=1,
            ),
        ),
        (
            Keys("9"),
            Hear("book_pick", says=("1番、11月27日 金曜日 午前11時。2番、午前11時15分。",), keys=1),
        ),
        (
            Text("ほかの時間"),
            Hear("book_when", says=("ご案内できるお時間は以上です。", ASK_WHEN), keys=4),
        ),
    ],
    "a time said that was read back picks it": [
        *to_booking(),
        (Text("明日の午後"), Hear("book_pick", effect="find_slots")),
        (found(*FRIDAY_AFTERNOON), Hear("book_pick", keys=1)),
        (Text("3時30分で"), Hear("book_name", keys=1)),
    ],
    "a closed day: the times after it": [
        *to_booking(),
        (Text("日曜日"), Hear("book_pick", effect="find_slots")),
        (
            found(reason="closed_day", alternatives=[at(30, 9), at(30, 9, 15)]),
            Hear(
                "book_pick",
                says=(
                    "11月29日 日曜日は、休診日です。それ以降で空いているお時間をご案内します。",
                    "1番、11月30日 月曜日 午前9時。",
                ),
                keys=1,
            ),
        ),
    ],
    "nothing near: asked again": [
        *to_booking(),
        (Text("明日"), Hear("book_pick", effect="find_slots")),
        (
            found(reason="full"),
            Hear("book_when", says=("近い日程に空きが見つかりませんでした。", ASK_WHEN), keys=4),
        ),
    ],
    "the time went meanwhile: searched again": [
        *to_booking(),
        (Text("明日の午後"), Hear("book_pick", effect="find_slots")),
        (found(*FRIDAY_AFTERNOON), Hear("book_pick", keys=1)),
        (Keys("1"), Hear("book_name", keys=1)),
        (Text("山田花子"), Hear("book_name", effect="request")),
        (
            Result("request", ok=False, data={"code": "slot_unavailable"}),
            Hear(
                "book_pick",
                says=("ちょうど埋まってしまいました。",),
                effect="find_slots",
                args={"time_from": "12:00"},
            ),
        ),
    ],
    "a landline caller keys a mobile number for the SMS": [
        *to_named(),
        ASKED_FOR_A_MOBILE,
        (
            Keys("09011112222"),
            Hear("sms_number", effect="sms", args={"booking_id": 31, "to": "+819011112222"}),
        ),
        (
            Result("sms", data={"sent": True, "to": "+819011112222"}),
            Hear(
                "anything_else",
                says=("末尾 2 2 2 2 の携帯電話に、確認のショートメッセージをお送りします。",),
                keys=1,
            ),
        ),
    ],
    "a landline caller skips the SMS with # (heard as silence)": [
        *to_named(),
        ASKED_FOR_A_MOBILE,
        (Silence(), Hear("anything_else", says=("ショートメッセージはお送りしません。",), keys=1)),
    ],
    "a landline caller keys a landline twice: no SMS": [
        *to_named(),
        ASKED_FOR_A_MOBILE,
        (
            Keys("0311112222"),
            Hear("sms_number", says=("携帯電話の番号を確認できませんでした。", "11桁で"), keys=11),
        ),
        (
            Keys("0501111222"),
            Hear("anything_else", says=("ショートメッセージはお送りしません。",), keys=1),
        ),
    ],
    "an opted-out caller is not offered an SMS": [
        *to_named(),
        (
            requested(at(27, 15), sms="none"),
            Hear(
                "anything_else",
                says=("ご予約のリクエストを承りました。",),
                keys=1,
                absent=("ショートメッセージ",),
            ),
        ),
    ],
}


@pytest.mark.parametrize("name", DIALOGUES)
def test_phone_booking(name: str) -> None:
    run(DIALOGUES[name])


def test_a_known_caller_books_their_last_course_without_giving_a_name() -> None:
    known = State("menu", {"open": True, "withheld": False, "last_course": PELVIS.id})
    run(
        [
            (Keys("1"), Hear("book_when", keys=4)),
            (
                Text("金曜の15時"),
                Hear("book_pick", effect="find_slots", args={"course_id": PELVIS.id}),
            ),
            (found(at(27, 15), exact=at(27, 15)), Hear("book_pick", keys=1)),
            (
                Text("はい"),
                Hear("book_pick", effect="request", args={"course_id": PELVIS.id, "name": None}),
            ),
            (
                requested(at(27, 15), status="confirmed"),
                Hear(
                    "book_pick",
                    says=("ご予約を承りました。11月27日 金曜日 午後3時、初診です。",),
                    effect="sms",
                ),
            ),
        ],
        facts=SATO,
        state=known,
    )


def test_a_caller_not_confirmed_books_the_first_visit_course() -> None:
    stranger = State("menu", {"open": True, "last_course": PELVIS.id})
    run(
        [
            (Keys("1"), Hear("book_when", keys=4)),
            (
                Text("明日"),
                Hear("book_pick", effect="find_slots", args={"course_id": FIRST_VISIT.id}),
            ),
        ],
        state=stranger,
    )


def test_a_clinic_without_courses_offers_a_callback() -> None:
    run(
        [
            (
                Keys("1"),
                Hear("callback_offer", says=("ご予約いただけるメニューがございません。",), keys=1),
            )
        ],
        facts=replace(FACTS, courses=()),
        state=State("menu", {"open": True}),
    )


def test_a_nominee_is_kept_when_a_booking_is_moved() -> None:
    moving = State(
        "book_when",
        {"mode": "change", "course_id": PELVIS.id, "staff_id": YAMADA.id, "booking_id": 11},
    )
    run(
        [
            (
                Text("明日"),
                Hear(
                    "book_pick", effect="find_slots", args={"staff_id": YAMADA.id, "booking_id": 11}
                ),
            )
        ],
        state=moving,
    )
