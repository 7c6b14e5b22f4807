"""booking.request_plain, the phone's way to request (booking.request is it plus the
Booking loaded): the rows it writes, what it answers, and its refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking
from backend.errors import DomainError, Invalid, NotFound, SlotUnavailable
from backend.models import (
    Awaiting,
    Booking,
    BookingChange,
    BookingStatus,
    Clinic,
    Patient,
    Source,
    Staff,
)
from tests.factories import NOW, jst, make_bed, make_clinic, make_course, make_patient, make_staff

TEN = jst(2026, 12, 1, 10)


def _request(session: Session, **given: Any) -> Booking:
    arguments = {"now": NOW, "source": Source.PHONE, "actor": "patient:phone", **given}
    made = booking.request_plain(session, **arguments)
    session.expire_all()
    written = session.get(Booking, made.id)
    assert written is not None
    return written


def _clinic(session: Session, **settings: Any) -> tuple[Clinic, Patient, Staff, int]:
    clinic = make_clinic(session, **settings)
    make_bed(session, clinic)
    make_bed(session, clinic, name="ベッド2")
    staff = make_staff(session, clinic)
    make_staff(session, clinic, name="鈴木 一郎")
    return clinic, make_patient(session, clinic), staff, make_course(session, clinic).id


@pytest.mark.parametrize("auto_approve", [False, True])
@pytest.mark.parametrize("nominate", [False, True])
@pytest.mark.parametrize("source", [Source.PHONE, Source.STAFF])
def test_the_booking_and_its_change_record(
    session: Session, auto_approve: bool, nominate: bool, source: Source
) -> None:
    clinic, patient, staff, course_id = _clinic(session, auto_approve=auto_approve)
    given = {"clinic_id": clinic.id, "patient_id": patient.id, "course_id": course_id}
    given |= {"source": source, "staff_id": staff.id if nominate else None}

    made = _request(session, starts_at=TEN, note="腰が痛い", **given)

    confirmed = auto_approve or source == Source.STAFF
    assert (made.clinic_id, made.patient_id, made.course_id) == (clinic.id, patient.id, course_id)
    assert (made.source, made.note, made.nominated) == (source, "腰が痛い", nominate)
    assert made.status == (BookingStatus.CONFIRMED if confirmed else BookingStatus.REQUESTED)
    assert made.awaiting == (None if confirmed else Awaiting.STAFF)
    assert (made.hold_until is None) == confirmed
    assert made.starts_at == TEN
    assert made.bed_id is not None
    assert made.staff_id == staff.id if nominate else made.staff_id is not None
    changes = session.scalars(select(BookingChange).where(BookingChange.booking_id == made.id))
    assert [(c.from_status, c.to_status, c.actor, c.at) for c in changes] == [
        (None, made.status, "patient:phone", NOW)
    ]
    # The engine sees it: the next request at ten gets the other bed.
    after = _request(session, starts_at=TEN, **{**given, "staff_id": None})
    assert after.bed_id != made.bed_id


def test_pending_changes_of_the_session_are_read(session: Session) -> None:
    clinic, patient, _, course_id = _clinic(session)
    clinic.auto_approve = True  # not flushed yet: the ORM's own reads would see it

    made = _request(
        session, clinic_id=clinic.id, patient_id=patient.id, course_id=course_id, starts_at=TEN
    )

    assert made.status == BookingStatus.CONFIRMED


def test_the_plain_request_answers_what_its_card_needs(session: Session) -> None:
    clinic, patient, staff, course_id = _clinic(session, line_staff_group_id="Cgroup")
    made = booking.request_plain(
        session,
        clinic_id=clinic.id,
        patient_id=patient.id,
        course_id=course_id,
        starts_at=TEN,
        now=NOW,
        source=Source.PHONE,
        actor="patient:phone",
        staff_id=staff.id,
    )
    assert (made.clinic.id, made.clinic.line_staff_group_id) == (clinic.id, "Cgroup")
    assert (made.course.id, made.course.minutes, made.staff_id, made.nominated) == (
        course_id,
        30,
        staff.id,
        True,
    )
    assert made.starts_at == TEN
    session.expire_all()
    assert session.get(Clinic, clinic.id).schedule_token == made.clinic.schedule_token


def _refusals(session: Session) -> list[tuple[str, dict[str, Any], type[DomainError]]]:
    clinic, patient, _, course_id = _clinic(session)
    other = make_clinic(session, name="別院")
    merged = make_patient(session, clinic, merged_into_id=patient.id)
    retired = make_course(session, clinic, name="休止中", active=False).id
    base = {"clinic_id": clinic.id, "patient_id": patient.id, "course_id": course_id}
    base["starts_at"] = TEN
    return [
        ("no clinic", {**base, "clinic_id": 987654}, NotFound),
        ("a stranger", {**base, "patient_id": make_patient(session, other).id}, NotFound),
        ("merged", {**base, "patient_id": merged.id}, Invalid),
        ("a course elsewhere", {**base, "course_id": make_course(session, other).id}, NotFound),
        ("a retired course", {**base, "course_id": retired}, NotFound),
        ("no such staff", {**base, "staff_id": 987654}, NotFound),
        ("naive", {**base, "starts_at": TEN.replace(tzinfo=None)}, Invalid),
        ("off the minute", {**base, "starts_at": TEN + timedelta(seconds=30)}, Invalid),
        ("Sunday", {**base, "starts_at": jst(2026, 12, 6, 10)}, SlotUnavailable),
        ("beyond the horizon", {**base, "starts_at": NOW + timedelta(days=61)}, SlotUnavailable),
    ]


def test_the_refusals(session: Session) -> None:
    for why, given, refusal in _refusals(session):
        with pytest.raises(refusal), session.begin_nested():
            _request(session, **given)
        assert session.scalar(select(Booking.id).limit(1)) is None, why
