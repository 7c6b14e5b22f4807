"""booking.request_plain, the phone's way to request: the same rows and the same refusals
as booking.request, written with plain statements."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking
from backend.errors import DomainError, Invalid, NotFound, SlotUnavailable
from backend.models import Booking, BookingChange, Clinic, Patient, Source, Staff
from tests.factories import NOW, jst, make_bed, make_clinic, make_course, make_patient, make_staff

TEN = jst(2026, 12, 1, 10)
IGNORED = {"id", "booking_id"}


def _request(session: Session, plain: bool, **given: Any) -> int:
    arguments = {"now": NOW, "source": Source.PHONE, "actor": "patient:phone", **given}
    if plain:
        return booking.request_plain(session, **arguments).id
    return booking.request(session, **arguments).id


def _written(session: Session, booking_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The booking's row and its change records, without their ids."""
    session.expire_all()
    made = session.get(Booking, booking_id)
    assert made is not None
    columns = {c.key: getattr(made, c.key) for c in Booking.__table__.c if c.key not in IGNORED}
    changes = session.scalars(select(BookingChange).where(BookingChange.booking_id == booking_id))
    logged = [
        {c.key: getattr(change, c.key) for c in BookingChange.__table__.c if c.key not in IGNORED}
        for change in changes
    ]
    return columns, logged


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
def test_the_same_booking_and_change_record(
    session: Session, auto_approve: bool, nominate: bool, source: Source
) -> None:
    clinic, patient, staff, course_id = _clinic(session, auto_approve=auto_approve)
    given = {"clinic_id": clinic.id, "patient_id": patient.id, "course_id": course_id}
    given |= {"source": source, "staff_id": staff.id if nominate else None}
    savepoint = session.begin_nested()
    orm = _written(session, _request(session, plain=False, starts_at=TEN, **given))
    savepoint.rollback()
    plain = _request(session, plain=True, starts_at=TEN, **given)
    assert _written(session, plain) == orm
    # The engine sees the plain one: the next request at ten gets the other bed.
    anyone = {**given, "staff_id": None}
    after = _written(session, _request(session, plain=False, starts_at=TEN, **anyone))
    assert after[0]["bed_id"] != orm[0]["bed_id"]


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


def test_the_same_refusals(session: Session) -> None:
    for why, given, refusal in _refusals(session):
        found = []
        for plain in (False, True):
            with pytest.raises(refusal) as raised, session.begin_nested():
                _request(session, plain=plain, **given)
            found.append((str(raised.value), raised.value.code))
        assert found[0] == found[1], why
