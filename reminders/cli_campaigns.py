"""`uketsuke campaign …`: preview a segment, create, send and list campaigns, and export a
postal DM (CSV and address labels)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from backend import campaigns, cli_clinic, postal, segments
from backend.db import Database
from backend.errors import DomainError
from backend.models import Campaign, Clinic
from backend.settings import get_settings

campaign_app = typer.Typer(help="Campaigns to a segment of patients, and postal DM.")
console = Console()
ACTOR = "cli"

ClinicOption = Annotated[
    int | None, typer.Option("--clinic", help="Clinic id (needed when there are several).")
]
LastFrom = Annotated[
    str | None, typer.Option("--last-visit-from", help="Last visit on or after (YYYY-MM-DD).")
]
LastTo = Annotated[
    str | None, typer.Option("--last-visit-to", help="Last visit on or before (YYYY-MM-DD).")
]
MinVisits = Annotated[int | None, typer.Option("--min-visits", help="At least N visits.")]
MaxVisits = Annotated[int | None, typer.Option("--max-visits", help="At most N visits.")]
CourseOption = Annotated[str | None, typer.Option("--course", help="Treated with this course.")]
MediaOption = Annotated[str | None, typer.Option("--media", help="Came through this media.")]
StaffOption = Annotated[str | None, typer.Option("--staff", help="Treated by this staff member.")]
TagOption = Annotated[list[str] | None, typer.Option("--tag", help="Has this tag (repeatable).")]
BirthMonth = Annotated[int | None, typer.Option("--birth-month", help="Born in month 1–12.")]
ChannelOption = Annotated[
    str | None,
    typer.Option("--channel", help="Reachable for marketing on line, sms, email or post."),
]


def register(app: typer.Typer) -> None:
    """Add `campaign` to the `uketsuke` command."""
    app.add_typer(campaign_app, name="campaign")


@contextmanager
def _database() -> Iterator[Database]:
    """The configured database; a refusal exits 1."""
    database = Database(get_settings().database_url)
    try:
        yield database
    except DomainError as error:
        field = error.context.get("field")
        cli_clinic.fail(f"{error.message}" + (f" ({field})" if field else ""))
    finally:
        database.dispose()


@contextmanager
def _session() -> Iterator[Session]:
    """A committed transaction on the configured database; a refusal exits 1."""
    with _database() as database, database.transaction() as session:
        yield session


def _segment(**options: Any) -> segments.Segment:
    values = {key: value for key, value in options.items() if value not in (None, [])}
    return segments.parse(values)


@campaign_app.command("preview")
def preview_command(
    *,
    template: Annotated[str | None, typer.Option(help="Render samples of this text.")] = None,
    last_visit_from: LastFrom = None,
    last_visit_to: LastTo = None,
    min_visits: MinVisits = None,
    max_visits: MaxVisits = None,
    course: CourseOption = None,
    media: MediaOption = None,
    staff: StaffOption = None,
    tag: TagOption = None,
    birth_month: BirthMonth = None,
    channel: ChannelOption = None,
    clinic: ClinicOption = None,
) -> None:
    """How many patients a segment matches, per channel, with a few sample messages."""
    with _session() as session:
        clinic_row = cli_clinic.chosen(session, clinic)
        segment = _segment(**_options(locals()))
        found = campaigns.preview(
            session, clinic_id=clinic_row.id, segment=segment, template=template
        )
        _print_preview(found)


def _options(scope: dict[str, Any]) -> dict[str, Any]:
    """The segment's options among a command's arguments, named as the Segment fields."""
    names = ("last_visit_from", "last_visit_to", "min_visits", "max_visits", "course", "media")
    values = {name: scope[name] for name in (*names, "staff", "birth_month", "channel")}
    return values | {"tags": scope["tag"] or []}


def _print_preview(found: campaigns.Preview) -> None:
    counts = found.counts
    table = Table("対象 / matched", "LINE", "SMS", "email", "届かない / none", "郵送 / post")
    table.add_row(
        *(str(n) for n in (counts.total, counts.line, counts.sms, counts.email)),
        str(counts.unreachable),
        str(counts.post),
    )
    console.print(table)
    for sample in found.samples:
        console.print(f"[bold]{sample.patient_name}[/bold] ({sample.channel or '送信不可 / none'})")
        console.print(sample.text, markup=False)


@campaign_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="A name for staff, e.g. 「年末年始のご案内」.")],
    *,
    template: Annotated[str, typer.Option(help="The message; {patient_name} {clinic_name} …")],
    send_at: Annotated[
        str | None, typer.Option("--send-at", help="Send at (ISO, clinic time if no zone).")
    ] = None,
    last_visit_from: LastFrom = None,
    last_visit_to: LastTo = None,
    min_visits: MinVisits = None,
    max_visits: MaxVisits = None,
    course: CourseOption = None,
    media: MediaOption = None,
    staff: StaffOption = None,
    tag: TagOption = None,
    birth_month: BirthMonth = None,
    channel: ChannelOption = None,
    clinic: ClinicOption = None,
) -> None:
    """Create a campaign: a draft, or scheduled with --send-at."""
    now = datetime.now(UTC)
    with _session() as session:
        clinic_row = cli_clinic.chosen(session, clinic)
        campaign = campaigns.create(
            session,
            clinic_id=clinic_row.id,
            name=name,
            segment=_segment(**_options(locals())),
            template=template,
            actor=ACTOR,
            now=now,
            send_at=_moment(send_at, clinic_row) if send_at else None,
        )
    typer.echo(f"キャンペーン {campaign.id} を作成しました（{campaign.status.value}）。")


def _moment(text: str, clinic: Clinic) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        cli_clinic.fail(f"--send-at: not an ISO date and time: {text}")
    zone = ZoneInfo(clinic.timezone)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@campaign_app.command("send")
def send_command(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id (see `list`).")],
    yes: Annotated[bool, typer.Option("--yes", help="Send without asking.")] = False,
) -> None:
    """Send a campaign now (after showing its preview, unless --yes)."""
    if not yes:
        with _session() as session:
            campaign = campaigns.get(session, campaign_id=campaign_id)
            _print_preview(_campaign_preview(session, campaign))
        typer.confirm("送信しますか？ / Send now?", abort=True)
    with _database() as database:
        delivery = campaigns.send(database, campaign_id=campaign_id, now=datetime.now(UTC))
    typer.echo(
        f"送信予約 / queued: {delivery.queued}, 上限などで省略 / skipped: {delivery.skipped}, "
        f"届かない / unreachable: {delivery.unreachable}"
    )


def _campaign_preview(session: Session, campaign: Campaign) -> campaigns.Preview:
    return campaigns.preview(
        session,
        clinic_id=campaign.clinic_id,
        segment=campaigns.segment_of(campaign),
        template=campaign.template,
    )


@campaign_app.command("cancel")
def cancel_command(campaign_id: Annotated[int, typer.Argument()]) -> None:
    """Cancel a draft or scheduled campaign."""
    with _session() as session:
        campaigns.cancel(session, campaign_id=campaign_id)
    typer.echo(f"キャンペーン {campaign_id} を取り消しました。")


@campaign_app.command("list")
def list_command(clinic: ClinicOption = None) -> None:
    """The clinic's campaigns, newest first."""
    with _session() as session:
        clinic_row = cli_clinic.chosen(session, clinic)
        zone = ZoneInfo(clinic_row.timezone)
        table = Table("ID", "名前 / name", "状態 / status", "送信 / send at", "送信数 / sent")
        for campaign in campaigns.listing(session, clinic_id=clinic_row.id):
            when = (
                campaign.send_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                if campaign.send_at
                else ""
            )
            table.add_row(
                str(campaign.id),
                campaign.name,
                campaign.status.value,
                when,
                str(campaign.recipients),
            )
        console.print(table)


