"""Plain factories: `make_x(session, **overrides)` builds a valid row and flushes it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend import booking
from backend.models import (
    Bed,
    Booking,
    Clinic,
    Course,
    OpeningHours,
    Patient,
    PaymentKind,
    Source,
    Staff,
    StaffShift,
)

JST = ZoneInfo("Asia/Tokyo")
# Monday 30 November 2026, 08:00 in Tokyo: before opening, a normal working week ahead.
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=JST).astimezone(UTC)

WEEKDAY_HOURS = ((time(9), time(12)), (time(15), time(20)))
SATURDAY_HOURS = ((time(9), time(14)),)


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Tokyo wall-clock time as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=JST).astimezone(UTC)


def make_clinic(session: Session, *, hours: bool = True, **overrides: Any) -> Clinic:
    """A clinic open Mon–Fri 9–12 and 15–20, Sat 9–14, closed Sundays and holidays."""
    values: dict[str, Any] = {
        "name": "テスト整骨院",
        "phone": "+81312345678",
        "lead_time_minutes": 60,
        "horizon_days": 60,
        "cancel_deadline_minutes": 180,
        "request_hold_minutes": 1440,
        "slot_step_minutes": 15,
        "created_at": NOW,
    }
    clinic = Clinic(**(values | overrides))
    session.add(clinic)
    session.flush()
    if hours:
        for weekday in range(5):
            for opens, closes in WEEKDAY_HOURS:
                session.add(
                    OpeningHours(
                        clinic_id=clinic.id, weekday=weekday, opens_at=opens, closes_at=closes
                    )
                )
        for opens, closes in SATURDAY_HOURS:
            session.add(
                OpeningHours(clinic_id=clinic.id, weekday=5, opens_at=opens, closes_at=closes)
            )
        session.flush()
    return clinic


def make_staff(session: Session, clinic: Clinic, *, shifts: bool = True, **overrides: Any) -> Staff:
    """A practitioner working every opening hour unless shifts=False."""
    staff = Staff(**({"clinic_id": clinic.id, "name": "山田 太郎", "created_at": NOW} | overrides))
    session.add(staff)
    session.flush()
    if shifts:
        for weekday in range(6):
            session.add(
                StaffShift(staff_id=staff.id, weekday=weekday, starts_at=time(9), ends_at=time(20))
            )
        session.flush()
    return staff


def make_bed(session: Session, clinic: Clinic, **overrides: Any) -> Bed:
    bed = Bed(**({"clinic_id": clinic.id, "name": "ベッド1", "capacity": 1} | overrides))
    session.add(bed)
    session.flush()
    return bed


def make_course(session: Session, clinic: Clinic, **overrides: Any) -> Course:
    """A 30-minute self-pay course: 20 minutes hands-on, then 10 on a machine."""
    values: dict[str, Any] = {
        "clinic_id": clinic.id,
        "name": "骨盤矯正",
        "staff_minutes": 20,
        "machine_minutes": 10,
        "price_yen": 4400,
        "payment_kind": PaymentKind.SELF_PAY,
        "revisit_interval_days": 7,
    }
    course = Course(**(values | overrides))
    session.add(course)
    session.flush()
    return course


def make_patient(session: Session, clinic: Clinic, **overrides: Any) -> Patient:
    values: dict[str, Any] = {
        "clinic_id": clinic.id,
        "name": "佐藤 花子",
        "kana": "サトウ ハナコ",
        "phone": "+819012345678",
        "birth_on": date(1985, 4, 1),
        "created_at": NOW,
        "updated_at": NOW,
    }
    patient = Patient(**(values | overrides))
    session.add(patient)
    session.flush()
    return patient


def make_booking(
    session: Session,
    *,
    patient: Patient,
    course: Course,
    starts_at: datetime,
    source: Source = Source.LINE,
    staff: Staff | None = None,
    now: datetime = NOW,
) -> Booking:
    """A booking made through the engine, so it is placed as a real one would be."""
    return booking.request(
        session,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        course_id=course.id,
        starts_at=starts_at,
        now=now,
        source=source,
        actor="test",
        staff_id=staff.id if staff else None,
    )
