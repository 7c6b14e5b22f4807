"""The KPI page's breakdowns as plain tables: by media (来院経路), by staff and by course,
over the last few months; and as charts 予約残数, LTV by media and this month's days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from backend.kpi.report import BacklogDay, DayReport, LtvRow, Repeat
from backend.web import charts, kpi_view


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; the first column names the row."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str


def tables(numbers: kpi_view.Numbers, *, span: str) -> list[Table]:
    """媒体別, スタッフ別 and コース別 over the same months."""
    return [
        Table(
            "media",
            f"来院経路（媒体）別{span}",
            ("媒体", "患者数", "新患", "広告費", "新患獲得単価", "2回目リピート率"),
            tuple(
                (row.name, _count(row.patients, "人"), _count(row.repeat.new_patients, "人"),
                 _yen(row.spend_yen), _yen(row.cost_per_new_yen), _repeat(row.repeat))
                for row in numbers.by_media
            ),
            "この期間の来院はありません。",
        ),
        Table(
            "staff",
            f"スタッフ別{span}",
            ("スタッフ", "来院数", "売上", "指名数", "2回目リピート率（初回担当）"),
            tuple(
                (row.name, _count(row.visits, "回"), _yen(row.revenue_yen),
                 _count(row.nominated_visits, "回"), _repeat(row.repeat))
                for row in numbers.by_staff
            ),
            "この期間の来院はありません。",
        ),
        Table(
            "courses",
            f"コース別{span}",
            ("コース", "来院数", "売上", "2回目リピート率（初回コース）"),
            tuple(
                (row.name, _count(row.visits, "回"), _yen(row.revenue_yen), _repeat(row.repeat))
                for row in numbers.by_course
            ),
            "この期間の来院はありません。",
        ),
    ]  # fmt: skip


def backlog_chart(days: Sequence[BacklogDay]) -> charts.Chart:
    """予約残数 at each day's end, one line per horizon."""
    labels = [_day(item.day) for item in days]
    horizons = (
        ("1週間以内", [item.within_1_week for item in days]),
        ("2週間以内", [item.within_2_weeks for item in days]),
        ("3週間以内", [item.within_3_weeks for item in days]),
        ("4週間以内", [item.within_4_weeks for item in days]),
    )
    return charts.line_chart(
        key="backlog",
        title=f"予約残数（各日の終わり、直近{len(days)}日）",
        labels=labels,
        series=[charts.Series(name, tuple(values)) for name, values in horizons],
        unit="件",
        label_every=7,
    )


def ltv_chart(rows: Sequence[LtvRow]) -> charts.Chart:
    """Revenue per patient within 1, 3, 6, 12 and 24 months of the first visit, one line per
    media (a gap where no patient's months are over yet)."""
    horizons = [point.months for point in rows[0].points] if rows else []
    return charts.line_chart(
        key="ltv",
        title="LTV（初回来院からの期間別、患者1人あたりの売上）",
        labels=[f"{months}か月" for months in horizons],
        series=[
            charts.Series(row.name, tuple(point.yen_per_patient for point in row.points))
            for row in rows
        ],
        unit="円",
    )


def daily_chart(days: Sequence[DayReport]) -> charts.Chart:
    """This month's bookings made, cancellations and visits, day by day."""
    # Lines, not bars: three series over 31 days would be bars under 5 px wide.
    month = f"{days[0].day.year}年{days[0].day.month}月" if days else ""
    return charts.line_chart(
        key="days",
        title=f"日別の予約数・キャンセル数・来院数（{month}）",
        labels=[_day(item.day) for item in days],
        series=[
            charts.Series("予約数", tuple(item.bookings_made for item in days)),
            charts.Series("キャンセル数", tuple(item.cancellations for item in days)),
            charts.Series("来院数", tuple(item.visits for item in days)),
        ],
        unit="件",
        label_every=5,
    )


def _day(day: date) -> str:
    return f"{day.month}/{day.day}"


def _count(value: int, unit: str) -> str:
    return f"{value:,}{unit}"


def _yen(value: int | None) -> str:
    return "—" if value is None else f"{value:,}円"


def _repeat(repeat: Repeat) -> str:
    if repeat.second_visit_rate is None:
        return "—"
    rate = (
        f"{100 * repeat.second_visit_rate:.0f}%（{repeat.second_visits}/{repeat.new_patients}人）"
    )
    return rate if repeat.final else rate + " 集計中"
