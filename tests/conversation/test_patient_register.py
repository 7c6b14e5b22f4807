"""Follow, unfollow and registration in the patient table (pure: results are hand-written)."""

from __future__ import annotations

from datetime import date

import pytest

from backend.conversation.model import Followed, Picked, Result, State, Text, Unfollowed
from backend.conversation.patient_register import birthday, katakana, person_name
from tests.conversation.patient_dialogue import KNOWN, NEWCOMER, Expect, run

MENU = ("menu:book", "menu:list", "menu:info", "menu:call")
KINDS = ("reg:new", "reg:existing")
GENDERS = ("gender:female", "gender:male", "gender:other", "skip")


def test_a_newcomer_registers_and_is_offered_booking() -> None:
    run(
        [
            (
                Followed(),
                Expect(
                    "reg_kind",
                    says=("友だち追加ありがとうございます", "さくら整骨院"),
                    choices=KINDS,
                ),
            ),
            (Picked("reg:new"), Expect("reg_name", says=("お名前を漢字で",))),
            (Text("　山田　花子 "), Expect("reg_kana", says=("山田 花子様ですね", "カタカナ"))),
            (Text("やまだ はなこ"), Expect("reg_phone", says=("お電話番号",))),
            (
                Text("090-1234-5678"),
                Expect("reg_phone", effect="check_phone", args={"phone": "090-1234-5678"}),
            ),
            (
                Result("check_phone", data={"phone": "+819012345678"}),
                Expect("reg_birth", says=("生年月日",), choices=("skip",)),
            ),
            (Text("1985年4月1日"), Expect("reg_gender", choices=GENDERS)),
            (
                Picked("gender:female"),
                Expect(
                    "reg_media",
                    says=("何でお知りに",),
                    choices=("media:1", "media:2", "media:3", "skip"),
                ),
            ),
            (Picked("media:2"), Expect("reg_consent", choices=("yes", "no"))),
            (
                Picked("yes"),
                Expect(
                    "reg_consent",
                    effect="register",
                    args={
                        "name": "山田 花子",
                        "kana": "ヤマダ ハナコ",
                        "phone": "+819012345678",
                        "birth_on": "1985-04-01",
                        "gender": "female",
                        "media_id": 2,
                        "consent_line": True,
                    },
                ),
            ),
            (
                Result("register", data={"patient_id": 5}),
                Expect("idle", says=("ご登録ありがとうございます", "山田 花子様"), choices=MENU),
                KNOWN,
            ),
        ],
        facts=NEWCOMER,
    )


def test_optional_answers_can_be_skipped_and_a_bad_phone_is_asked_again() -> None:
    state = State("reg_phone", {"full_name": "山田 花子", "kana": "ヤマダ ハナコ"})
    run(
        [
            (Text("123"), Expect("reg_phone", effect="check_phone")),
            (
                Result("check_phone", ok=False, data={"code": "invalid", "field": "phone"}),
                Expect("reg_phone", says=("確認できませんでした",)),
            ),
            (Text("０３−１２３４−５６７８"), Expect("reg_phone", effect="check_phone")),
            (Result("check_phone", data={"phone": "+81312345678"}), Expect("reg_birth")),
            (Text("そのうち"), Expect("reg_birth", says=("読み取れませんでした",))),
            (Picked("skip"), Expect("reg_gender")),
            (Text("回答しない"), Expect("reg_media")),
            (Picked("skip"), Expect("reg_consent")),
            (
                Text("いいえ"),
                Expect(
                    "reg_consent",
                    effect="register",
                    args={
                        "birth_on": None,
                        "gender": None,
                        "media_id": None,
                        "consent_line": False,
                    },
                ),
            ),
        ],
        facts=NEWCOMER,
        state=state,
    )


def test_a_clinic_without_media_skips_that_question() -> None:
    facts = NEWCOMER.__class__(**{**NEWCOMER.__dict__, "media": ()})
    run(
        [(Picked("gender:male"), Expect("reg_consent", says=("LINEでお送り",)))],
        facts=facts,
        state=State("reg_gender", {"full_name": "山田 太郎"}),
    )


def test_name_and_kana_are_checked() -> None:
    run(
        [
            (Text("09012345678"), Expect("reg_name", says=("文字だけで",))),
            (Text("佐藤 一郎"), Expect("reg_kana")),
            (Text("Sato"), Expect("reg_kana", says=("カタカナ（ひらがなでも結構です）",))),
            (Text("ｻﾄｳ ｲﾁﾛｳ"), Expect("reg_phone")),
        ],
        facts=NEWCOMER,
        state=State("reg_name"),
    )


def test_a_refused_registration_phone_goes_back_to_the_phone_question() -> None:
    run(
        [
            (
                Result("register", ok=False, data={"code": "invalid", "field": "phone"}),
                Expect("reg_phone", says=("お電話番号を確認できませんでした",)),
            ),
            (
                Result("register", ok=False, data={"code": "not_found"}),
                Expect("idle", says=("03-1234-5678",)),
            ),
        ],
        facts=NEWCOMER,
        state=State("reg_consent", {"full_name": "山田 花子"}),
    )


