"""`uketsuke rules …`: see, switch, edit, preview and run the clinic's message rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from backend import cli_clinic, message_rules
from backend.db import Database
from backend.errors import DomainError
from backend.models import Clinic, MessageRule, OutboxMessage, RuleKind
from backend.settings import get_settings
from reminders import rules

rules_app = typer.Typer(
    help="Message rules: reminders, follow-ups, greetings.", no_args_is_help=True
)
console = Console()
KINDS = [kind.value for kind in message_rules.DEFAULTS]
PREVIEW_ROWS = 5

ClinicOption = Annotated[
    int | None, typer.Option("--clinic", help="Clinic id (needed when there are several).")
]
KindArgument = Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}.")]
NowOption = Annotated[
    str | None, typer.Option("--now", help="Pretend it is this time (ISO 8601 with offset).")
]


def register(app: typer.Typer) -> None:
    """Add `uketsuke rules` to the `uketsuke` command."""
    app.add_typer(rules_app, name="rules")


@contextmanager
def _database() -> Iterator[Database]:
    database = Database(get_settings().database_url)
    try:
        yield database
    except DomainError as error:
        cli_clinic.fail(error.message)
    finally:
        database.dispose()


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        cli_clinic.fail(f"--now {text!r} is not an ISO 8601 time")
    if moment.tzinfo is None:
        cli_clinic.fail("--now needs an offset, e.g. 2026-12-01T18:00+09:00")
    return moment.astimezone(UTC)


def _rule(session: Session, clinic: Clinic, kind: str, now: datetime) -> MessageRule:
    if kind not in KINDS:
        cli_clinic.fail(f"unknown rule {kind!r}: one of {', '.join(KINDS)}")
    found = message_rules.ensure_rules(session, clinic=clinic, now=now)
    return next(rule for rule in found if rule.kind == RuleKind(kind))


@rules_app.command("list")
def list_rules(clinic: ClinicOption = None) -> None:
    """Each rule: on or off, its parameters and the first line of its template."""
    now = datetime.now(UTC)
    table = Table("rule", "on", "params", "template")
    with _database() as database, database.transaction() as session:
        for rule in message_rules.ensure_rules(
            session, clinic=cli_clinic.chosen(session, clinic), now=now
        ):
            params = json.dumps(rule.params, ensure_ascii=False)
            first = rule.template.splitlines()[0] if rule.template else ""
            table.add_row(rule.kind.value, "on" if rule.enabled else "off", params, first)
    console.print(table)


def _switch(kind: str, clinic: int | None, *, enabled: bool) -> None:
    now = datetime.now(UTC)
    with _database() as database, database.transaction() as session:
        rule = _rule(session, cli_clinic.chosen(session, clinic), kind, now)
        rule.enabled, rule.updated_at = enabled, now
    console.print(f"{kind}: {'on' if enabled else 'off'}")


@rules_app.command("enable")
def enable(kind: KindArgument, clinic: ClinicOption = None) -> None:
    """Turn a rule on."""
    _switch(kind, clinic, enabled=True)


@rules_app.command("disable")
def disable(kind: KindArgument, clinic: ClinicOption = None) -> None:
    """Turn a rule off."""
    _switch(kind, clinic, enabled=False)


def _value(text: str) -> Any:
    """A parameter value: JSON when it parses (18, [30,60], "18:00"), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@rules_app.command("set")
def set_rule(
    kind: KindArgument,
    template: Annotated[str | None, typer.Option(help="The new template text.")] = None,
    param: Annotated[
        list[str] | None, typer.Option(help="key=value (value as JSON when it parses).")
    ] = None,
    clinic: ClinicOption = None,
) -> None:
    """Change a rule's template (placeholders are checked) or parameters."""
    if template is None and not param:
        cli_clinic.fail("give --template TEXT or --param key=value")
    now = datetime.now(UTC)
    with _database() as database, database.transaction() as session:
        rule = _rule(session, cli_clinic.chosen(session, clinic), kind, now)
        if template is not None:
            message_rules.set_template(rule, template=template.replace("\\n", "\n"), now=now)
        for item in param or []:
            name, sep, raw = item.partition("=")
            if not sep:
                cli_clinic.fail(f"--param {item!r}: write key=value")
            message_rules.set_param(rule, name=name.strip(), value=_value(raw), now=now)
    console.print(f"{kind}: saved")


def _text(row: OutboxMessage) -> str:
    payload = row.payload
    if "replies" in payload:
        return "\n".join(
            str(reply.get("text") or reply.get("title") or "") for reply in payload["replies"]
        )
    return str(payload.get("text") or payload.get("body") or "")


@rules_app.command("preview")
def preview(kind: KindArgument, now: NowOption = None, clinic: ClinicOption = None) -> None:
    """Who would get what if the rule ran now: nothing is queued."""
    moment = _now(now)
    # A session that is never committed: the rules created for the preview go too.
    with _database() as database, database.sessions() as session:
        found = cli_clinic.chosen(session, clinic)
        rule = _rule(session, found, kind, moment)
        rows = rules.preview(session, clinic=found, rule=rule, now=moment)
        state = "" if rule.enabled else " (the rule is off: shown as if it were on)"
        session.rollback()
    console.print(f"{kind}: {len(rows)} message(s) would be queued{state}")
    for row in rows[:PREVIEW_ROWS]:
        due = row.due_at.isoformat(timespec="minutes")
        console.print(
            f"\n[bold]{row.channel.value} → {row.recipient} (due {due}, {row.kind.value})[/bold]"
        )
        console.print(_text(row))


@rules_app.command("run")
def run(now: NowOption = None) -> None:
    """Run every enabled rule of every clinic once and print what each queued."""
    moment = _now(now)
    with _database() as database:
        report = rules.run(database, now=moment)
    console.print_json(json.dumps(report))
