"""A patient's bookings through backend.dialogue.line.handle, on the real database: the
list, cancelling within and after the deadline, changing, and answering staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking
from backend.conversation.model import Card, Carousel, Picked
from backend.models import Awaiting, Booking, BookingStatus, Party, Source
from tests.dialogue.patient_chat import GROUP, Chat, open_clinic
from tests.factories import JST, NOW, jst, make_booking, make_patient

TUESDAY_TEN = jst(2026, 12, 1, 10)


def _local(moment: datetime) -> str:
    return moment.astimezone(JST).isoformat()


def test_the_list_then_a_cancel_within_the_deadline(session: Session) -> None:
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic, line_user_id="U1")
    made = make_booking(session, patient=patient, course=setup.pelvis, starts_at=TUESDAY_TEN)
    other = make_patient(session, setup.clinic, name="他の人", phone="+819099998888")
    make_booking(session, patient=other, course=setup.pelvis, starts_at=jst(2026, 12, 2, 10))
    chat = Chat(session, setup.clinic, user="U1")

    listed = chat.tap("menu:list")
    assert "ご予約は1件です" in listed.text
    assert isinstance(listed.replies[1], Carousel)
    assert listed.values == [f"booking:{made.id}:change", f"booking:{made.id}:cancel"]
    asked = chat.tap(f"booking:{made.id}:cancel")
    assert "12月1日(火) 10:00〜 骨盤矯正 のご予約をキャンセルしますか" in asked.text
    done = chat.tap("ok")
    assert "ご予約をキャンセルしました" in done.text
    assert (made.status, made.cancelled_by) == (BookingStatus.CANCELLED, Party.PATIENT)
    assert made.changes[-1].actor == "patient:line"
    (card,) = chat.to_staff()
    assert (card.to, card.purpose) == (GROUP, "staff:cancelled")
    assert "キャンセルがありました" in card.text


def test_a_cancel_after_the_deadline_is_refused_and_staff_are_told(session: Session) -> None:
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic, line_user_id="U1")
    soon = make_booking(
        session,
        patient=patient,
        course=setup.pelvis,
        starts_at=jst(2026, 11, 30, 10, 30),
        source=Source.STAFF,
    )
    chat = Chat(session, setup.clinic, user="U1")
    refused = chat.tap(f"booking:{soon.id}:cancel")
    assert "3時間前を過ぎているため、LINEではキャンセルを承れません" in refused.text
    assert "電話: 03-1234-5678" in refused.text
    assert soon.status == BookingStatus.CONFIRMED
    (card,) = chat.to_staff()
    assert card.purpose == "staff:late-cancel"
    assert "締切後のキャンセル希望" in card.text


def test_someone_elses_booking_cannot_be_touched(session: Session) -> None:
    setup = open_clinic(session)
    make_patient(session, setup.clinic, line_user_id="U1")
    other = make_patient(session, setup.clinic, name="他の人", phone="+819099998888")
    theirs = make_booking(session, patient=other, course=setup.pelvis, starts_at=TUESDAY_TEN)
    chat = Chat(session, setup.clinic, user="U1")
    assert "見つかりませんでした" in chat.tap(f"booking:{theirs.id}:cancel").text
    assert "受付が終わっています" in chat.tap(f"proposal:{theirs.id}:accept").text
    assert theirs.status == BookingStatus.REQUESTED


def test_a_change_keeps_course_and_staff(session: Session) -> None:
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic, line_user_id="U1")
    made = make_booking(
        session, patient=patient, course=setup.pelvis, starts_at=TUESDAY_TEN, staff=setup.suzuki
    )
    booking.confirm(session, booking_id=made.id, actor="staff:1", now=NOW)
    chat = Chat(session, setup.clinic, user="U1")
    days = chat.tap(f"booking:{made.id}:change")
    assert "12月1日(火) 10:00〜 骨盤矯正 のご予約を変更します" in days.text
    times = chat.tap("day:2026-12-03")
    three_ten = _local(jst(2026, 12, 3, 10))
    assert f"slot:{three_ten}" in times.values
    card = chat.tap(f"slot:{three_ten}")
    assert isinstance(card.replies[0], Card)
    assert ("変更前", "12月1日(火) 10:00") in card.replies[0].rows
    assert ("担当", "鈴木 一郎") in card.replies[0].rows
    moved = chat.tap("ok")
    assert "ご予約の変更を受け付けました" in moved.text
    assert (made.starts_at, made.status, made.staff_id) == (
        jst(2026, 12, 3, 10),
        BookingStatus.REQUESTED,
        setup.suzuki.id,
    )
    (staff_card,) = chat.to_staff()
    assert "予約の変更リクエスト" in staff_card.text
    assert "変更前: 12月1日(火) 10:00" in staff_card.text


def test_a_change_may_move_a_booking_by_a_quarter_of_an_hour(session: Session) -> None:
    # The booking's own time is not "taken" while it is being moved: 10:15 overlaps it.
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic, line_user_id="U1")
    made = make_booking(
        session, patient=patient, course=setup.pelvis, starts_at=TUESDAY_TEN, staff=setup.suzuki
    )
    booking.confirm(session, booking_id=made.id, actor="staff:1", now=NOW)
    chat = Chat(session, setup.clinic, user="U1")
    chat.tap(f"booking:{made.id}:change")
    times = chat.tap("day:2026-12-01")
    quarter_past = _local(jst(2026, 12, 1, 10, 15))
    assert f"slot:{quarter_past}" in times.values
    chat.tap(f"slot:{quarter_past}")
    chat.tap("ok")
    assert made.starts_at == jst(2026, 12, 1, 10, 15)


def test_accepting_a_proposal_confirms_and_the_confirmation_is_sent(session: Session) -> None:
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic, line_user_id="U1")
    made = make_booking(session, patient=patient, course=setup.pelvis, starts_at=TUESDAY_TEN)
    booking.propose(
        session, booking_id=made.id, starts_at=jst(2026, 12, 1, 15), actor="staff:1", now=NOW
    )
    chat = Chat(session, setup.clinic, user="U1")
    sent = chat.send(Picked(f"proposal:{made.id}:accept"))
    assert (made.status, made.awaiting) == (BookingStatus.CONFIRMED, None)
    (confirmation,) = [one for one in sent if one.to == "U1"]
    assert confirmation.purpose == "patient:confirmed"
    assert "ご予約が確定しました" in confirmation.text
    assert "12月1日(火) 15:00" in confirmation.text
    (settled,) = chat.to_staff()
    assert "提案した日時で確定しました" in settled.text
    again = chat.tap(f"proposal:{made.id}:accept")
    assert "すでに確定しています" in again.text


def test_declining_a_proposal_cancels_it_and_offers_days(session: Session) -> None:
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic, line_user_id="U1")
    made = make_booking(session, patient=patient, course=setup.pelvis, starts_at=TUESDAY_TEN)
    booking.propose(
        session, booking_id=made.id, starts_at=jst(2026, 12, 1, 15), actor="staff:1", now=NOW
    )
    chat = Chat(session, setup.clinic, user="U1")
    days = chat.tap(f"proposal:{made.id}:decline")
    assert "ご提案の日時はお取り消ししました" in days.text
    assert days.values[0] == "day:2026-11-30"
    assert (made.status, made.awaiting) == (BookingStatus.CANCELLED, None)
    assert made.changes[-1].reason == "proposal declined"
    assert "受付が終わっています" in chat.tap(f"proposal:{made.id}:decline").text


def test_rebooking_an_alternative_after_a_decline(session: Session) -> None:
    setup = open_clinic(session)
    patient = make_patient(session, setup.clinic, line_user_id="U1")
    made = make_booking(session, patient=patient, course=setup.pelvis, starts_at=TUESDAY_TEN)
    booking.decline(session, booking_id=made.id, actor="staff:1", now=NOW)
    chat = Chat(session, setup.clinic, user="U1")
    start = _local(jst(2026, 12, 2, 15))
    answer = chat.tap(f"rebook:{made.id}:{start}")
    assert "リクエストを受け付けました" in answer.text
    again = session.scalars(select(Booking).where(Booking.id != made.id)).one()
    assert (again.starts_at, again.course_id, again.awaiting) == (
        jst(2026, 12, 2, 15),
        setup.pelvis.id,
        Awaiting.STAFF,
    )
    assert "リクエストを受け付けました" in chat.tap(f"rebook:{made.id}:{start}").text
    assert len(session.scalars(select(Booking)).all()) == 2  # a second tap books nothing more


def test_a_slot_taken_between_offer_and_tap(session: Session) -> None:
    setup = open_clinic(session)
    make_patient(session, setup.clinic, line_user_id="U1", first_visit_on=NOW.date())
    rival = make_patient(session, setup.clinic, name="先着", phone="+819077778888")
    chat = Chat(session, setup.clinic, user="U1")
    chat.tap("menu:book")
    chat.tap(f"course:{setup.pelvis.id}")
    chat.tap(f"staff:{setup.yamada.id}")
    nine = _local(jst(2026, 12, 1, 9))
    chat.tap("day:2026-12-01")
    chat.tap(f"slot:{nine}")
    make_booking(
        session,
        patient=rival,
        course=setup.pelvis,
        starts_at=jst(2026, 12, 1, 9),
        staff=setup.yamada,
    )
    taken = chat.tap("ok")
    assert "12月1日(火) 9:00はちょうど埋まってしまいました" in taken.text
    # 山田 (nominated) is busy 9:00-9:20 with the rival's 20 hands-on minutes.
    assert taken.values[0] == f"slot:{_local(jst(2026, 12, 1, 9, 30))}"
