"""The numbers the dashboard page draws, behind a narrow boundary: `monthly(session, ...)`
returns plain tuples the charts take as they are.

For now it counts visits (施術録 rows, one per completed treatment) itself; the KPI module
(backend/kpi) will take over the counting behind the same function and dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Visit

GUIDE_FREQUENCY = 4.0  # 来院頻度の目安 (seed 004: 4.0回以上)


@dataclass(frozen=True)
class Monthly:
    """Per month, oldest first: 来院数, 患者数 and visits by weekday (Mon=0) × hour."""

    months: tuple[date, ...]  # the first day of each month
    visits: tuple[int, ...]
    patients: tuple[int, ...]
    by_weekday_hour: tuple[tuple[int, ...], ...]  # 7 rows of 24 hours, over all the months

    @property
    def frequency(self) -> tuple[float, ...]:
        """来院頻度 = 来院数 ÷ 患者数 (0 for a month without patients)."""
        return tuple(
            round(visits / patients, 2) if patients else 0.0
            for visits, patients in zip(self.visits, self.patients, strict=True)
        )


def monthly(
    session: Session, *, clinic_id: int, zone: ZoneInfo, today: date, count: int = 12
) -> Monthly:
    """The last `count` months up to and including `today`'s, in the clinic's zone."""
    months = _months(today, count)
    since = datetime.combine(months[0], time(), tzinfo=zone)
    rows = session.execute(
        select(Visit.visited_at, Visit.patient_id).where(
            Visit.clinic_id == clinic_id, Visit.visited_at >= since
        )
    ).all()
    index = {month: position for position, month in enumerate(months)}
    visits, patients = [0] * count, [set[int]() for _ in months]
    grid = [[0] * 24 for _ in range(7)]
    for visited_at, patient_id in rows:
        local = visited_at.astimezone(zone)
        position = index.get(local.date().replace(day=1))
        if position is None:
            continue  # after today's month: a visit recorded ahead of time
        visits[position] += 1
        patients[position].add(patient_id)
        grid[local.weekday()][local.hour] += 1
    return Monthly(
        months=months,
        visits=tuple(visits),
        patients=tuple(len(seen) for seen in patients),
        by_weekday_hour=tuple(tuple(row) for row in grid),
    )


def _months(today: date, count: int) -> tuple[date, ...]:
    """The first days of the `count` months ending with today's month."""
    firsts = []
    year, month = today.year, today.month
    for _ in range(count):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return tuple(reversed(firsts))
