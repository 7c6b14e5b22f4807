"""The KPI page: this month's headline numbers against their guides, the last twelve
months as charts, the phone (電話) with what unreturned calls may cost, LTV by media and
this month's days, drawn from what `kpi_view` hands over."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from backend.kpi.report import MonthReport, PhoneReport
from backend.models import Clinic
from backend.web import calls, charts, groups, kpi_view, today

WEEKDAYS = tuple(f"{day}曜" for day in today.WEEKDAYS)
OPEN_HOURS = (8, 20)  # always shown; earlier or later hours only when they had visits


@dataclass(frozen=True)
class Tile:
    """One headline number: its name, its value as text, and its guide if it has one."""

    label: str
    value: str
    guide: str | None = None
    met: bool | None = None  # None: no guide, or nothing to judge yet


@dataclass(frozen=True)
class Phone:
    """The phone section: this month's tiles, twelve months as a chart, and the lost calls."""

    tiles: list[Tile]
    chart: charts.Chart
    lost: calls.Lost


@dataclass(frozen=True)
class Page:
    """What the KPI page shows."""

    month: str
    tiles: list[Tile]
    phone: Phone
    ltv: charts.Chart
    days: charts.Chart
    backlog: charts.Chart  # before the field named charts, which hides the module below it
    charts: list[charts.Chart]
    tables: list[groups.Table]


def page(session: Session, *, clinic: Clinic, now: datetime) -> Page:
    """The KPI page of the clinic's current month and the eleven before it."""
    day = today.local_day(clinic, now)
    numbers = kpi_view.numbers(session, clinic_id=clinic.id, today=day, now=now)
    recent = numbers.months[-kpi_view.GROUP_MONTHS :]
    return Page(
        month=_month(numbers.latest.month),
        tiles=tiles(numbers.latest),
        phone=_phone(numbers),
        ltv=groups.ltv_chart(numbers.ltv),
        days=groups.daily_chart(numbers.days),
        charts=_charts(numbers),
        backlog=groups.backlog_chart(numbers.backlog),
        tables=groups.tables(
            numbers, span=f"（{_month(recent[0].month)}〜{_month(recent[-1].month)}）"
        ),
    )


def tiles(month: MonthReport) -> list[Tile]:
    """The month's headline numbers, guides marked met or missed."""
    frequency, cancelled = month.frequency, month.cancellation_rate
    return [
        Tile("来院数", f"{month.visits:,}回"),
        Tile("患者数", f"{month.patients:,}人"),
        Tile(
            "来院頻度",
            "—" if frequency is None else f"{frequency:.1f}回",
            f"目安 {kpi_view.GUIDE_FREQUENCY:.1f}回以上",
            None if frequency is None else frequency >= kpi_view.GUIDE_FREQUENCY,
        ),
        Tile("売上", f"{month.revenue_yen:,}円"),
        Tile("自費率", _percent(month.self_pay_share)),
        Tile("2回目リピート率", _percent(month.second_visit_rate)),
        Tile(
            "キャンセル率",
            _percent(cancelled),
            f"目安 {kpi_view.GUIDE_CANCELLATION:.0%}以下",
            None if cancelled is None else cancelled <= kpi_view.GUIDE_CANCELLATION,
        ),
        Tile("次回予約率", _percent(month.next_booking_rate)),
    ]


def phone_tiles(month: PhoneReport) -> list[Tile]:
    """The month's calls: how many were taken and booked, and how many needed a call back."""
    return [
        Tile("着信数", f"{month.calls:,}件"),
        Tile("応答率", _percent(month.answer_rate), f"応答 {month.answered:,}件"),
        Tile("予約化率", _percent(month.request_rate), f"予約依頼 {month.requests:,}件"),
        Tile("取りこぼし", f"{month.to_follow_up:,}件", "不在着信・途中切断・折り返し希望"),
        Tile("回収済み", f"{month.recovered:,}件", f"回収率 {_percent(month.recovery_rate)}"),
    ]


