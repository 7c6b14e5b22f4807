"""What the dashboard page draws, behind a narrow boundary: `numbers(session, ...)` asks
the KPI module (backend/kpi, definitions in docs/kpi.md) for the last months and returns
them as one `Numbers`; nothing else in backend/web calls backend/kpi.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from backend import kpi
from backend.kpi import report

MONTHS = 12
GUIDE_FREQUENCY = report.FREQUENCY_GUIDE  # 来院頻度 4.0 (seed 004)
GUIDE_CANCELLATION = report.CANCELLATION_GUIDE  # キャンセル率 10 %
GUIDE_YEN_PER_10_MINUTES = report.YEN_PER_10_MINUTES_GUIDE  # 10分単価 ¥1,000


@dataclass(frozen=True)
class Numbers:
    """The months oldest first (the last is the current, unfinished one), and visits by
    weekday (Monday = 0) × hour over the same months."""

    months: tuple[report.MonthReport, ...]
    by_weekday_hour: tuple[tuple[int, ...], ...]

    @property
    def latest(self) -> report.MonthReport:
        return self.months[-1]


def numbers(
    session: Session, *, clinic_id: int, today: date, now: datetime, count: int = MONTHS
) -> Numbers:
    """The last `count` months up to and including `today`'s (in the clinic's zone)."""
    months = kpi.trend(session, clinic_id=clinic_id, months=count, until=today, now=now)
    heat = kpi.heatmap(session, clinic_id=clinic_id, month=today, months=count)
    return Numbers(months=tuple(months), by_weekday_hour=heat.counts)
