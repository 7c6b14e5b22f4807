"""The grouped queries the KPIs are made of: one query per kind of fact, never one per patient.

Rows are bucketed into periods in SQL (calendar.bucket) inside a subquery and grouped
outside it, so the CASE and its parameters appear once (PostgreSQL refuses a GROUP BY
whose parameters differ from the SELECT's).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from backend.kpi import calendar
from backend.kpi.report import SECOND_VISIT_DAYS
from backend.models import Booking, BookingStatus, Patient, Visit

# Requests that never became an appointment are not bookings made.
NEVER_BOOKED = (BookingStatus.DECLINED, BookingStatus.EXPIRED)


@dataclass(frozen=True)
class People:
    """The clinic's patients by id; `person` maps a merged duplicate to the record kept."""

    person: dict[int, int]
    media_id: dict[int, int | None]
    gender: dict[int, str]
    first_on: dict[int, date | None]


@dataclass(frozen=True)
class FirstVisit:
    """A person's first day (初検日), who gave and what was the first visit, and the day of
    their next visit. recorded: False when the first day is only on the カルテ (kept on
    paper before the ledger): staff and course are then unknown."""

    day: date
    staff_id: int | None
    course_id: int | None
    second_day: date | None
    recorded: bool = True

    def came_back(self) -> bool:
        """The second visit came within 14 days of the first."""
        limit = timedelta(days=SECOND_VISIT_DAYS)
        return self.second_day is not None and self.second_day - self.day <= limit


@dataclass(frozen=True)
class Totals:
    """Sums over one period's visits."""

    visits: int = 0
    insurance_yen: int = 0
    self_pay_yen: int = 0
    ticket_yen: int = 0
    hands_on_minutes: int = 0
    hands_on_revenue_yen: int = 0


def people(session: Session, *, clinic_id: int) -> People:
    """Every patient of the clinic, with merged duplicates pointing at the record kept."""
    rows = session.execute(
        select(
            Patient.id,
            Patient.merged_into_id,
            Patient.media_id,
            Patient.gender,
            Patient.first_visit_on,
        ).where(Patient.clinic_id == clinic_id)
    ).all()
    merged_into = {row.id: row.merged_into_id for row in rows}
    first_on: dict[int, date | None] = {}
    person = {row.id: _kept(row.id, merged_into) for row in rows}
    for row in rows:
        kept = person[row.id]
        earlier = [day for day in (first_on.get(kept), row.first_visit_on) if day is not None]
        first_on[kept] = min(earlier, default=None)
    return People(
        person=person,
        media_id={row.id: row.media_id for row in rows},
        gender={row.id: str(row.gender) for row in rows},
        first_on=first_on,
    )


def _kept(patient_id: int, merged_into: dict[int, int | None]) -> int:
    seen = {patient_id}
    while (target := merged_into.get(patient_id)) is not None and target not in seen:
        seen.add(target)
        patient_id = target
    return patient_id


def revenue() -> ColumnElement[int]:
    """A visit's revenue: insurance (co-pay and claim), self-pay and ticket."""
    return Visit.copay_yen + Visit.claim_yen + Visit.self_pay_yen + Visit.ticket_yen


def totals(session: Session, *, clinic_id: int, edges: list[datetime]) -> dict[int, Totals]:
    """Visit counts and money per period."""
    inner = (
        select(
            calendar.bucket(Visit.visited_at, edges).label("slot"),
            (Visit.copay_yen + Visit.claim_yen).label("insurance"),
            Visit.self_pay_yen,
            Visit.ticket_yen,
            Visit.staff_minutes,
            revenue().label("revenue"),
        )
        .where(Visit.clinic_id == clinic_id, calendar.within(Visit.visited_at, edges))
        .subquery()
    )
    hands_on = func.sum(case((inner.c.staff_minutes > 0, inner.c.revenue), else_=0))
    query = select(
        inner.c.slot,
        func.count(),
        func.sum(inner.c.insurance),
        func.sum(inner.c.self_pay_yen),
        func.sum(inner.c.ticket_yen),
        func.sum(inner.c.staff_minutes),
        hands_on,
    ).group_by(inner.c.slot)
    return {
        row[0]: Totals(*(int(value or 0) for value in row[1:])) for row in session.execute(query)
    }


def presence(
    session: Session, *, clinic_id: int, edges: list[datetime], people: People
) -> dict[int, set[int]]:
    """The persons with a visit in each period."""
    inner = (
        select(calendar.bucket(Visit.visited_at, edges).label("slot"), Visit.patient_id)
        .where(Visit.clinic_id == clinic_id, calendar.within(Visit.visited_at, edges))
        .subquery()
    )
    query = select(inner.c.slot, inner.c.patient_id).group_by(inner.c.slot, inner.c.patient_id)
    found: dict[int, set[int]] = defaultdict(set)
    for slot, patient_id in session.execute(query):
        found[slot].add(people.person.get(patient_id, patient_id))
    return found


