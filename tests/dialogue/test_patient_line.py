"""The patient side through backend.dialogue.line.handle, on the real database: follow,
registration (new and matched), booking by buttons and by words, unfollow and re-follow."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.conversation.model import Card, Followed, Unfollowed
from backend.conversation.patient_common import EFFECTS
from backend.dialogue import patient_effects, staff_effects
from backend.models import (
    AuditLog,
    Booking,
    BookingStatus,
    ConversationState,
    Gender,
    Patient,
    Source,
    StaffDayOff,
)
from tests.dialogue.patient_chat import GROUP, Chat, open_clinic
from tests.factories import JST, jst, make_booking, make_patient

KINDS = ["reg:new", "reg:existing"]


def _register(chat: Chat, media_id: int) -> None:
    """The 初めての方 questions, answered."""
    assert chat.tap("reg:new").text.startswith("お名前を漢字で")
    assert "フリガナ" in chat.say("山田 花子").text
    assert "お電話番号" in chat.say("やまだ はなこ").text
    assert "生年月日" in chat.say("090-1111-2222").text
    assert "性別" in chat.say("1990/5/6").text
    assert "何でお知りに" in chat.tap("gender:female").text
    assert "LINEでお送り" in chat.tap(f"media:{media_id}").text


def test_from_follow_to_a_requested_booking(session: Session) -> None:
    setup = open_clinic(session)
    chat = Chat(session, setup.clinic)
    greeting = chat.reply(Followed())
    assert "友だち追加ありがとうございます。テスト整骨院です。" in greeting.text
    assert greeting.values == KINDS
    assert greeting.reply_token == "reply-token-1"
    _register(chat, setup.media.id)
    done = chat.tap("yes")
    assert "ご登録ありがとうございます。山田 花子様のカルテを作成しました。" in done.text

    patient = session.scalars(select(Patient).where(Patient.line_user_id == chat.user)).one()
    assert (patient.name, patient.kana, patient.phone) == (
        "山田 花子",
        "ヤマダ ハナコ",
        "+819011112222",
    )
    assert (patient.birth_on, patient.gender) == (date(1990, 5, 6), Gender.FEMALE)
    assert (patient.media_id, patient.consent_line, patient.line_reachable) == (
        setup.media.id,
        True,
        True,
    )

    courses = chat.tap("menu:book")
    assert courses.values[:2] == [f"course:{setup.first_visit.id}", f"course:{setup.pelvis.id}"]
    staff = chat.tap(f"course:{setup.first_visit.id}")
    assert staff.values == [
        "staff:0",
        f"staff:{setup.yamada.id}",
        f"staff:{setup.suzuki.id}",
        "back",
    ]
    days = chat.tap("staff:0")
    assert days.values[:3] == ["day:2026-11-30", "day:2026-12-01", "day:2026-12-02"]
    assert days.replies[0].date_pick is not None  # type: ignore[union-attr]
    times = chat.tap("day:2026-12-01")
    nine = jst(2026, 12, 1, 9).astimezone(JST).isoformat()
    assert times.values[0] == f"slot:{nine}"
    assert len(times.values) == 13  # 11 times, 「もっと後の時間」, 「別の日にする」
    assert times.values[-2].startswith("more:")
    assert times.values[-1] == "back"
    card = chat.tap(f"slot:{nine}")
    assert isinstance(card.replies[0], Card)
    assert ("日時", "12月1日(火) 9:00") in card.replies[0].rows
    answer = chat.tap("ok")
    assert "ご予約のリクエストを受け付けました" in answer.text
    assert "スタッフが確認してご連絡します" in answer.text

    made = session.scalars(select(Booking).where(Booking.patient_id == patient.id)).one()
    assert (made.status, made.source, made.course_id) == (
        BookingStatus.REQUESTED,
        Source.LINE,
        setup.first_visit.id,
    )
    assert made.starts_at == jst(2026, 12, 1, 9)
    assert made.changes[0].actor == "patient:line"
    (card_sent,) = chat.to_staff()
    assert card_sent.purpose == "staff:request"
    assert "予約リクエスト" in card_sent.text
    assert "初めての方" in card_sent.text
    assert card_sent.values == [
        f"req:{made.id}:approve",
        f"req:{made.id}:propose",
        f"req:{made.id}:decline",
    ]
    state = session.scalars(
        select(ConversationState).where(ConversationState.subject == chat.user)
    ).one()
    assert (state.state, state.data) == ("idle", {})


def test_an_auto_approving_clinic_confirms_at_once(session: Session) -> None:
    setup = open_clinic(session, auto_approve=True)
    make_patient(session, setup.clinic, line_user_id="U1", first_visit_on=date(2026, 1, 5))
    chat = Chat(session, setup.clinic, user="U1")
    chat.tap("menu:book")
    chat.tap(f"course:{setup.pelvis.id}")
    chat.tap(f"staff:{setup.yamada.id}")
    times = chat.tap("day:2026-12-02")
    chat.tap(times.values[0])
    answer = chat.tap("ok")
    assert "ご予約が確定しました" in answer.text
    made = session.scalars(select(Booking)).one()
    assert (made.status, made.staff_id, made.nominated) == (
        BookingStatus.CONFIRMED,
        setup.yamada.id,
        True,
    )
    assert [sent.purpose for sent in chat.to_staff()] == ["staff:request"]
    assert "確定済み" in chat.to_staff()[0].text


def test_booking_by_words_with_the_last_course(session: Session) -> None:
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic, line_user_id="U1")
    make_booking(session, patient=patient, course=setup.pelvis, starts_at=jst(2026, 12, 4, 10))
    chat = Chat(session, setup.clinic, user="U1")

    afternoon = chat.say("明日の午後空いてますか")
    assert "12月1日(火) 午後で空いている時間です" in afternoon.text
    first = jst(2026, 12, 1, 15).astimezone(JST).isoformat()
    assert afternoon.values[0] == f"slot:{first}"
    chat.tap(afternoon.values[0])
    assert "リクエストを受け付けました" in chat.tap("ok").text
    made = session.scalars(select(Booking).where(Booking.starts_at == jst(2026, 12, 1, 15))).one()
    assert made.course_id == setup.pelvis.id

    exact = chat.say("12/3 10時でお願いします")
    assert isinstance(exact.replies[0], Card)
    assert ("日時", "12月3日(木) 10:00") in exact.replies[0].rows


def test_words_naming_a_closed_or_full_day(session: Session) -> None:
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic, line_user_id="U1")
    make_booking(session, patient=patient, course=setup.pelvis, starts_at=jst(2026, 12, 4, 10))
    for member in (setup.yamada, setup.suzuki):
        session.add(StaffDayOff(staff_id=member.id, off_on=date(2026, 12, 2)))
    session.flush()
    chat = Chat(session, setup.clinic, user="U1")

    sunday = chat.say("12/6の午前")
    assert "12月6日(日) 午前は休診日です" in sunday.text
    assert "それ以降で空いている時間" in sunday.text
    monday = jst(2026, 12, 7, 9).astimezone(JST).isoformat()
    assert sunday.values[0] == f"slot:{monday}"

    full = chat.say("12/2 10時")
    assert "12月2日(水) 10:00はあいにく満席です" in full.text
    assert full.values[0].startswith("slot:2026-12-03T09:00")

    night = chat.say("12/3の朝7時")
    assert "12月3日(木) 7:00は診療時間外です" in night.text
    assert night.values[0].startswith("slot:2026-12-03T09:00")


def test_unfollow_then_follow_again(session: Session) -> None:
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic, line_user_id="U1")
    chat = Chat(session, setup.clinic, user="U1")
    assert chat.send(Unfollowed()) == []
    assert patient.line_reachable is False
    back = chat.reply(Followed())
    assert "佐藤 花子様、おかえりなさい" in back.text
    assert patient.line_reachable is True


def test_a_returning_patient_is_linked_to_their_only_karte(session: Session) -> None:
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic)
    make_patient(session, setup.clinic, name="別人", birth_on=date(1990, 1, 1))
    chat = Chat(session, setup.clinic, user="U9")
    chat.reply(Followed())
    chat.tap("reg:existing")
    chat.say("090-1234-5678")
    linked = chat.say("昭和60年4月1日")
    assert "カルテとの連携が完了しました" in linked.text
    assert (patient.line_user_id, patient.line_reachable) == ("U9", True)
    entry = session.scalars(select(AuditLog).where(AuditLog.patient_id == patient.id)).one()
    assert (entry.actor, entry.detail) == ("patient:line", "fields line_user_id")
    assert chat.to_staff() == []


def test_an_ambiguous_or_missing_karte_is_left_to_staff(session: Session) -> None:
    setup = open_clinic(session)
    twins = [make_patient(session, setup.clinic, name=name) for name in ("佐藤 花子", "佐藤 華子")]
    make_patient(session, setup.clinic, name="連携済み", phone="+819055556666", line_user_id="U7")
    chat = Chat(session, setup.clinic, user="U9")
    chat.tap("reg:existing")
    chat.say("090-1234-5678")
    answer = chat.say("1985/4/1")
    assert "スタッフが確認のうえ、ご連絡いたします" in answer.text
    assert "03-1234-5678" in answer.text
    assert all(twin.line_user_id is None for twin in twins)
    (card,) = chat.to_staff()
    assert card.to == GROUP
    assert card.purpose == "staff:link-check"
    assert "候補が複数あります" in card.text
    assert "U9" in card.text

    chat.tap("reg:existing")
    chat.say("090-5555-6666")
    chat.say("1985/4/1")  # that カルテ belongs to another LINE user: not a match
    (card,) = chat.to_staff()
    assert "該当なし" in card.text


def test_a_bad_phone_is_asked_again_and_nothing_is_written(session: Session) -> None:
    setup = open_clinic(session)
    chat = Chat(session, setup.clinic, user="U9")
    chat.tap("reg:new")
    chat.say("山田 花子")
    chat.say("ヤマダ ハナコ")
    again = chat.say("12345")
    assert "お電話番号を確認できませんでした" in again.text
    assert session.scalars(select(Patient)).all() == []


def test_every_effect_has_a_performer_and_no_staff_effect_shares_a_name() -> None:
    assert set(patient_effects.PERFORMERS) == EFFECTS
    assert not set(patient_effects.PERFORMERS) & set(staff_effects.PERFORMERS)


def test_a_merged_duplicate_holding_the_line_account_gives_it_up(session: Session) -> None:
    setup = open_clinic(session)
    survivor = make_patient(session, setup.clinic, name="生存 花子", phone="+819011112222")
    make_patient(session, setup.clinic, line_user_id="U7", merged_into_id=survivor.id)
    chat = Chat(session, setup.clinic, user="U7")
    chat.reply(Followed())
    chat.tap("reg:new")
    chat.say("新規 太郎")
    chat.say("シンキ タロウ")
    chat.say("080-3333-4444")
    chat.say("1990/5/6")
    chat.tap("gender:male")
    chat.tap(f"media:{setup.media.id}")
    chat.tap("yes")
    assert session.scalars(select(Patient).where(Patient.line_user_id == "U7")).one().name == (
        "新規 太郎"
    )