@campaign_app.command("export")
def export_command(
    campaign_id: Annotated[
        int | None, typer.Argument(help="Export this campaign's segment; or give options.")
    ] = None,
    *,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write the CSV here.")] = None,
    labels: Annotated[Path | None, typer.Option("--labels", help="Write label PDF here.")] = None,
    last_visit_from: LastFrom = None,
    last_visit_to: LastTo = None,
    min_visits: MinVisits = None,
    max_visits: MaxVisits = None,
    course: CourseOption = None,
    media: MediaOption = None,
    staff: StaffOption = None,
    tag: TagOption = None,
    birth_month: BirthMonth = None,
    channel: ChannelOption = None,
    clinic: ClinicOption = None,
) -> None:
    """Postal DM: addresses of patients who agreed to mail, as CSV and/or A4 labels."""
    if csv_file is None and labels is None:
        cli_clinic.fail("give --csv FILE and/or --labels FILE.pdf")
    with _session() as session:
        if campaign_id is not None:
            campaign = campaigns.get(session, campaign_id=campaign_id)
            clinic_row = cli_clinic.chosen(session, campaign.clinic_id)
            segment = campaigns.segment_of(campaign)
        else:
            clinic_row = cli_clinic.chosen(session, clinic)
            segment = _segment(**_options(locals()))
        found = postal.export(
            session, clinic=clinic_row, segment=segment, actor=ACTOR, now=datetime.now(UTC)
        )
    if csv_file is not None:
        csv_file.write_bytes(postal.csv_bytes(found))
    if labels is not None:
        with labels.open("wb") as out:
            pages = postal.write_labels(found, out)
        typer.echo(f"宛名ラベル / labels: {labels} ({pages} pages)")
    typer.echo(f"{len(found)} 件の宛先を出力しました / addresses exported.")
