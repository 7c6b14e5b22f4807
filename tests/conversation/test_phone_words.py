"""How the phone reads what callers say and press, and how it says days, times and hours."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from backend.conversation.model import Event, Keys, Silence, Text
from backend.conversation.phone_callback import any_number, wants_staff
from backend.conversation.phone_common import keyed, yes_no
from backend.conversation.phone_slots import spoken_name
from backend.conversation.phone_sms import is_mobile, keyed_mobile
from backend.conversation.phone_texts import (
    spoken_address,
    spoken_day,
    spoken_hours,
    spoken_time,
    step_words,
    surname,
)
from tests.conversation.patient_dialogue import TOKYO


@pytest.mark.parametrize(
    ("event", "digits"),
    [
        (Keys("1"), "1"),
        (Keys("1203#"), "1203"),
        (Text("1"), "1"),
        (Text("１"), "1"),
        (Text("いち"), "1"),
        (Text("イチ"), "1"),
        (Text("1番"), "1"),
        (Text("一番目"), "1"),
        (Text("2番でお願いします"), "2"),
        (Text("にばんで"), "2"),
        (Text("きゅう"), "9"),
        (Text("1203"), "1203"),
        (Text("090-1111-2222"), "09011112222"),
        (Text("予約"), None),
        (Text("いちご"), None),
        (Silence(), None),
    ],
)
def test_numbers_said_count_as_keys(event: Event, digits: str | None) -> None:
    assert keyed(event) == digits


@pytest.mark.parametrize(
    ("event", "answer"),
    [
        (Keys("1"), True),
        (Keys("2"), False),
        (Text("はい"), True),
        (Text("はい、そうです"), True),
        (Text("お願いします"), True),
        (Text("いいえ"), False),
        (Text("違います"), False),
        (Text("結構です"), False),
        (Keys("3"), None),
        (Text("明日"), None),
        (Silence(), None),
    ],
)
def test_yes_and_no(event: Event, answer: bool | None) -> None:
    assert yes_no(event) is answer


@pytest.mark.parametrize(
    ("words", "staff"),
    [
        ("受付の人と話したい", True),
        ("スタッフに代わってください", True),
        ("先生と話せますか", True),
        ("予約したいんですけど", False),
        ("友人と一緒に予約したい", False),
        ("受付時間を知りたい", False),
        ("山田花子です", False),
    ],
)
def test_a_wish_for_a_person(words: str, staff: bool) -> None:
    assert wants_staff(words) is staff


@pytest.mark.parametrize(
    ("moment", "said"),
    [
        (time(10, 0), "午前10時"),
        (time(9, 45), "午前9時45分"),
        (time(12, 0), "正午"),
        (time(12, 30), "午後0時30分"),
        (time(15, 0), "午後3時"),
        (time(19, 15), "午後7時15分"),
    ],
)
def test_times_are_read_in_full(moment: time, said: str) -> None:
    assert spoken_time(moment) == said


def test_days_name_their_weekday() -> None:
    assert spoken_day(date(2026, 12, 3)) == "12月3日 木曜日"
    assert spoken_day(datetime(2027, 1, 4, tzinfo=TOKYO).date()) == "1月4日 月曜日"


def test_opening_hours_are_read_as_sentences() -> None:
    hours = "月〜金 9:00〜12:00・15:00〜20:00\n土 9:00〜14:00\n休診日: 日・祝日"
    assert spoken_hours(hours) == (
        "月曜から金曜は、午前9時から正午までと、午後3時から午後8時まで。"
        "土曜は、午前9時から午後2時まで。"
        "日曜・祝日は休診です。"
    )
    assert spoken_hours("年末年始はお休みです") == "年末年始はお休みです。"


def test_addresses_read_their_block_numbers() -> None:
    assert spoken_address("東京都新宿区西新宿1-2-3") == "東京都新宿区西新宿1の2の3"
    assert spoken_address("大阪市北区梅田3丁目") == "大阪市北区梅田3丁目"


def test_a_name_is_kept_as_heard_without_fillers() -> None:
    assert spoken_name("えーと、山田花子です") == "山田花子"
    assert spoken_name("山田 花子と申します。") == "山田 花子"
    assert spoken_name("やまだはなこ") == "やまだはなこ"
    assert spoken_name("1234") is None
    assert spoken_name("です") is None
    assert surname("佐藤 花子") == "佐藤"
    assert surname("佐藤花子") == "佐藤花子"


@pytest.mark.parametrize(
    ("number", "mobile"),
    [
        ("+817012345678", True),
        ("+818012345678", True),
        ("+819012345678", True),
        ("+81312345678", False),
        ("+815012345678", False),
        ("+14155550100", False),
        ("", False),
    ],
)
def test_only_japanese_mobiles_take_sms(number: str, mobile: bool) -> None:
    assert is_mobile(number) is mobile


def test_keyed_numbers() -> None:
    assert keyed_mobile("09011112222") == "+819011112222"
    assert keyed_mobile("0311112222") is None
    assert keyed_mobile("05011112222") is None
    assert keyed_mobile("9011112222") is None
    assert any_number("0312345678") == "+81312345678"
    assert any_number("09011112222") == "+819011112222"
    assert any_number("123") is None


def test_staff_read_how_far_a_caller_got() -> None:
    assert step_words("book_when") == "予約日時のご希望"
    assert step_words(None) == "着信直後"
    assert step_words("renamed_state") == "ご案内の途中"
