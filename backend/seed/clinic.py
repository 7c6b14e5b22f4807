"""Writing the demo clinic, さくら通り整骨院, and the plan the history generator works from."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.orm import Session

from backend import message_rules
from backend.booking import schedule
from backend.db import Base
from backend.models import (
    Bed,
    Clinic,
    ClosedDay,
    Course,
    Media,
    MediaSpend,
    OpeningHours,
    PaymentKind,
    Staff,
    StaffDayOff,
    StaffShift,
)
from backend.seed import media
from backend.seed.setup import BEDS, COURSES, OPENING, STAFF, ZONE, BedSpec, CourseSpec, StaffSpec


@dataclass(frozen=True)
class ClinicPlan:
    """The seeded clinic as the history generator needs it: ids, hours and closed days."""

    clinic_id: int
    zone: ZoneInfo
    closed: frozenset[date]
    staff: dict[int, StaffSpec]
    days_off: frozenset[tuple[int, date]]
    beds: dict[int, BedSpec]
    courses: dict[str, tuple[int, CourseSpec]]
    media: dict[str, int]

    def is_open(self, day: date) -> bool:
        """Whether the clinic opens on a local day."""
        return day.weekday() in OPENING and day not in self.closed and not schedule.is_holiday(day)

    def practitioners(self) -> list[int]:
        """Ids of the staff who treat patients."""
        return [staff_id for staff_id, spec in self.staff.items() if spec.treats]

    def course(self, key: str) -> CourseSpec:
        """A course spec by key."""
        return self.courses[key][1]


def create_clinic(
    session: Session, rng: random.Random, *, first_day: date, last_day: date, now: datetime
) -> ClinicPlan:
    """Write the clinic and everything it is set up with; history starts on `first_day`."""
    zone = ZoneInfo(ZONE)
    created = datetime.combine(first_day - timedelta(days=1), time(10), tzinfo=zone)
    clinic = Clinic(
        name="さくら通り整骨院",
        timezone=ZONE,
        phone="+81354870000",
        address="東京都世田谷区太子堂4丁目18-7 さくら通りビル1F",
        line_add_url="https://line.me/R/ti/p/@example-sakura",
        created_at=min(created, now),
    )
    session.add(clinic)
    session.flush()
    # Reminders and nudges flow in the demo as soon as a worker runs.
    message_rules.ensure_rules(session, clinic=clinic, now=now)
    _add_hours(session, clinic.id)
    closed = _add_closed_days(session, rng, clinic.id, first_day, last_day)
    staff, days_off = _add_staff(
        session, rng, clinic_id=clinic.id, first_day=first_day, last_day=last_day, created=created
    )
    return ClinicPlan(
        clinic_id=clinic.id,
        zone=zone,
        closed=closed,
        staff=staff,
        days_off=days_off,
        beds=_add_beds(session, clinic.id),
        courses=_add_courses(session, clinic.id),
        media=_add_media(session, clinic.id),
    )


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _add_hours(session: Session, clinic_id: int) -> None:
    for weekday, ranges in OPENING.items():
        for opens, closes in ranges:
            session.add(
                OpeningHours(
                    clinic_id=clinic_id,
                    weekday=weekday,
                    opens_at=_clock(opens),
                    closes_at=_clock(closes),
                )
            )


def closed_days(rng: random.Random, first_day: date, last_day: date) -> dict[date, str]:
    """年末年始 and お盆 every year, and one 臨時休診 a year for the owner's training."""
    days: dict[date, str] = {}
    for year in range(first_day.year - 1, last_day.year + 1):
        for offset in range(6):
            days[date(year, 12, 29) + timedelta(days=offset)] = "年末年始休診"
        for day in (13, 14, 15):
            days[date(year, 8, day)] = "夏季休診"
        training = date(year, rng.choice((6, 10)), rng.randint(10, 20))
        while training.weekday() >= 5:
            training += timedelta(days=1)
        days[training] = "院長研修のため臨時休診"
    return {day: reason for day, reason in days.items() if first_day <= day <= last_day}


