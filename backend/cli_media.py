"""`uketsuke media`: the clinic's media (来院経路) with their ad spend, new patients and cost
per new patient, and setting one media's spend for one month, as the dashboard's 広告費
page does."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

# The --now, --month and --clinic options read as `uketsuke kpi` reads them.
from backend import cli_clinic, cli_kpi
from backend.db import Database
from backend.errors import DomainError
from backend.kpi import calendar, spend
from backend.models import Clinic, Media
from backend.settings import get_settings

media_app = typer.Typer(
    help="来院経路（媒体）: ad spend, new patients and cost per new patient.", no_args_is_help=True
)
console = Console()
ClinicOption = Annotated[
    int | None, typer.Option("--clinic", help="Clinic id (needed when there are several).")
]
NowOption = Annotated[str | None, typer.Option(help="ISO 8601 moment to act at (default: now).")]


@media_app.command("list")
def list_command(
    months: Annotated[int, typer.Option(min=1, max=24, help="How many months up to now.")] = 3,
    clinic: ClinicOption = None,
    now: NowOption = None,
) -> None:
    """Print each active media's spend, new patients and cost per new patient by month."""
    moment = cli_kpi.moment_of(now)
    database = Database(get_settings().database_url)
    try:
        with database.reader() as session:
            found = cli_clinic.chosen(session, clinic)
            today = calendar.local_day(moment, calendar.clinic_zone(session, found.id))
            rows = spend.spend_table(session, clinic_id=found.id, until=today, months=months)
    finally:
        database.dispose()
    console.print(_table(found, rows, calendar.months_until(today, months)))


@media_app.command("spend")
def spend_command(
    media: Annotated[str, typer.Option("--media", help="The media's name, e.g. ホームページ.")],
    month: Annotated[str, typer.Option("--month", help="Month as YYYY-MM (up to next month).")],
    yen: Annotated[int, typer.Option("--yen", help="What the media cost that month, in yen.")],
    clinic: ClinicOption = None,
    now: NowOption = None,
) -> None:
    """Set what one media cost in one month (saving the same month again replaces it)."""
    moment = cli_kpi.moment_of(now)
    first = cli_kpi.month_of(month)
    assert first is not None  # --month is required
    database = Database(get_settings().database_url)
    try:
        with database.transaction() as session:
            found = cli_clinic.chosen(session, clinic)
            media_id = _media_id(session, found, media)
            try:
                spend.set_spend(
                    session,
                    clinic_id=found.id,
                    media_id=media_id,
                    month=first,
                    amount_yen=yen,
                    now=moment,
                )
            except DomainError as refused:
                cli_clinic.fail(_refusal(refused))
    finally:
        database.dispose()
    console.print(f"広告費を保存しました: {media} {first.year}年{first.month}月 {yen:,}円")


def _media_id(session: Session, clinic: Clinic, name: str) -> int:
    found = session.scalars(
        select(Media.id).where(Media.clinic_id == clinic.id, Media.name == name)
    ).first()
    if found is None:
        names = session.scalars(
            select(Media.name).where(Media.clinic_id == clinic.id).order_by(Media.sort_order)
        ).all()
        known = "、".join(names) or "なし"
        cli_clinic.fail(f"媒体「{name}」は登録されていません（登録済み: {known}）。")
    return found


def _refusal(refused: DomainError) -> str:
    if refused.context.get("field") == "month":
        return "広告費を入力できるのは来月分までです。"
    return f"広告費は0円から{spend.MAX_YEN:,}円までの整数で入力してください。"


def _table(clinic: Clinic, rows: list[spend.SpendRow], months: list[date]) -> Table:
    table = Table(title=f"{clinic.name} 媒体別の広告費・新患・新患獲得単価")
    table.add_column("媒体")
    for month in months:
        table.add_column(f"{month.year}年{month.month}月", justify="right")
    for row in rows:
        table.add_row(row.name, *(_cell(item) for item in row.months))
    return table


def _cell(item: spend.SpendMonth) -> str:
    paid = "—" if item.spend_yen is None else f"¥{item.spend_yen:,}"
    cost = "—" if item.cost_per_new_yen is None else f"¥{item.cost_per_new_yen:,}"
    return f"{paid} / 新患{item.new_patients} / 単価{cost}"