def first_visits(
    session: Session, *, clinic_id: int, people: People, zone: ZoneInfo
) -> dict[int, FirstVisit]:
    """Each person's first two recorded visits, read with a window function."""
    number = func.row_number().over(
        partition_by=Visit.patient_id, order_by=(Visit.visited_at, Visit.id)
    )
    inner = (
        select(
            Visit.patient_id, Visit.visited_at, Visit.staff_id, Visit.course_id, number.label("n")
        )
        .where(Visit.clinic_id == clinic_id)
        .subquery()
    )
    query = select(
        inner.c.patient_id, inner.c.visited_at, inner.c.staff_id, inner.c.course_id
    ).where(inner.c.n <= 2)
    visits: dict[int, list[tuple[datetime, int | None, int | None]]] = defaultdict(list)
    for patient_id, visited_at, staff_id, course_id in session.execute(query):
        visits[people.person.get(patient_id, patient_id)].append((visited_at, staff_id, course_id))
    return {
        person: _first(sorted(found), people.first_on.get(person), zone)
        for person, found in visits.items()
    }


def _first(
    visits: list[tuple[datetime, int | None, int | None]], on_chart: date | None, zone: ZoneInfo
) -> FirstVisit:
    days = [calendar.local_day(at, zone) for at, _, _ in visits]
    if on_chart is not None and on_chart < days[0]:
        # The first visit is on the カルテ only (kept on paper before): the first recorded
        # visit is the second one.
        return FirstVisit(
            day=on_chart, staff_id=None, course_id=None, second_day=days[0], recorded=False
        )
    _, staff_id, course_id = visits[0]
    second = days[1] if len(days) > 1 else None
    return FirstVisit(day=days[0], staff_id=staff_id, course_id=course_id, second_day=second)


def booking_flows(
    session: Session, *, clinic_id: int, edges: list[datetime]
) -> dict[str, Counter[int]]:
    """Per period: bookings made, cancellations (by when they were cancelled) and no-shows
    (by when they were to start)."""
    made = _count(
        session, Booking.created_at, edges, clinic_id, Booking.status.not_in(NEVER_BOOKED)
    )
    cancelled = _count(
        session,
        Booking.cancelled_at,
        edges,
        clinic_id,
        Booking.status == BookingStatus.CANCELLED,
    )
    no_shows = _count(
        session, Booking.starts_at, edges, clinic_id, Booking.status == BookingStatus.NO_SHOW
    )
    return {"made": made, "cancelled": cancelled, "no_shows": no_shows}


def _count(
    session: Session, column: Any, edges: list[datetime], clinic_id: int, condition: Any
) -> Counter[int]:
    inner = (
        select(calendar.bucket(column, edges).label("slot"))
        .where(Booking.clinic_id == clinic_id, condition, calendar.within(column, edges))
        .subquery()
    )
    query = select(inner.c.slot, func.count()).group_by(inner.c.slot)
    return Counter(dict(session.execute(query).all()))


def next_booked(
    session: Session, *, clinic_id: int, edges: list[datetime], people: People, zone: ZoneInfo
) -> Counter[int]:
    """Per period: visits whose patient, at the end of the visit's day, held a booking for a
    later day (made before or on that day, not cancelled by then)."""
    visits = session.execute(
        select(Visit.patient_id, Visit.visited_at).where(
            Visit.clinic_id == clinic_id, calendar.within(Visit.visited_at, edges)
        )
    ).all()
    ahead = _bookings_ahead(session, clinic_id=clinic_id, edges=edges, people=people)
    ends: dict[date, datetime] = {}
    found: Counter[int] = Counter()
    for patient_id, visited_at in visits:
        day = calendar.local_day(visited_at, zone)
        end = ends.get(day) or ends.setdefault(day, calendar.day_end(day, zone))
        held = ahead.get(people.person.get(patient_id, patient_id))
        if held is not None and held.active_at(end):
            found[_slot(visited_at, edges)] += 1
    return found


@dataclass
class _Ahead:
    """One person's bookings in start order, to find what they held at a moment."""

    starts: list[datetime] = field(default_factory=list)
    rows: list[tuple[datetime, datetime | None]] = field(default_factory=list)

    def active_at(self, end: datetime) -> bool:
        """A booking made before `end`, starting at or after it, not cancelled by then."""
        for created_at, cancelled_at in self.rows[bisect_left(self.starts, end) :]:
            if created_at < end and (cancelled_at is None or cancelled_at >= end):
                return True
        return False


def _bookings_ahead(
    session: Session, *, clinic_id: int, edges: list[datetime], people: People
) -> dict[int, _Ahead]:
    rows = session.execute(
        select(Booking.patient_id, Booking.created_at, Booking.starts_at, Booking.cancelled_at)
        .where(
            Booking.clinic_id == clinic_id,
            Booking.status.not_in(NEVER_BOOKED),
            Booking.starts_at >= edges[0],
            Booking.created_at < edges[-1],
        )
        .order_by(Booking.starts_at)
    )
    ahead: dict[int, _Ahead] = defaultdict(_Ahead)
    for patient_id, created_at, starts_at, cancelled_at in rows:
        held = ahead[people.person.get(patient_id, patient_id)]
        held.starts.append(starts_at)
        held.rows.append((created_at, cancelled_at))
    return ahead


def _slot(moment: datetime, edges: list[datetime]) -> int:
    return next(index for index, edge in enumerate(edges[1:]) if moment < edge)
