"""The `uketsuke` command: database, demo data, the server, and tools for staff."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
import uvicorn
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import func, select

from backend import cli_kpi, cli_media, cli_setup, cli_staff, migrate
from backend.conversation import when as when_parser
from backend.db import Database
from backend.models import Clinic
from backend.settings import UnsafeSettingsError, check_for_production, get_settings

app = typer.Typer(
    help="uketsuke (受付): the clinic's front desk — LINE bot, phone attendant, カルテ, reminders.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cli_staff.staff_app, name="staff")
app.command("kpi")(cli_kpi.kpi_command)
app.add_typer(cli_media.media_app, name="media")
app.add_typer(cli_setup.clinic_app, name="clinic")
console = Console()

DEMO_PATIENTS = 1500
DEMO_YEARS = 2

# What `serve` and `demo` run beside the web server (the outbox worker adds itself here:
# the backend cannot import it).
ALONGSIDE: list[Callable[[], AbstractContextManager[object]]] = []


def _alongside(*, enabled: bool) -> ExitStack:
    stack = ExitStack()
    for start in ALONGSIDE if enabled else ():
        stack.enter_context(start())
    return stack


def _database() -> Database:
    return Database(get_settings().database_url)


def _checked_settings() -> None:
    try:
        check_for_production(get_settings())
    except UnsafeSettingsError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the latest schema."""
    database = _database()
    migrate.upgrade(database.engine)
    console.print(f"database is up to date: {database.engine.url.render_as_string()}")


@app.command()
def seed(
    patients: Annotated[int, typer.Option(min=1, max=100_000, help="How many patients.")] = (
        DEMO_PATIENTS
    ),
    years: Annotated[int, typer.Option(min=1, max=10, help="Years of history.")] = DEMO_YEARS,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same clinic.")
    ] = 1,
) -> None:
    """Generate a realistic demo clinic (patients, bookings, visits, ad spend)."""
    database = _database()
    migrate.upgrade(database.engine)
    _seed(database, patients=patients, years=years, seed=seed)


def _seed(database: Database, *, patients: int, years: int, seed: int) -> None:
    from backend import seed as seeder  # noqa: PLC0415 - only seeding pays for its tables

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        summary = seeder.seed_clinic(
            database,
            patients=patients,
            years=years,
            now=datetime.now(UTC),
            seed=seed,
            progress=report,
        )
    console.print(
        f"seeded clinic {summary.clinic_id}: {summary.patients:,} patients "
        f"(+{summary.merged_duplicates} merged duplicates), {summary.bookings:,} bookings, "
        f"{summary.visits:,} visits, {summary.upcoming:,} upcoming bookings, "
        f"{summary.calls:,} phone calls"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="App processes.")] = 1,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker", help="Do not send the outbox here (separate `uketsuke worker`s do)."
        ),
    ] = False,
) -> None:
    """Serve the API and webhooks, and (unless --no-worker) the outbox worker."""
    _checked_settings()
    with _alongside(enabled=not no_worker):
        uvicorn.run(
            "backend.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=get_settings().log_level.lower(),
        )


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Migrate, seed the demo clinic if the database is empty, and serve it."""
    _checked_settings()
    database = _database()
    migrate.upgrade(database.engine)
    with database.reader() as session:
        clinics = session.scalar(select(func.count()).select_from(Clinic)) or 0
    if clinics == 0:
        console.print("seeding the demo clinic (さくら通り整骨院)…")
        _seed(database, patients=DEMO_PATIENTS, years=DEMO_YEARS, seed=1)
    database.dispose()
    _banner(host, port)
    with _alongside(enabled=True):
        uvicorn.run(
            "backend.app:create_app",
            factory=True,
            host=host,
            port=port,
            log_level=get_settings().log_level.lower(),
        )


def _banner(host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    token = get_settings().api_token.get_secret_value()
    password = get_settings().dashboard_password.get_secret_value()
    # Plain echo: a rich console would wrap the curl line and break copy-paste.
    typer.echo(
        f"""
uketsuke demo — {base}
  staff dashboard:     {base}/   (password: {password})
                       today's bookings: 来院・お会計, 無断キャンセル, requests to approve
  patients (カルテ):   {base}/patients   (new カルテ, next booking, 施術録, walk-ins)
  KPIs with charts:    {base}/dashboard
  API docs (OpenAPI):  {base}/docs
  health:              {base}/healthz
  try the API:         curl -H 'Authorization: Bearer {token}' {base}/api/clinics

Try the LINE bot without a LINE account, in another terminal:
  .venv/bin/uketsuke chat            (a patient: register, book, change, cancel)
  .venv/bin/uketsuke chat --staff    (the staff group: approve the requests)

Try the phone attendant without a Twilio account:
  .venv/bin/uketsuke call            (book by voice text or keys; SMS shown after the call)

Stop with Ctrl+C. The data stays in {get_settings().database_url}.
"""
    )


@app.command()
def when(
    text: Annotated[str, typer.Argument(help="What the patient wrote, e.g. 「明日の午後」.")],
    now: Annotated[
        str | None, typer.Option(help="ISO 8601 moment to read the text at (default: now).")
    ] = None,
    zone: Annotated[str, typer.Option(help="The clinic's time zone.")] = "Asia/Tokyo",
) -> None:
    """Print, as JSON, the date, time or window a Japanese phrase means."""
    moment = _parse_now(now, ZoneInfo(zone))
    understood = when_parser.parse_when(text, now=moment)
    result = understood.to_json() if understood else None
    typer.echo(
        json.dumps({"text": text, "now": moment.isoformat(), "when": result}, ensure_ascii=False)
    )
    if understood is None:
        raise typer.Exit(1)


def _parse_now(raw: str | None, zone: ZoneInfo) -> datetime:
    if raw is None:
        return datetime.now(zone)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as error:
        raise typer.BadParameter(f"not an ISO 8601 moment: {raw}", param_hint="--now") from error
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(zone)


def main() -> None:
    """Console entry point of the backend alone (the installed `uketsuke` command is
    backend.app:main, which adds the channels' commands)."""
    app()
