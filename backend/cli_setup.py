"""`uketsuke clinic …`: set a clinic up from a TOML file — its settings, opening hours,
closed days, courses, staff and their shifts, beds and media — and show it as one.

`apply` runs one at a time: two at once on an empty database would each find no clinic
and create one. On PostgreSQL a transaction-level advisory lock queues them (taken before
anything is read, released at commit or rollback; each statement under READ COMMITTED then
sees what the other committed). On SQLite every writing transaction already begins
IMMEDIATE (`backend.db`), holding the database's write lock before its first read.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import cli_clinic, cli_kpi
from backend.clinic_setup import applying, current, example, reading, stranding, writing
from backend.clinic_setup.spec import Setup
from backend.conversation import words
from backend.db import Database
from backend.models import Clinic
from backend.settings import get_settings

clinic_app = typer.Typer(
    help="院の設定: the clinic's hours, closed days, courses, staff, beds and media from a file.",
    no_args_is_help=True,
)
ClinicOption = Annotated[
    int | None, typer.Option("--clinic", help="Clinic id (needed when there are several).")
]
NowOption = Annotated[
    str | None, typer.Option("--now", help="ISO 8601 moment to count as now (default: now).")
]
# The example's 年末年始 falls in this zone's current year.
EXAMPLE_ZONE = ZoneInfo("Asia/Tokyo")
# Any number no other advisory lock uses: the bytes of "ukclinic".
APPLY_LOCK = int.from_bytes(b"ukclinic")
STRANDED_SHOWN = 20
KINDS = {
    "hours": ("診療時間", "opening hours"),
    "closed_days": ("休診日", "closed days"),
    "courses": ("メニュー", "courses"),
    "staff": ("スタッフ", "staff"),
    "beds": ("ベッド", "beds"),
    "media": ("来院経路", "media"),
}
COUNTS = (
    ("created", "追加"),
    ("updated", "更新"),
    ("deactivated", "使用停止"),
    ("removed", "削除"),
)


@clinic_app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the example.")] = Path("clinic.toml"),
) -> None:
    """Write a commented example set-up file to edit (never over an existing file)."""
    text = example.example(datetime.now(EXAMPLE_ZONE).date())
    try:
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        cli_clinic.fail(f"{path} はすでにあります（上書きしません） / {path} exists, kept as it is")
    typer.echo(f"{path} を作成しました / wrote {path}")
    typer.echo("編集して反映してください / edit it, then apply it:")
    typer.echo(f"  uketsuke clinic apply {path}")


@clinic_app.command("apply")
def apply_command(
    path: Annotated[Path, typer.Argument(help="The set-up file, e.g. clinic.toml.")],
    clinic: ClinicOption = None,
    new: Annotated[
        bool, typer.Option("--new", help="Create another clinic (a branch) from the file.")
    ] = False,
    now: NowOption = None,
) -> None:
    """Check the file completely, then create or update the clinic in one transaction,
    and list the future bookings the change leaves outside the set-up."""
    text = _text(path)
    moment = cli_kpi.moment_of(now)
    database = Database(get_settings().database_url)
    try:
        summary = applied(database, path=path, text=text, clinic_id=clinic, new=new, now=moment)
    finally:
        database.dispose()
    # Patients' names: printed for the staff at the terminal, never logged.
    for line in summary_lines(summary):
        typer.echo(line)


def applied(
    database: Database,
    *,
    path: Path,
    text: str,
    clinic_id: int | None,
    new: bool,
    now: datetime,
) -> applying.Summary:
    """Apply the file's text in one transaction, one apply at a time; exit 1 listing every
    problem, having changed nothing."""
    with database.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(APPLY_LOCK)))
        target = _target(session, clinic_id, new=new)
        zone = target.timezone if target is not None else reading.DEFAULT_ZONE
        setup = _read(path, text, now=now, zone=zone)
        return applying.apply(session, clinic=target, setup=setup, now=now)


@clinic_app.command("show")
def show(clinic: ClinicOption = None, now: NowOption = None) -> None:
    """Print the clinic's set-up (active rows, closed days from today on) as the file
    `apply` reads."""
    moment = cli_kpi.moment_of(now)
    database = Database(get_settings().database_url)
    try:
        with database.reader() as session:
            found = cli_clinic.chosen(session, clinic)
            header = (
                f"uketsuke clinic show: {found.name}（ID {found.id}）の設定",
                f"編集して `uketsuke clinic apply <file> --clinic {found.id}` で反映します。",
                "休診日は今日以降の分です（過ぎた休診日は記録として残ります）。",
            )
            setup = current.current(session, clinic=found, now=moment)
            text = writing.dumps(setup, header=header)
    finally:
        database.dispose()
    # Plain echo: a rich console would read [hours] and [[courses]] as markup.
    typer.echo(text, nl=False)


def _text(path: Path) -> str:
    """The file's text, or exit 1 naming why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _refuse(path, ["file not found"])
    except IsADirectoryError:
        _refuse(path, ["is a directory, not a file"])
    except UnicodeDecodeError:
        _refuse(path, ["not UTF-8 text"])
    except OSError as error:
        _refuse(path, [f"cannot be read: {error.strerror}"])


