"""`uketsuke staff …`: link staff members and the staff group to LINE."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from backend import cli_clinic, staff_links
from backend.db import Database
from backend.errors import DomainError
from backend.models import Clinic, LinkCode, StaffRole
from backend.settings import get_settings

staff_app = typer.Typer(help="Staff and the LINE staff group.", no_args_is_help=True)
console = Console()

ClinicOption = Annotated[
    int | None, typer.Option("--clinic", help="Clinic id (needed when there are several).")
]
ROLE_WORDS = {
    StaffRole.PRACTITIONER: "施術者",
    StaffRole.OWNER: "院長・オーナー",
    StaffRole.RECEPTION: "受付",
}


@contextmanager
def _session() -> Iterator[Session]:
    """A committed transaction on the configured database; a domain refusal exits 1."""
    database = Database(get_settings().database_url)
    try:
        with database.transaction() as session:
            yield session
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error
    finally:
        database.dispose()


@staff_app.command("add")
def add(
    name: Annotated[str, typer.Option(help="Full name, e.g. 「山田 太郎」.")],
    kana: Annotated[str | None, typer.Option(help="Reading in katakana.")] = None,
    role: Annotated[StaffRole, typer.Option(case_sensitive=False)] = StaffRole.PRACTITIONER,
    clinic: ClinicOption = None,
) -> None:
    """Add a staff member and print the one-time code that links their LINE account."""
    now = datetime.now(UTC)
    with _session() as session:
        clinic_row = cli_clinic.chosen(session, clinic)
        member, link = staff_links.add_staff(
            session, clinic_id=clinic_row.id, name=name, kana=kana, role=role, now=now
        )
    # Printed after the commit: a code shown must be a code that works.
    typer.echo(
        f"{member.name}さん（{ROLE_WORDS[member.role]}, ID {member.id}）を登録しました。"
        f" / Added staff member {member.id}."
    )
    _print_user_code(clinic_row, link)


@staff_app.command("link")
def link(
    staff_id: Annotated[int, typer.Option("--id", help="The staff member's id (see `list`).")],
) -> None:
    """Print a new code that links an existing staff member's LINE account."""
    now = datetime.now(UTC)
    with _session() as session:
        member = staff_links.member(session, staff_id=staff_id)
        clinic_row = cli_clinic.chosen(session, member.clinic_id)
        code = staff_links.issue(
            session, clinic_id=clinic_row.id, purpose="staff_user", staff_id=member.id, now=now
        )
    typer.echo(f"{member.name}さん（ID {member.id}）の新しい連携コード / new link code")
    _print_user_code(clinic_row, code)


@staff_app.command("link-group")
def link_group(clinic: ClinicOption = None) -> None:
    """Print a code that makes a LINE group the clinic's staff group."""
    now = datetime.now(UTC)
    with _session() as session:
        clinic_row = cli_clinic.chosen(session, clinic)
        code = staff_links.issue(session, clinic_id=clinic_row.id, purpose="staff_group", now=now)
    typer.echo(f"スタッフグループ連携コード / staff group code:  {code.code}")
    _print_expiry(clinic_row, code)
    typer.echo("スタッフグループにボットを招待し、このコードを投稿してください。")
    typer.echo("Invite the bot to the staff group, then post this code in the group.")


@staff_app.command("list")
def list_staff(clinic: ClinicOption = None) -> None:
    """Show the staff and whether their LINE accounts (and the staff group) are linked."""
    with _session() as session:
        clinic_row = cli_clinic.chosen(session, clinic)
        table = Table("ID", "名前 / name", "役割 / role", "LINE")
        for member in staff_links.roster(session, clinic_id=clinic_row.id):
            linked = "連携済み / linked" if member.line_user_id else "未連携 / not linked"
            role = member.role.value + ("" if member.active else " (inactive)")
            table.add_row(str(member.id), member.name, role, linked)
        console.print(table)
        group = "連携済み / linked" if clinic_row.line_staff_group_id else "未連携 / not linked"
        console.print(f"スタッフグループ / staff group: {group}")


def _print_user_code(clinic: Clinic, link: LinkCode) -> None:
    typer.echo(f"LINE連携コード / link code:  {link.code}")
    _print_expiry(clinic, link)
    typer.echo("このコードを公式LINEに1対1で送ってください。")
    typer.echo("Send this code to the clinic's official LINE account in a 1:1 chat.")


def _print_expiry(clinic: Clinic, link: LinkCode) -> None:
    expires = link.expires_at.astimezone(ZoneInfo(clinic.timezone))
    typer.echo(
        f"有効期限 / expires: {expires:%Y-%m-%d %H:%M} ({clinic.timezone})・1回限り / single use"
    )
