"""What the dashboard page draws, behind a narrow boundary: `numbers(session, ...)` asks
the KPI module (backend/kpi, definitions in docs/kpi.md) for the last months and returns
them as one `Numbers`; nothing else in backend/web calls backend/kpi but the ad-spend page
(`media`), which reads and writes spend through `backend.kpi.spend`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from backend import kpi
from backend.kpi import report

MONTHS = 12
BACKLOG_DAYS = 28  # 予約残数, day by day over four weeks
GROUP_MONTHS = 3  # the breakdowns by media, staff and course: enough patients to compare
GUIDE_FREQUENCY = report.FREQUENCY_GUIDE  # 来院頻度 4.0 (seed 004)
GUIDE_CANCELLATION = report.CANCELLATION_GUIDE  # キャンセル率 10 %
GUIDE_YEN_PER_10_MINUTES = report.YEN_PER_10_MINUTES_GUIDE  # 10分単価 ¥1,000


@dataclass(frozen=True)
class Numbers:
    """The months oldest first (the last is the current, unfinished one); visits by weekday
    (Monday = 0) × hour over the same months; 予約残数 day by day, oldest first; and the
    breakdowns of the last GROUP_MONTHS months."""

    months: tuple[report.MonthReport, ...]
    by_weekday_hour: tuple[tuple[int, ...], ...]
    backlog: tuple[report.BacklogDay, ...]
    by_media: tuple[report.MediaRow, ...]
    by_staff: tuple[report.StaffRow, ...]
    by_course: tuple[report.CourseRow, ...]
    phone: tuple[report.PhoneReport, ...]  # the same months as `months`
    ltv: tuple[report.LtvRow, ...]
    days: tuple[report.DayReport, ...]  # each day of the current month

    @property
    def latest(self) -> report.MonthReport:
        return self.months[-1]


def numbers(
    session: Session, *, clinic_id: int, today: date, now: datetime, count: int = MONTHS
) -> Numbers:
    """The last `count` months up to and including `today`'s (in the clinic's zone)."""
    months = kpi.trend(session, clinic_id=clinic_id, months=count, until=today, now=now)
    heat = kpi.heatmap(session, clinic_id=clinic_id, month=today, months=count)
    return Numbers(
        months=tuple(months),
        by_weekday_hour=heat.counts,
        backlog=tuple(
            kpi.backlog_trend(session, clinic_id=clinic_id, days=BACKLOG_DAYS, until=today, now=now)
        ),
        by_media=tuple(
            kpi.by_media(session, clinic_id=clinic_id, month=today, now=now, months=GROUP_MONTHS)
        ),
        by_staff=tuple(
            kpi.by_staff(session, clinic_id=clinic_id, month=today, now=now, months=GROUP_MONTHS)
        ),
        by_course=tuple(
            kpi.by_course(session, clinic_id=clinic_id, month=today, now=now, months=GROUP_MONTHS)
        ),
        phone=tuple(kpi.phone(session, clinic_id=clinic_id, month=month.month) for month in months),
        ltv=tuple(kpi.ltv_by_media(session, clinic_id=clinic_id, until=today, now=now)),
        days=tuple(kpi.daily(session, clinic_id=clinic_id, month=today)),
    )