def _read(path: Path, text: str, *, now: datetime, zone: str) -> Setup:
    """The file's set-up, or exit 1 listing every problem."""
    try:
        return reading.read(text, now=now, zone=zone)
    except reading.Problems as problems:
        _refuse(path, problems.lines)


def _refuse(path: Path, lines: list[str]) -> NoReturn:
    typer.echo(
        f"{path} に問題が {len(lines)} 件あります。何も変更していません"
        f" / {len(lines)} problem(s) in {path}; nothing was changed:"
    )
    for line in lines:
        typer.echo(f"  {line}")
    raise typer.Exit(1)


def _target(session: Session, clinic_id: int | None, *, new: bool) -> Clinic | None:
    """The clinic to update, or None to create one."""
    if new and clinic_id is not None:
        cli_clinic.fail("--new と --clinic は一緒に使えません / use --new or --clinic, not both")
    if new:
        return None
    if clinic_id is None and not session.scalar(select(func.count()).select_from(Clinic)):
        return None
    return cli_clinic.chosen(session, clinic_id)


def summary_lines(summary: applying.Summary) -> list[str]:
    """What `apply` changed, in Japanese and English, one line per kind of row."""
    where = f"{summary.clinic_name}（ID {summary.clinic_id}）"
    if summary.created:
        lines = [f"院を登録しました / created clinic: {where}"]
    elif summary.changed:
        lines = [f"院の設定を更新しました / updated clinic: {where}"]
    else:
        return [f"変更はありません / nothing changed: {where}"]
    return lines + _tally_lines(summary) + stranded_lines(summary.stranded)


def _tally_lines(summary: applying.Summary) -> list[str]:
    lines = []
    if summary.settings_changed:
        lines.append("  院の設定 / settings: 更新 / updated")
    for kind, (japanese, english) in KINDS.items():
        tally = summary.tallies[kind]
        counts = [(attr, word, getattr(tally, attr)) for attr, word in COUNTS]
        if tally.changed:
            ja = "・".join(f"{word} {n}" for _attr, word, n in counts if n)
            en = ", ".join(f"{attr} {n}" for attr, _word, n in counts if n)
            lines.append(f"  {japanese} / {english}: {ja} / {en}")
    return lines


def stranded_lines(stranded: list[stranding.Stranded]) -> list[str]:
    """The bookings an apply left outside the set-up, the first 20 of them one a line,
    with what staff should do about them."""
    if not stranded:
        return []
    lines = [
        f"注意 / warning: {words.moment(item.starts_at)} {item.patient} — "
        + "、".join(ja for ja, _en in item.reasons)
        + " / "
        + ", ".join(en for _ja, en in item.reasons)
        for item in stranded[:STRANDED_SHOWN]
    ]
    if len(stranded) > STRANDED_SHOWN:
        more = len(stranded) - STRANDED_SHOWN
        lines.append(f"注意 / warning: ほか {more} 件 / {more} more")
    lines.append(
        f"これらの予約 {len(stranded)} 件は新しい設定に合いません。患者さまに連絡し、"
        "ダッシュボードのカルテで「日時を変更」か「キャンセル」をしてください"
        f" / {len(stranded)} booking(s) no longer fit the set-up: move or cancel them"
        " from the dashboard's カルテ (日時を変更 / キャンセル)"
    )
    return lines
