"""`uketsuke kpi`: the month's KPIs (経営指標) as a table with Japanese labels, or as JSON."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from backend import cli_clinic, kpi
from backend.db import Database
from backend.kpi import report
from backend.models import Clinic
from backend.settings import get_settings

console = Console()
Show = Callable[[Any], str]


def _count(value: Any) -> str:
    return f"{value:,}"


def _yen(value: Any) -> str:
    return "—" if value is None else f"¥{value:,}"


def _share(value: Any) -> str:
    return "—" if value is None else f"{value:.1%}"


def _times(value: Any) -> str:
    return "—" if value is None else f"{value:.2f}"


# (field, label, how to show it, guide); the order is the order of the table.
ROWS: tuple[tuple[str, str, Show, str], ...] = (
    ("visits", "来院数", _count, ""),
    ("patients", "患者数", _count, ""),
    ("frequency", "来院頻度（回/人）", _times, f"{report.FREQUENCY_GUIDE:.1f}回以上"),
    ("carried_over", "　持ち越し", _count, ""),
    ("new_patients", "　新患", _count, ""),
    ("returning", "　再新患", _count, ""),
    ("second_visit_rate", "2回目リピート率", _share, "14日以内"),
    ("bookings_made", "予約数", _count, ""),
    ("cancellations", "キャンセル数", _count, ""),
    ("cancellation_rate", "キャンセル率", _share, f"{report.CANCELLATION_GUIDE:.0%}以下"),
    ("no_shows", "無断キャンセル", _count, ""),
    ("next_booking_rate", "次回予約率", _share, ""),
    ("revenue_yen", "売上", _yen, ""),
    ("insurance_yen", "　保険", _yen, ""),
    ("self_pay_yen", "　自費（回数券込）", _yen, ""),
    ("self_pay_share", "自費率", _share, ""),
    ("average_yen", "平均単価", _yen, ""),
    ("yen_per_10_minutes", "10分単価", _yen, f"¥{report.YEN_PER_10_MINUTES_GUIDE:,}以上"),
    ("female_patients", "女性患者", _count, ""),
    ("male_patients", "男性患者", _count, ""),
    ("other_patients", "その他・未回答", _count, ""),
)


def kpi_command(
    month: Annotated[
        str | None, typer.Option(help="Month as YYYY-MM (default: this month).")
    ] = None,
    months: Annotated[int, typer.Option(min=1, max=60, help="How many months up to --month.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    clinic: Annotated[
        int | None, typer.Option("--clinic", help="Clinic id (needed when there are several).")
    ] = None,
    now: Annotated[
        str | None, typer.Option(help="ISO 8601 moment to read the ledger at (default: now).")
    ] = None,
) -> None:
    """Print the clinic's KPIs for a month, or the months up to it."""
    moment = moment_of(now)
    database = Database(get_settings().database_url)
    try:
        with database.reader() as session:
            found = cli_clinic.chosen(session, clinic)
            zone = ZoneInfo(found.timezone)
            until = month_of(month) or moment.astimezone(zone).date()
            reports = kpi.trend(session, clinic_id=found.id, months=months, until=until, now=moment)
    finally:
        database.dispose()
    if as_json:
        typer.echo(json.dumps(_as_json(found, reports), ensure_ascii=False, indent=2))
    else:
        console.print(_table(found, reports))


def moment_of(raw: str | None) -> datetime:
    if raw is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as error:
        raise typer.BadParameter(f"not an ISO 8601 moment: {raw}", param_hint="--now") from error
    if moment.tzinfo is None:
        raise typer.BadParameter("give the moment with its offset, e.g. +09:00", param_hint="--now")
    return moment.astimezone(UTC)


def month_of(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m").date()  # noqa: DTZ007 - a calendar month, no time
    except ValueError as error:
        raise typer.BadParameter(
            f"not a month like 2026-11: {raw}", param_hint="--month"
        ) from error


def _table(clinic: Clinic, reports: list[report.MonthReport]) -> Table:
    table = Table(
        title=f"{clinic.name} 経営指標",
        title_justify="left",
        caption="* 集計中の月　暫定: 14日がまだ過ぎていない新患がいます",
        caption_justify="left",
    )
    table.add_column("指標")
    for month_report in reports:
        mark = "" if month_report.complete else "*"
        table.add_column(f"{month_report.month:%Y年%m月}{mark}", justify="right")
    table.add_column("目安")
    for name, label, show, guide in ROWS:
        values = [_cell(month_report, name, show) for month_report in reports]
        table.add_row(label, *values, guide)
    return table


def _cell(month_report: report.MonthReport, name: str, show: Show) -> str:
    text = show(getattr(month_report, name))
    if name == "second_visit_rate" and not month_report.second_visit_final:
        # Some new patients still have days left to come back: the rate can only rise.
        return f"{text} 暫定"
    return text


def _as_json(clinic: Clinic, reports: list[report.MonthReport]) -> dict[str, Any]:
    return {
        "clinic_id": clinic.id,
        "clinic": clinic.name,
        "months": [
            {
                name: value.isoformat() if isinstance(value, date) else value
                for name, value in dataclasses.asdict(month_report).items()
            }
            for month_report in reports
        ],
    }
