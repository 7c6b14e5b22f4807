"""The KPI page's charts, drawn from the numbers `kpi_view` hands over."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.models import Clinic
from backend.web import charts, kpi_view, today

WEEKDAYS = tuple(f"{day}曜" for day in today.WEEKDAYS)
HOURS = tuple(range(8, 21))  # the hours a clinic is usually open; the table keeps them all


def charts_for(session: Session, *, clinic: Clinic, now: datetime) -> list[charts.Chart]:
    """The page's charts in reading order: volume, frequency against its guide, when."""
    zone = ZoneInfo(clinic.timezone)
    numbers = kpi_view.monthly(
        session, clinic_id=clinic.id, zone=zone, today=today.local_day(clinic, now)
    )
    labels = [f"{month.month}月" for month in numbers.months]
    span = f"（{_month(numbers.months[0])}〜{_month(numbers.months[-1])}）"
    return [
        charts.bar_chart(
            key="visits", title="来院数" + span, labels=labels, values=numbers.visits, unit="回"
        ),
        charts.line_chart(
            key="patients",
            title="来院数と患者数" + span,
            labels=labels,
            series=[
                charts.Series("来院数", tuple(map(float, numbers.visits))),
                charts.Series("患者数", tuple(map(float, numbers.patients))),
            ],
        ),
        charts.line_chart(
            key="frequency",
            title="来院頻度（来院数 ÷ 患者数）" + span,
            labels=labels,
            series=[charts.Series("来院頻度", numbers.frequency)],
            guide=charts.Guide("目安", kpi_view.GUIDE_FREQUENCY),
            unit="回",
        ),
        charts.heat_map(
            key="when",
            title="曜日・時間帯別の来院数" + span,
            rows=WEEKDAYS,
            columns=[f"{hour}時" for hour in HOURS],
            values=[[row[hour] for hour in HOURS] for row in numbers.by_weekday_hour],
            unit="回",
        ),
    ]


def _month(first: date) -> str:
    return f"{first.year}年{first.month}月"
