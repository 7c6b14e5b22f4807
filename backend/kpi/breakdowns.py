"""KPIs by media (来院経路), by staff member and by course, over one or more months.

Repeat rates are 2回目リピート率 of the new patients whose first visit fell in the months
asked for, grouped by their media, the staff member and the course of that first visit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.kpi import calendar, ledger
from backend.kpi.report import CourseRow, MediaRow, Repeat, StaffRow, rate, yen
from backend.models import Booking, Course, Media, MediaSpend, Staff, Visit

NO_MEDIA = "未登録"
NO_STAFF = "担当なし"
NO_COURSE = "コースなし"


@dataclass(frozen=True)
class _Window:
    """The months asked for, who came in them, and who among them was new."""

    months: list[date]
    edges: list[Any]
    people: ledger.People
    present: set[int]
    new: list[ledger.FirstVisit]
    new_people: list[int]
    final: bool


def by_media(
    session: Session, *, clinic_id: int, month: date, now: datetime, months: int = 1
) -> list[MediaRow]:
    """Patients, new patients, ad spend, cost per new patient and repeat rate per media, over
    `months` months ending with `month`'s; media in their display order, then unrecorded."""
    window = _window(session, clinic_id, month, months, now)
    media_of = window.people.media_id
    patients = Counter(media_of.get(person) for person in window.present)
    new = _grouped(window, lambda person, _first: media_of.get(person))
    spend = _spend(session, clinic_id, window.months)
    rows = []
    for media_id, name in _names(session, Media, clinic_id, NO_MEDIA, order=Media.sort_order):
        repeat = new.get(media_id, _repeat([], final=window.final))
        if media_id is None and not patients[None]:
            continue
        rows.append(
            MediaRow(
                media_id=media_id,
                name=name,
                patients=patients[media_id],
                spend_yen=spend[media_id],
                cost_per_new_yen=yen(spend[media_id], repeat.new_patients),
                repeat=repeat,
            )
        )
    return rows


def by_staff(
    session: Session, *, clinic_id: int, month: date, now: datetime, months: int = 1
) -> list[StaffRow]:
    """Visits, revenue, 指名 and first-visit repeat rate per staff member, over `months`
    months ending with `month`'s; staff with no visit in them are left out."""
    window = _window(session, clinic_id, month, months, now)
    sums = _visit_sums(session, clinic_id, window.edges, Visit.staff_id)
    nominated = _nominated(session, clinic_id, window.edges)
    new = _grouped(window, lambda _person, first: first.staff_id)
    return [
        StaffRow(
            staff_id=staff_id,
            name=name,
            visits=sums.get(staff_id, (0, 0))[0],
            revenue_yen=sums.get(staff_id, (0, 0))[1],
            nominated_visits=nominated[staff_id],
            repeat=new.get(staff_id, _repeat([], final=window.final)),
        )
        for staff_id, name in _names(session, Staff, clinic_id, NO_STAFF, order=Staff.id)
        if staff_id in sums or staff_id in new
    ]


def by_course(
    session: Session, *, clinic_id: int, month: date, now: datetime, months: int = 1
) -> list[CourseRow]:
    """Visits, revenue and first-visit repeat rate per course, over `months` months ending
    with `month`'s; courses with no visit in them are left out."""
    window = _window(session, clinic_id, month, months, now)
    sums = _visit_sums(session, clinic_id, window.edges, Visit.course_id)
    new = _grouped(window, lambda _person, first: first.course_id)
    return [
        CourseRow(
            course_id=course_id,
            name=name,
            visits=sums.get(course_id, (0, 0))[0],
            revenue_yen=sums.get(course_id, (0, 0))[1],
            repeat=new.get(course_id, _repeat([], final=window.final)),
        )
        for course_id, name in _names(
            session, Course, clinic_id, NO_COURSE, order=Course.sort_order
        )
        if course_id in sums or course_id in new
    ]


def _window(session: Session, clinic_id: int, month: date, months: int, now: datetime) -> _Window:
    zone = calendar.clinic_zone(session, clinic_id)
    span = calendar.months_until(month, months)
    edges = [calendar.midnight(span[0], zone), calendar.month_edges(span, zone)[-1]]
    people = ledger.people(session, clinic_id=clinic_id)
    present = ledger.presence(session, clinic_id=clinic_id, edges=edges, people=people)[0]
    firsts = ledger.first_visits(session, clinic_id=clinic_id, people=people, zone=zone)
    new_people = sorted(
        person for person in present if calendar.first_of(firsts[person].day) in span
    )
    return _Window(
        months=span,
        edges=edges,
        people=people,
        present=present,
        new=[firsts[person] for person in new_people],
        new_people=new_people,
        final=now >= calendar.cohort_end(span[-1], zone),
    )


def _repeat(firsts: Iterable[ledger.FirstVisit], *, final: bool) -> Repeat:
    cohort = list(firsts)
    back = sum(first.came_back() for first in cohort)
    return Repeat(
        new_patients=len(cohort),
        second_visits=back,
        second_visit_rate=rate(back, len(cohort)),
        final=final,
    )


def _grouped(
    window: _Window, key: Callable[[int, ledger.FirstVisit], int | None]
) -> dict[int | None, Repeat]:
    """The window's new patients grouped by `key(person, first visit)`, as repeat rates."""
    groups: dict[int | None, list[ledger.FirstVisit]] = defaultdict(list)
    for person, first in zip(window.new_people, window.new, strict=True):
        groups[key(person, first)].append(first)
    return {group: _repeat(members, final=window.final) for group, members in groups.items()}


def _names(
    session: Session, model: Any, clinic_id: int, missing: str, *, order: Any
) -> list[tuple[int | None, str]]:
    """The clinic's rows of a kind as (id, name) in display order, then (None, `missing`)."""
    rows = session.execute(
        select(model.id, model.name).where(model.clinic_id == clinic_id).order_by(order, model.id)
    )
    return [(row_id, name) for row_id, name in rows] + [(None, missing)]


def _visit_sums(
    session: Session, clinic_id: int, edges: list[Any], key: Any
) -> dict[int | None, tuple[int, int]]:
    query = (
        select(key, func.count(), func.sum(ledger.revenue()))
        .where(Visit.clinic_id == clinic_id, calendar.within(Visit.visited_at, edges))
        .group_by(key)
    )
    return {group: (visits, int(total or 0)) for group, visits, total in session.execute(query)}


def _nominated(session: Session, clinic_id: int, edges: list[Any]) -> Counter[int | None]:
    query = (
        select(Visit.staff_id, func.count())
        .join(Booking, Booking.id == Visit.booking_id)
        .where(
            Visit.clinic_id == clinic_id,
            Booking.nominated,
            calendar.within(Visit.visited_at, edges),
        )
        .group_by(Visit.staff_id)
    )
    return Counter(dict(session.execute(query).all()))


def _spend(session: Session, clinic_id: int, months: list[date]) -> Counter[int | None]:
    query = (
        select(MediaSpend.media_id, func.sum(MediaSpend.amount_yen))
        .where(MediaSpend.clinic_id == clinic_id, MediaSpend.month_on.in_(months))
        .group_by(MediaSpend.media_id)
    )
    return Counter({media_id: int(total or 0) for media_id, total in session.execute(query)})
