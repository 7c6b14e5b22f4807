"""LTV (顧客生涯価値) by media: what a patient brings in over the months after the first visit.

Only patients whose first visit is in the ledger count (not those whose first day is only
on the カルテ, from before the clinic kept its visits here). A point of the curve at k
months averages, over the patients whose first visit is at least k months before the end
of the period, their revenue from visits before the same day k months after their first
day. Patients acquired more recently are left out of that point (their k months are not
over), so young media do not look worse than they are.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.kpi import calendar, ledger
from backend.kpi.report import LtvPoint, LtvRow, yen
from backend.models import Media, Visit

HORIZONS = (1, 3, 6, 12, 24)
NO_MEDIA = "未登録"


def ltv_by_media(
    session: Session,
    *,
    clinic_id: int,
    until: date,
    now: datetime,
    horizons: tuple[int, ...] = HORIZONS,
) -> list[LtvRow]:
    """Per media, patients acquired by the end of `until`'s month (or `now`, if earlier),
    their revenue to then, and revenue per patient at each horizon in months."""
    zone = calendar.clinic_zone(session, clinic_id)
    end = min(calendar.month_edges([calendar.first_of(until)], zone)[-1], now)
    # The first local day not wholly before `end`: a k-month window is over when it ends
    # on or before it.
    end_day = calendar.local_day(end, zone)
    people = ledger.people(session, clinic_id=clinic_id)
    firsts = ledger.first_visits(session, clinic_id=clinic_id, people=people, zone=zone)
    spent = _revenue_by_day(session, clinic_id, end, people, zone)
    groups: dict[int | None, list[int]] = defaultdict(list)
    for person in spent:
        # Patients from before the ledger brought revenue it never saw: they would bend
        # the curve down.
        if firsts[person].recorded:
            groups[people.media_id.get(person)].append(person)
    rows = []
    for media_id, name in _media(session, clinic_id):
        members = groups.get(media_id, [])
        if media_id is None and not members:
            continue
        curve = tuple(_point(months, members, firsts, spent, end_day) for months in horizons)
        total = sum(amount for person in members for _, amount in spent[person])
        rows.append(LtvRow(media_id, name, len(members), total, yen(total, len(members)), curve))
    return rows


def _revenue_by_day(
    session: Session, clinic_id: int, end: datetime, people: ledger.People, zone: ZoneInfo
) -> dict[int, list[tuple[date, int]]]:
    """Each person's visits before `end` as (local day, revenue)."""
    rows = session.execute(
        select(Visit.patient_id, Visit.visited_at, ledger.revenue()).where(
            Visit.clinic_id == clinic_id, Visit.visited_at < end
        )
    )
    spent: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for patient_id, visited_at, amount in rows:
        person = people.person.get(patient_id, patient_id)
        spent[person].append((calendar.local_day(visited_at, zone), int(amount)))
    return spent


def _point(
    months: int,
    members: list[int],
    firsts: dict[int, ledger.FirstVisit],
    spent: dict[int, list[tuple[date, int]]],
    end_day: date,
) -> LtvPoint:
    cohort = total = 0
    for person in members:
        cutoff = later(firsts[person].day, months)
        if cutoff > end_day:
            continue
        cohort += 1
        total += sum(amount for day, amount in spent[person] if day < cutoff)
    return LtvPoint(months=months, patients=cohort, yen_per_patient=yen(total, cohort))


def later(day: date, months: int) -> date:
    """The same day `months` months later, or that month's last day when it has no such day."""
    month = calendar.add_months(day, months)
    length = (calendar.add_months(month, 1) - month).days
    return month.replace(day=min(day.day, length))


def _media(session: Session, clinic_id: int) -> list[tuple[int | None, str]]:
    rows = session.execute(
        select(Media.id, Media.name)
        .where(Media.clinic_id == clinic_id)
        .order_by(Media.sort_order, Media.id)
    )
    return [(media_id, name) for media_id, name in rows] + [(None, NO_MEDIA)]