def _phone(numbers: kpi_view.Numbers) -> Phone:
    first, last = numbers.phone[0].month, numbers.phone[-1].month
    return Phone(
        tiles=phone_tiles(numbers.phone[-1]),
        chart=calls.chart(numbers.phone, span=f"（{_month(first)}〜{_month(last)}）"),
        lost=calls.lost(numbers.phone[-1], numbers.ltv),
    )


def _charts(numbers: kpi_view.Numbers) -> list[charts.Chart]:
    months = numbers.months
    labels = [f"{month.month.month}月" for month in months]
    span = f"（{_month(months[0].month)}〜{_month(months[-1].month)}）"

    def series(name: str, pick: Callable[[MonthReport], float | None]) -> charts.Series:
        return charts.Series(name, tuple(pick(month) for month in months))

    def percent(name: str, pick: Callable[[MonthReport], float | None]) -> charts.Series:
        return series(name, lambda month: _hundred(pick(month)))

    return [
        charts.bar_chart(
            key="visits",
            title="来院数" + span,
            labels=labels,
            values=[month.visits for month in months],
            unit="回",
        ),
        charts.stacked_bar_chart(
            key="patients",
            title="患者数の内訳" + span,
            labels=labels,
            series=[
                series("持ち越し", lambda m: m.carried_over),
                series("新患", lambda m: m.new_patients),
                series("再新患", lambda m: m.returning),
            ],
            unit="人",
        ),
        charts.line_chart(
            key="frequency",
            title="来院頻度（来院数 ÷ 患者数）" + span,
            labels=labels,
            series=[series("来院頻度", lambda m: m.frequency)],
            guide=charts.Guide("目安", kpi_view.GUIDE_FREQUENCY),
            unit="回",
        ),
        charts.stacked_bar_chart(
            key="revenue",
            title="売上（保険・自費）" + span,
            labels=labels,
            series=[
                series("保険", lambda m: m.insurance_yen),
                series("自費", lambda m: m.self_pay_yen),
            ],
            unit="円",
        ),
        charts.line_chart(
            key="repeat",
            title="2回目リピート率・次回予約率" + span,
            labels=labels,
            series=[
                percent("2回目リピート率", lambda m: m.second_visit_rate),
                percent("次回予約率", lambda m: m.next_booking_rate),
            ],
            unit="%",
        ),
        charts.line_chart(
            key="cancellations",
            title="キャンセル率" + span,
            labels=labels,
            series=[percent("キャンセル率", lambda m: m.cancellation_rate)],
            guide=charts.Guide("目安", 100 * kpi_view.GUIDE_CANCELLATION),
            unit="%",
        ),
        charts.line_chart(
            key="per-10-minutes",
            title="10分単価（施術10分あたりの売上）" + span,
            labels=labels,
            series=[series("10分単価", lambda m: m.yen_per_10_minutes)],
            guide=charts.Guide("目安", kpi_view.GUIDE_YEN_PER_10_MINUTES),
            unit="円",
        ),
        _gender(numbers.latest),
        _heat(numbers, span),
    ]


def _gender(month: MonthReport) -> charts.Chart:
    return charts.donut_chart(
        key="gender",
        title=f"男女比（{_month(month.month)}の患者）",
        slices=[
            ("女性", month.female_patients),
            ("男性", month.male_patients),
            ("その他・未記入", month.other_patients),
        ],
        unit="人",
    )


def _heat(numbers: kpi_view.Numbers, span: str) -> charts.Chart:
    grid: Sequence[Sequence[int]] = numbers.by_weekday_hour
    busy = [hour for hour in range(24) if any(row[hour] for row in grid)]
    hours = range(min([OPEN_HOURS[0], *busy]), max([OPEN_HOURS[1], *busy]) + 1)
    return charts.heat_map(
        key="when",
        title="曜日・時間帯別の来院数" + span,
        rows=WEEKDAYS,
        columns=[f"{hour}時" for hour in hours],
        values=[[row[hour] for hour in hours] for row in grid],
        unit="回",
    )


def _hundred(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.1f}%"


def _month(first: date) -> str:
    return f"{first.year}年{first.month}月"
