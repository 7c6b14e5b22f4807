"""Reading a clinic's current set-up back as a `Setup` (`uketsuke clinic show`): its active
rows and its closed days from today on, as the file would describe them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clinic_setup.spec import (
    WEEKDAYS,
    BedSpec,
    ClinicSpec,
    ClosedDaySpec,
    CourseSpec,
    Setup,
    Span,
    StaffSpec,
    Week,
)
from backend.models import Bed, Clinic, ClosedDay, Course, Media, OpeningHours, Staff, StaffShift


def current(session: Session, *, clinic: Clinic, now: datetime) -> Setup:
    """The clinic's set-up as a file would describe it: active rows, and the closed days
    from `now`'s day (in the clinic's zone) on, which are the ones `apply` manages. Not
    checked: a value the file would refuse is shown as it is, for `apply` to name."""
    settings = {key: getattr(clinic, key) for key in ClinicSpec.model_fields}
    today = now.astimezone(ZoneInfo(clinic.timezone)).date()
    hours = session.execute(
        select(OpeningHours.weekday, OpeningHours.opens_at, OpeningHours.closes_at).where(
            OpeningHours.clinic_id == clinic.id
        )
    )
    closed = session.scalars(
        select(ClosedDay)
        .where(ClosedDay.clinic_id == clinic.id, ClosedDay.closed_on >= today)
        .order_by(ClosedDay.closed_on)
    )
    return Setup(
        clinic=ClinicSpec.model_construct(**settings),
        hours=_week(hours.all()),
        closed_days=[
            ClosedDaySpec.model_construct(on=row.closed_on, reason=row.reason) for row in closed
        ],
        courses=[_course(row) for row in _active(session, Course, clinic.id, Course.sort_order)],
        staff=_members(session, clinic.id),
        beds=[
            BedSpec.model_construct(name=row.name, capacity=row.capacity)
            for row in _active(session, Bed, clinic.id)
        ],
        media=[row.name for row in _active(session, Media, clinic.id, Media.sort_order)],
    )


A = TypeVar("A", Course, Staff, Bed, Media)


def _active(session: Session, model: type[A], clinic_id: int, *order: Any) -> Sequence[A]:
    return session.scalars(
        select(model)
        .where(model.clinic_id == clinic_id, model.active.is_(True))
        .order_by(*order, model.id)
    ).all()


def _week(spans: Iterable[Span]) -> Week:
    days: dict[str, Any] = {key: [] for key in WEEKDAYS}
    for weekday, starts, ends in sorted(spans):
        days[WEEKDAYS[weekday]].append((starts, ends))
    return Week.model_construct(**days)


def _course(row: Course) -> CourseSpec:
    return CourseSpec.model_construct(
        name=row.name,
        staff_minutes=row.staff_minutes,
        machine_minutes=row.machine_minutes,
        price_yen=row.price_yen,
        payment=row.payment_kind,
        insurance_claim_yen=row.insurance_claim_yen,
        revisit_interval_days=row.revisit_interval_days,
        for_first_visit=row.for_first_visit,
    )


def _members(session: Session, clinic_id: int) -> list[StaffSpec]:
    members = _active(session, Staff, clinic_id)
    shifts: dict[int, list[Span]] = {member.id: [] for member in members}
    rows = session.execute(
        select(
            StaffShift.staff_id, StaffShift.weekday, StaffShift.starts_at, StaffShift.ends_at
        ).where(StaffShift.staff_id.in_(shifts))
    )
    for staff_id, weekday, starts, ends in rows:
        shifts[staff_id].append((weekday, starts, ends))
    return [
        StaffSpec.model_construct(
            name=member.name, kana=member.kana, role=member.role, shifts=_week(shifts[member.id])
        )
        for member in members
    ]
