"""Booking by phone through backend.dialogue.phone.answer on the real database: a new
mobile caller by voice, a known caller by keys, landline and withheld callers, opted-out
numbers, and a clinic that confirms at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking
from backend.models import Booking, BookingStatus, CallOutcome, Patient, Source
from tests.dialogue.patient_chat import open_clinic
from tests.dialogue.test_phone_calls import LANDLINE, LINE_URL, MOBILE, Call, rows
from tests.factories import jst, make_booking, make_patient


def test_a_new_mobile_caller_books_by_voice(session: Session) -> None:
    setup = open_clinic(session, line_add_url=LINE_URL)
    call = Call(session, setup.clinic)
    call.start()
    assert "ご希望の日にちとお時間をお話しください" in call.say("予約したいんですけど")
    offer = call.say("明日の午前")
    assert "1番、12月1日 火曜日 午前9時。2番、午前9時15分。3番、午前9時30分。" in offer
    assert "お名前を、フルネームで" in call.say("2番")
    said = call.say("山田花子です")
    assert "山田花子様ですね。" in said
    assert "ご予約のリクエストを承りました。12月1日 火曜日 午前9時15分、初診です。" in said
    assert "スタッフが確認し、ご連絡いたします。" in said
    assert "確認のショートメッセージをお送りします。" in said
    assert "お電話ありがとうございました。" in call.press("2")

    made = session.scalars(select(Booking)).one()
    assert (made.source, made.status, made.course_id) == (
        Source.PHONE,
        BookingStatus.REQUESTED,
        setup.first_visit.id,
    )
    assert made.starts_at == jst(2026, 12, 1, 9, 15)
    patient = made.patient
    assert (patient.name, patient.name_verified, patient.phone) == ("山田花子", False, MOBILE)
    log = call.log
    assert (log.outcome, log.patient_id, log.booking_id) == (
        CallOutcome.REQUEST_MADE,
        patient.id,
        made.id,
    )
    [card] = call.cards()
    assert card.title == "予約リクエスト"
    assert rows(card)["お名前"] == "山田花子（未確認）"
    assert (rows(card)["電話"], rows(card)["受付"]) == ("090-1234-5678", "電話")
    assert rows(card)["日時"] == "12月1日(火) 9:15"
    [sms] = call.sms()
    assert (sms.recipient, sms.purpose, sms.patient_id) == (MOBILE, "phone:request", patient.id)
    assert sms.payload == {
        "text": "【テスト整骨院】お電話でのご予約リクエストを承りました。\n12月1日(火) 9:15\n"
        f"スタッフが確認のうえ、ご連絡いたします。\nLINEでご予約の確認・変更ができます: {LINE_URL}"
    }
    assert "初診" not in sms.payload["text"]  # no treatment in an SMS (DESIGN rule 6)
    call.end(seconds=95)
    assert (call.log.outcome, call.log.duration_seconds) == (CallOutcome.REQUEST_MADE, 95)
    assert len(call.cards()) == 1


def test_a_known_caller_books_their_last_course_by_keys(session: Session) -> None:
    setup = open_clinic(session)
    sato = make_patient(session, setup.clinic, phone=MOBILE)
    make_booking(session, patient=sato, course=setup.pelvis, starts_at=jst(2026, 11, 30, 15))
    call = Call(session, setup.clinic)
    assert "佐藤様でいらっしゃいますか。" in call.start()
    assert "佐藤様、いつもありがとうございます。" in call.press("1")
    call.press("1")
    assert "12月2日 水曜日ですね。" in call.press("1202")
    assert "12月2日 水曜日 午前10時は、ご予約いただけます。" in call.press("1000")
    said = call.press("1")
    assert "お名前" not in said
    assert "12月2日 水曜日 午前10時、骨盤矯正です。" in said

    made = session.scalars(select(Booking).where(Booking.starts_at == jst(2026, 12, 2, 10))).one()
    assert (made.patient_id, made.course_id, made.source) == (
        sato.id,
        setup.pelvis.id,
        Source.PHONE,
    )
    assert session.scalars(select(Patient)).all() == [sato]
    assert call.log.patient_id == sato.id
    assert len(call.sms()) == 1


def test_someone_else_on_a_known_phone_is_a_new_caller(session: Session) -> None:
    setup = open_clinic(session)
    sato = make_patient(session, setup.clinic, phone=MOBILE)
    call = Call(session, setup.clinic)
    call.start()
    call.press("2")
    call.press("1")
    call.press("1202")
    call.press("1000")
    call.press("1")
    call.say("佐藤太郎")
    made = session.scalars(select(Booking)).one()
    assert made.patient_id != sato.id
    assert (made.patient.name, made.patient.phone, made.course_id) == (
        "佐藤太郎",
        MOBILE,
        setup.first_visit.id,
    )


def test_a_landline_caller_keys_a_mobile_for_the_sms(session: Session) -> None:
    setup = open_clinic(session, line_add_url=LINE_URL)
    call = Call(session, setup.clinic, caller=LANDLINE)
    call.start()
    call.press("1")
    call.say("12月2日の10時")
    call.press("1")
    assert "携帯電話の番号を、11桁で押してください" in call.say("鈴木一郎")
    assert "携帯電話の番号を確認できませんでした。" in call.press("0311112222")
    assert "末尾 2 2 2 2 の携帯電話に" in call.press("09011112222")
    [sms] = call.sms()
    assert sms.recipient == "+819011112222"
    patient = session.scalars(select(Patient)).one()
    assert patient.phone == LANDLINE


def test_a_landline_caller_may_do_without_the_sms(session: Session) -> None:
    setup = open_clinic(session)
    call = Call(session, setup.clinic, caller=LANDLINE)
    call.start()
    call.press("1")
    call.say("12月2日の10時")
    call.press("1")
    call.say("鈴木一郎")
    assert "ショートメッセージはお送りしません" in call.say("いらないです")
    assert call.sms() == []


def test_a_withheld_caller_is_reached_at_the_mobile_they_key(session: Session) -> None:
    setup = open_clinic(session)
    call = Call(session, setup.clinic, caller="")
    call.start()
    call.press("1")
    call.say("12月2日の10時")
    call.press("1")
    call.say("田中")
    call.press("08033334444")
    patient = session.scalars(select(Patient)).one()
    assert (patient.name, patient.phone, patient.name_verified) == ("田中", "+818033334444", False)
    assert [sms.recipient for sms in call.sms()] == ["+818033334444"]


def test_an_opted_out_number_gets_no_sms(session: Session) -> None:
    setup = open_clinic(session)
    make_patient(session, setup.clinic, name="佐藤 一郎", phone=MOBILE, sms_opted_out=True)
    make_patient(session, setup.clinic, name="佐藤 花子", phone=MOBILE)
    call = Call(session, setup.clinic)
    assert "様でいらっしゃいますか" not in call.start()  # two カルテ share the phone
    call.press("1")
    call.say("12月2日の10時")
    call.press("1")
    said = call.say("佐藤花子")
    assert "ショートメッセージ" not in said
    assert call.sms() == []
    made = session.scalars(select(Booking)).one()
    assert made.patient.name == "佐藤 花子"  # the name heard found her カルテ


def test_a_clinic_that_confirms_at_once(session: Session) -> None:
    setup = open_clinic(session, auto_approve=True, line_add_url=LINE_URL)
    call = Call(session, setup.clinic)
    call.start()
    call.press("1")
    call.say("12月2日の10時")
    call.press("1")
    said = call.say("山田花子")
    assert (
        "ご予約を承りました。12月2日 水曜日 午前10時、初診です。ご来院をお待ちしております。"
        in said
    )
    assert session.scalars(select(Booking)).one().status == BookingStatus.CONFIRMED
    [card] = call.cards()
    assert card.title == "新しいご予約（確定済み）"
    assert call.sms()[0].payload["text"].startswith("【テスト整骨院】ご予約を承りました。")


def test_a_time_taken_meanwhile_is_searched_again(session: Session) -> None:
    setup = open_clinic(session)
    call = Call(session, setup.clinic)
    call.start()
    call.press("1")
    call.say("12月2日の10時")
    for staff in (setup.yamada, setup.suzuki):
        other = make_patient(session, setup.clinic, name="他の 患者", phone=None)
        booking.request(
            session,
            clinic_id=setup.clinic.id,
            patient_id=other.id,
            course_id=setup.pelvis.id,
            starts_at=jst(2026, 12, 2, 10),
            now=call.now,
            source=Source.STAFF,
            actor="test",
            staff_id=staff.id,
        )
    call.press("1")
    said = call.say("山田花子")
    assert "ちょうど埋まってしまいました。" in said
    assert "近いお時間をご案内します。" in said
    assert session.scalars(select(Booking).where(Booking.source == Source.PHONE)).all() == []
    assert session.scalars(select(Patient).where(Patient.name == "山田花子")).all() == []