def test_a_returning_patient_is_matched_to_their_karte() -> None:
    run(
        [
            (Picked("reg:existing"), Expect("link_phone", says=("お電話番号",))),
            (Text("09012345678"), Expect("link_phone", effect="check_phone")),
            (
                Result("check_phone", data={"phone": "+819012345678"}),
                Expect("link_birth", says=("ご登録の生年月日",), choices=()),
            ),
            (Picked("skip"), Expect("link_birth", says=("読み取れませんでした",))),
            (
                Text("S60.4.1"),
                Expect(
                    "link_birth",
                    effect="match",
                    args={"phone": "+819012345678", "birth_on": "1985-04-01"},
                ),
            ),
            (
                Result("match", data={"patient_id": 5}),
                Expect("idle", says=("カルテとの連携が完了しました",), choices=MENU),
                KNOWN,
            ),
        ],
        facts=NEWCOMER,
        state=State("reg_kind"),
    )


@pytest.mark.parametrize("code", ["no_match", "ambiguous"])
def test_no_single_match_is_left_to_staff(code: str) -> None:
    run(
        [
            (
                Result("match", ok=False, data={"code": code}),
                Expect(
                    "idle",
                    says=("スタッフが確認のうえ、ご連絡いたします", "03-1234-5678"),
                    choices=("reg:existing", "reg:new"),
                ),
            )
        ],
        facts=NEWCOMER,
        state=State("link_birth", {"phone": "+819012345678"}),
    )


def test_booking_before_registering_goes_on_after_it() -> None:
    when = {
        "date_from": "2026-11-27",
        "date_to": "2026-11-27",
        "time_from": "12:00",
        "time_to": None,
        "kind": "window",
    }
    run(
        [
            (
                Text("明日の午後空いてますか"),
                Expect("reg_kind", says=("ご予約の前に",), choices=KINDS),
            ),
            (Text("初めてです"), Expect("reg_name")),
            (Text("予約"), Expect("reg_name", says=("ご予約の前に、ご登録を", "お名前を漢字で"))),
            (Text("山田 花子"), Expect("reg_kana")),
        ],
        facts=NEWCOMER,
    )
    waiting = State("reg_consent", {"full_name": "山田 花子", "then": "book", "when": when})
    run(
        [
            (
                Result("register", data={"patient_id": 5}),
                Expect("book_course", says=("ご登録ありがとうございます",), effect="history"),
            ),
            (
                Result("history", data={"visited": False, "course_id": None}),
                Expect("book_course", says=("11月27日(金) 午後ですね", "メニュー")),
            ),
        ],
        state=waiting,
    )


def test_follow_again_makes_a_known_patient_reachable_and_welcomes_them_back() -> None:
    run(
        [
            (Followed(), Expect("idle", effect="reachable")),
            (
                Result("reachable"),
                Expect("idle", says=("佐藤 花子様、おかえりなさい",), choices=MENU),
            ),
        ],
        state=State("book_day", {"course_id": 2}),
    )


def test_unfollow_marks_unreachable_and_says_nothing() -> None:
    run(
        [
            (Unfollowed(), Expect("idle", effect="unreachable", silent=True)),
            (Result("unreachable"), Expect("idle", silent=True)),
        ]
    )


def test_registration_buttons_for_someone_registered() -> None:
    run([(Picked("reg:new"), Expect("idle", says=("ご登録済み",), choices=MENU))])


def test_an_unregistered_person_writing_is_asked_to_register() -> None:
    run(
        [
            (Text("こんにちは"), Expect("reg_kind", says=("かんたんなご登録",), choices=KINDS)),
            (Text("前から通っています"), Expect("link_phone")),
            (Picked("menu:list"), Expect("reg_kind", says=("まだご登録がない",))),
        ],
        facts=NEWCOMER,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1985/4/1", date(1985, 4, 1)),
        ("1985-04-01", date(1985, 4, 1)),
        ("1985.4.1", date(1985, 4, 1)),
        ("19850401", date(1985, 4, 1)),
        ("1985年4月1日", date(1985, 4, 1)),
        ("1985年4月1日生まれ", date(1985, 4, 1)),
        ("昭和60年4月1日", date(1985, 4, 1)),
        ("S60.4.1", date(1985, 4, 1)),
        ("s60/4/1", date(1985, 4, 1)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("令和2年5月5日", date(2020, 5, 5)),
        ("2026/12/1", None),  # after today
        ("1985/2/30", None),
        ("1850/1/1", None),
        ("4月1日", None),
        ("", None),
    ],
)
def test_birthdays(text: str, expected: date | None) -> None:
    assert birthday(text, today=date(2026, 11, 26)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("やまだ はなこ", "ヤマダ ハナコ"),
        ("ヤマダ　ハナコ", "ヤマダ ハナコ"),
        ("ｻﾄｳ ｲﾁﾛｳ", "サトウ イチロウ"),
        ("ヴァン・ダイク", "ヴァン・ダイク"),
        ("すずき ゆうこー", "スズキ ユウコー"),
        ("山田", None),
        ("yamada", None),
        (" ", None),
    ],
)
def test_kana(text: str, expected: str | None) -> None:
    assert katakana(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("山田　花子", "山田 花子"),
        ("  Anna  Schmidt ", "Anna Schmidt"),
        ("090-1234-5678", None),
        ("https://example.com", None),
        ("", None),
    ],
)
def test_names(text: str, expected: str | None) -> None:
    assert person_name(text) == expected