def _add_closed_days(
    session: Session, rng: random.Random, clinic_id: int, first_day: date, last_day: date
) -> frozenset[date]:
    days = closed_days(rng, first_day, last_day)
    for day, reason in sorted(days.items()):
        session.add(ClosedDay(clinic_id=clinic_id, closed_on=day, reason=reason))
    return frozenset(days)


def _add_staff(
    session: Session,
    rng: random.Random,
    *,
    clinic_id: int,
    first_day: date,
    last_day: date,
    created: datetime,
) -> tuple[dict[int, StaffSpec], frozenset[tuple[int, date]]]:
    staff: dict[int, StaffSpec] = {}
    days_off: set[tuple[int, date]] = set()
    for spec in STAFF:
        row = Staff(
            clinic_id=clinic_id, name=spec.name, kana=spec.kana, role=spec.role, created_at=created
        )
        session.add(row)
        session.flush()
        staff[row.id] = spec
        for weekday, ranges in spec.shifts.items():
            for starts, ends in ranges:
                session.add(
                    StaffShift(
                        staff_id=row.id,
                        weekday=weekday,
                        starts_at=_clock(starts),
                        ends_at=_clock(ends),
                    )
                )
        for day in _leave(rng, spec, first_day, last_day):
            days_off.add((row.id, day))
            session.add(StaffDayOff(staff_id=row.id, off_on=day))
    return staff, frozenset(days_off)


def _leave(rng: random.Random, spec: StaffSpec, first_day: date, last_day: date) -> list[date]:
    """About six days of paid leave a year on days the staff member would work."""
    span = (last_day - first_day).days
    working = [
        first_day + timedelta(days=offset)
        for offset in range(span + 1)
        if (first_day + timedelta(days=offset)).weekday() in spec.shifts
    ]
    count = min(len(working), round(6 * span / 365))
    return sorted(rng.sample(working, count))


def _add_beds(session: Session, clinic_id: int) -> dict[int, BedSpec]:
    beds: dict[int, BedSpec] = {}
    for spec in BEDS:
        bed = Bed(clinic_id=clinic_id, name=spec.name, capacity=spec.capacity)
        session.add(bed)
        session.flush()
        beds[bed.id] = spec
    return beds


def _add_courses(session: Session, clinic_id: int) -> dict[str, tuple[int, CourseSpec]]:
    courses: dict[str, tuple[int, CourseSpec]] = {}
    for order, spec in enumerate(COURSES):
        course = Course(
            clinic_id=clinic_id,
            name=spec.name,
            staff_minutes=spec.staff_minutes,
            machine_minutes=spec.machine_minutes,
            price_yen=spec.price_yen,
            insurance_claim_yen=spec.claim_yen,
            payment_kind=PaymentKind.INSURANCE if spec.insurance else PaymentKind.SELF_PAY,
            revisit_interval_days=spec.revisit_days,
            for_first_visit=spec.for_first_visit,
            sort_order=order,
        )
        session.add(course)
        session.flush()
        courses[spec.key] = (course.id, spec)
    return courses


def _add_media(session: Session, clinic_id: int) -> dict[str, int]:
    ids: dict[str, int] = {}
    for order, spec in enumerate(media.MEDIA):
        row = Media(clinic_id=clinic_id, name=spec.name, sort_order=order)
        session.add(row)
        session.flush()
        ids[spec.name] = row.id
    return ids


def add_spend(session: Session, plan: ClinicPlan, spend: dict[tuple[str, date], int]) -> int:
    """Write the monthly ad spend of the paid media; return how many rows."""
    rows = [
        {"clinic_id": plan.clinic_id, "media_id": plan.media[name], "month_on": month}
        | {"amount_yen": amount}
        for (name, month), amount in spend.items()
    ]
    if rows:
        session.execute(insert(Base.metadata.tables[MediaSpend.__tablename__]), rows)
    return len(rows)
