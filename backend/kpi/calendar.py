"""Months and days in the clinic's zone, and bucketing UTC timestamps into them in SQL.

Timestamps are stored in UTC. A month or day of the clinic starts at a local midnight, which
is one fixed UTC instant, so a CASE over those instants buckets rows into months on any
database (and stays right across a daylight-saving change, for zones that have one).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case
from sqlalchemy.orm import Session

from backend.errors import Invalid, NotFound
from backend.kpi.report import SECOND_VISIT_DAYS
from backend.models import Clinic

# Ten years of months; each month is one branch of a CASE.
MAX_MONTHS = 120


def clinic_zone(session: Session, clinic_id: int) -> ZoneInfo:
    """The clinic's zone; NotFound when there is no such clinic."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound(f"clinic {clinic_id} not found", field="clinic_id")
    return ZoneInfo(clinic.timezone)


def first_of(day: date) -> date:
    """The first day of the day's month."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) `month`'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_until(until: date, count: int) -> list[date]:
    """The `count` months ending with `until`'s month, oldest first; Invalid unless `count`
    is between 1 and MAX_MONTHS."""
    if not 1 <= count <= MAX_MONTHS:
        raise Invalid(f"ask for 1 to {MAX_MONTHS} months", field="months")
    last = first_of(until)
    return [add_months(last, offset) for offset in range(1 - count, 1)]


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of a local day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The local date of a UTC moment."""
    return moment.astimezone(zone).date()


def day_end(day: date, zone: ZoneInfo) -> datetime:
    """The end of a local day (the next local midnight), in UTC."""
    return midnight(day + timedelta(days=1), zone)


def cohort_end(month: date, zone: ZoneInfo) -> datetime:
    """When the month's new patients are a final cohort for 2回目リピート率: the end of the
    14th day after the month's last day."""
    return midnight(add_months(month, 1) + timedelta(days=SECOND_VISIT_DAYS), zone)


def month_edges(months: list[date], zone: ZoneInfo) -> list[datetime]:
    """The UTC starts of consecutive months, then the end of the last one."""
    return [midnight(month, zone) for month in months] + [midnight(add_months(months[-1], 1), zone)]


def bucket(column: Any, edges: list[datetime]) -> ColumnElement[int]:
    """Which period (0, 1, …) a timestamp falls in, given the periods' edges; -1 outside."""
    return case(
        *((column < edge, index) for index, edge in enumerate(edges[1:])),
        else_=-1,
    )


def within(column: Any, edges: list[datetime]) -> ColumnElement[bool]:
    """The timestamp falls between the first and the last edge."""
    return and_(column >= edges[0], column < edges[-1])


def month_index(moment: datetime, months: list[date], zone: ZoneInfo) -> int | None:
    """Which of `months` a UTC moment falls in, or None."""
    month = first_of(local_day(moment, zone))
    return months.index(month) if month in months else None
