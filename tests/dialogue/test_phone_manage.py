"""Changing and cancelling by phone through backend.dialogue.phone.answer on the real
database: the caller's bookings read back, a cancel, a cancel after the deadline, a
change, and bookings of other numbers kept out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from backend import booking
from backend.models import Booking, BookingStatus, CallOutcome, Party
from tests.dialogue.patient_chat import Setup, open_clinic
from tests.dialogue.test_phone_calls import LANDLINE, MOBILE, Call
from tests.factories import NOW, jst, make_booking, make_patient


def _confirmed(session: Session, setup: Setup, starts_at: datetime, phone: str = MOBILE) -> Booking:
    sato = make_patient(session, setup.clinic, phone=phone)
    made = make_booking(
        session, patient=sato, course=setup.pelvis, starts_at=starts_at, staff=setup.yamada
    )
    booking.confirm(session, booking_id=made.id, actor="staff:1", now=NOW)
    return made


def test_cancel_in_time(session: Session) -> None:
    setup = open_clinic(session)
    made = _confirmed(session, setup, jst(2026, 12, 3, 10))
    call = Call(session, setup.clinic)
    call.start()
    call.press("1")  # yes, this is 佐藤
    listed = call.press("2")
    assert "ご予約が、1件ございます。" in listed
    assert "1件目、12月3日 木曜日 午前10時、佐藤様、骨盤矯正のご予約です。" in listed
    assert "よろしければ1" in call.press("1")
    assert "ご予約のキャンセルを承りました。" in call.press("1")
    assert made.status == BookingStatus.CANCELLED
    assert made.cancelled_by == Party.PATIENT
    assert (call.log.outcome, call.log.booking_id) == (CallOutcome.CANCELLED, made.id)
    assert [card.title for card in call.cards()] == ["キャンセルがありました"]


def test_cancel_after_the_deadline_is_a_callback(session: Session) -> None:
    setup = open_clinic(session)
    made = _confirmed(session, setup, jst(2026, 11, 30, 11))
    call = Call(session, setup.clinic)
    call.start()
    call.press("2")  # someone else on the phone: the bookings of the number all the same
    call.press("2")
    said = call.press("1")
    assert "ご予約の3時間前を過ぎているため、自動音声ではキャンセルを承れません。" in said
    assert "スタッフより、折り返しお電話いたします。" in said
    assert made.status == BookingStatus.CONFIRMED
    assert call.log.outcome == CallOutcome.CALLBACK_REQUESTED
    [card] = call.cards()
    assert card.title == "締切後のキャンセル希望"


def test_a_change_after_the_deadline_is_a_callback(session: Session) -> None:
    setup = open_clinic(session)
    _confirmed(session, setup, jst(2026, 11, 30, 11))
    call = Call(session, setup.clinic)
    call.start()
    call.press("2")
    call.press("2")
    said = call.press("2")
    assert "自動音声では変更を承れません。" in said
    assert "スタッフより、折り返しお電話いたします。" in said
    assert call.log.outcome == CallOutcome.CALLBACK_REQUESTED
    assert [card.title for card in call.cards()] == ["締切後の変更希望"]


def test_change_to_another_time(session: Session) -> None:
    setup = open_clinic(session)
    made = _confirmed(session, setup, jst(2026, 12, 3, 10))
    call = Call(session, setup.clinic)
    call.start()
    call.press("2")
    call.say("予約を変更したい")
    assert "12月3日 木曜日 午前10時のご予約を変更いたします。" in call.press("2")
    assert "12月4日 金曜日 午後3時は、ご予約いただけます。" in call.say("12月4日の15時")
    said = call.press("1")
    assert "ご予約の変更を承りました。変更後は、12月4日 金曜日 午後3時です。" in said
    assert (made.starts_at, made.status, made.staff_id) == (
        jst(2026, 12, 4, 15),
        BookingStatus.REQUESTED,
        setup.yamada.id,
    )
    assert (call.log.outcome, call.log.booking_id) == (CallOutcome.CHANGED, made.id)
    assert [card.title for card in call.cards()] == ["予約の変更リクエスト"]


def test_bookings_of_other_numbers_are_not_read(session: Session) -> None:
    setup = open_clinic(session)
    _confirmed(session, setup, jst(2026, 12, 3, 10), phone=LANDLINE)
    call = Call(session, setup.clinic)
    call.start()
    said = call.press("2")
    assert "ご予約は見つかりませんでした。" in said
    assert "折り返しお電話いたしましょうか" in said
