"""`uketsuke worker` and `uketsuke outbox …`: run the outbox worker, and let staff see
what is waiting, what failed and why, and send a message again."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import cli as backend_cli
from backend.db import Database
from backend.models import Channel, Clinic, OutboxMessage, OutboxStatus
from backend.settings import get_settings
from reminders import quota, worker

outbox_app = typer.Typer(help="The outbox: messages waiting, sent, failed.", no_args_is_help=True)
console = Console()
STATUSES = ["pending", "sending", "failed", "uncertain", "sent", "cancelled", "all"]
RETRYABLE = (OutboxStatus.FAILED, OutboxStatus.UNCERTAIN)
ERROR_WIDTH = 60


def register(app: typer.Typer) -> None:
    """Add `worker` and `outbox` to the `uketsuke` command; `serve` and `demo` then run
    the worker beside the web server."""
    app.command("worker")(worker_command)
    app.add_typer(outbox_app, name="outbox")
    if _beside_the_server not in backend_cli.ALONGSIDE:
        backend_cli.ALONGSIDE.append(_beside_the_server)


def _beside_the_server() -> AbstractContextManager[object]:
    _configure_logging()
    return worker.running(get_settings())


def _configure_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Its notes on each run (and on a tick skipped while a long one goes on) are noise.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def worker_command() -> None:
    """Run the outbox worker alone (no web server): sends due messages until stopped."""
    _configure_logging()
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    with worker.running(get_settings()):
        stop.wait()
    typer.echo("outbox worker stopped")


@contextmanager
def _database() -> Iterator[Database]:
    database = Database(get_settings().database_url)
    try:
        yield database
    finally:
        database.dispose()


@outbox_app.command("list")
def list_command(
    status: Annotated[
        str, typer.Option(help=f"One of: {', '.join(STATUSES)}.", case_sensitive=False)
    ] = "pending",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """Show outbox messages (newest due first), with the last error of each."""
    if status not in STATUSES:
        raise typer.BadParameter(f"one of {', '.join(STATUSES)}", param_hint="--status")
    now = datetime.now(UTC)
    with _database() as database, database.reader() as session:
        for name, until in quota.paused(session, now=now):
            console.print(
                f"[red]LINE sending is paused for {name} until {until.isoformat()}: "
                "the monthly message quota is used up[/red]"
            )
        rows = _listed(session, status=status, limit=limit)
        console.print(_table(rows, title=f"outbox: {status} ({len(rows)} shown)"))


def _listed(session: Session, *, status: str, limit: int) -> list[tuple[OutboxMessage, str]]:
    query = (
        select(OutboxMessage, Clinic.timezone)
        .join(Clinic, Clinic.id == OutboxMessage.clinic_id)
        .order_by(OutboxMessage.due_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    if status != "all":
        query = query.where(OutboxMessage.status == status)
    return [(row, zone) for row, zone in session.execute(query)]


def _table(rows: list[tuple[OutboxMessage, str]], *, title: str) -> Table:
    table = Table(title=title)
    for column in ("id", "due", "channel", "purpose", "to", "status", "tries", "last error"):
        table.add_column(column, overflow="fold")
    for row, zone in rows:
        table.add_row(
            str(row.id),
            local(row.due_at, zone),
            row.channel,
            row.purpose,
            mask(row.recipient),
            row.status,
            str(row.attempts),
            (row.last_error or "")[:ERROR_WIDTH],
        )
    return table


def local(moment: datetime, zone: str) -> str:
    """A moment as the clinic reads it."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def mask(recipient: str) -> str:
    """Enough of an address to tell messages apart, not enough to read it off the screen."""
    if "@" in recipient:
        name, _, domain = recipient.partition("@")
        return f"{name[:2]}•••@{domain}"
    if len(recipient) <= 8:
        return recipient[:2] + "•••"
    return f"{recipient[:5]}•••{recipient[-3:]}"


@outbox_app.command("show")
def show_command(row_id: Annotated[int, typer.Argument(help="The message id.")]) -> None:
    """Show one message: where it goes, its state and its last error (not its text)."""
    with _database() as database, database.reader() as session:
        row = session.get(OutboxMessage, row_id)
        if row is None:
            console.print(f"[red]no outbox message {row_id}[/red]")
            raise typer.Exit(1)
        zone = session.scalar(select(Clinic.timezone).where(Clinic.id == row.clinic_id))
    when = {"due": row.due_at, "sent": row.sent_at, "created": row.created_at}
    lines = [
        f"id {row.id}: {row.channel} to {mask(row.recipient)}, {row.kind} ({row.purpose})",
        f"status {row.status} after {row.attempts} attempt(s)",
        *(f"{name} {local(moment, zone or 'UTC')}" for name, moment in when.items() if moment),
        f"last error: {row.last_error or '-'}",
    ]
    typer.echo("\n".join(lines))


@outbox_app.command("retry")
def retry_command(
    row_id: Annotated[int, typer.Argument(help="The message id.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm a retry that may send a message twice.")
    ] = False,
) -> None:
    """Send a failed or uncertain message again (at the worker's next tick)."""
    with _database() as database, database.transaction() as session:
        row = session.get(OutboxMessage, row_id)
        if row is None or row.status not in RETRYABLE:
            state = "does not exist" if row is None else f"is {row.status}"
            console.print(f"[red]outbox message {row_id} {state}: only failed or uncertain "
                          "messages can be retried[/red]")  # fmt: skip
            raise typer.Exit(1)
        if _may_duplicate(row) and not yes:
            console.print(
                f"[yellow]message {row_id} may already have reached the patient "
                f"({row.last_error}); {row.channel} cannot tell a repeat apart, so the patient "
                "may get it twice. Check with the patient, then run again with --yes.[/yellow]"
            )
            raise typer.Exit(1)
        requeue(session, row_id=row_id, now=datetime.now(UTC))
    typer.echo(f"message {row_id} will be sent again at the worker's next tick")


def _may_duplicate(row: OutboxMessage) -> bool:
    return row.status == OutboxStatus.UNCERTAIN and row.channel != Channel.LINE


def requeue(session: Session, *, row_id: int, now: datetime) -> None:
    """Put a failed or uncertain row back to pending, due now, with fresh attempts; it
    leaves any multicast batch it was in (its own retry key is still its own)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status.in_(RETRYABLE))
        .values(
            status=OutboxStatus.PENDING,
            due_at=now,
            attempts=0,
            claimed_at=None,
            batch_key=None,
        )
    )
