"""`uketsuke outbox …` and `uketsuke worker` beside `serve`, run in-process on a temporary
SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from backend import cli, migrate, outbox
from backend.db import Database
from backend.models import Channel, Clinic, OutboxMessage, OutboxStatus
from backend.settings import get_settings
from reminders import cli as outbox_cli
from tests.factories import NOW, jst, make_clinic

runner = CliRunner()
LINE_USER = "U0123456789abcdef0123456789abcdef"
MOBILE = "+819012345678"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    database = Database(url)
    migrate.upgrade(database.engine)
    yield database
    database.dispose()
    get_settings.cache_clear()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    outbox_cli.register(app)
    return app


def add(database: Database, channel: Channel, recipient: str, **values: Any) -> int:
    with database.transaction() as session:
        clinic = session.scalar(select(Clinic)) or make_clinic(session, hours=False)
        row_id = outbox.enqueue(
            session,
            clinic_id=clinic.id,
            channel=channel,
            recipient=recipient,
            payload={"text": "明日のご予約です"},
            purpose="reminder",
            now=NOW,
        )
        assert row_id is not None
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
    return row_id


def row(database: Database, row_id: int) -> OutboxMessage:
    with database.reader() as session:
        found = session.get(OutboxMessage, row_id)
        assert found is not None
        return found


def test_list_shows_pending_messages_in_clinic_time_with_recipients_masked(
    database: Database, app: typer.Typer
) -> None:
    add(database, Channel.LINE, LINE_USER)
    add(database, Channel.SMS, MOBILE, status=OutboxStatus.SENT)

    result = runner.invoke(app, ["outbox", "list"])

    assert result.exit_code == 0, result.output
    assert "2026-11-30 08:00" in result.output  # NOW, in Tokyo
    assert "U0123•••def" in result.output
    assert LINE_USER not in result.output
    assert "+8190" not in result.output  # the sent SMS is not pending


def test_list_failed_shows_the_reason(database: Database, app: typer.Typer) -> None:
    add(
        database,
        Channel.SMS,
        MOBILE,
        status=OutboxStatus.FAILED,
        attempts=1,
        last_error="Twilio 400 (21614): not a mobile number",
    )

    result = runner.invoke(app, ["outbox", "list", "--status", "failed"])

    assert result.exit_code == 0, result.output
    assert "+8190•••678" in result.output
    assert "Twilio 400 (21614)" in result.output


def test_list_says_when_line_is_paused(database: Database, app: typer.Typer) -> None:
    add(database, Channel.LINE, LINE_USER)
    with database.transaction() as session:
        session.scalars(select(Clinic)).one().line_paused_until = jst(2099, 1, 1)

    result = runner.invoke(app, ["outbox", "list", "--status", "all"])

    assert "LINE sending is paused for テスト整骨院" in result.output
    assert "monthly message quota" in result.output


def test_retry_puts_a_failed_message_back(database: Database, app: typer.Typer) -> None:
    row_id = add(
        database, Channel.LINE, LINE_USER, status=OutboxStatus.FAILED, attempts=8, batch_key="b"
    )

    result = runner.invoke(app, ["outbox", "retry", str(row_id)])

    assert result.exit_code == 0, result.output
    retried = row(database, row_id)
    assert (retried.status, retried.attempts, retried.batch_key) == ("pending", 0, None)


def test_retrying_an_uncertain_sms_warns_and_needs_yes(
    database: Database, app: typer.Typer
) -> None:
    row_id = add(
        database, Channel.SMS, MOBILE, status=OutboxStatus.UNCERTAIN, last_error="Twilio 503"
    )

    refused = runner.invoke(app, ["outbox", "retry", str(row_id)])

    assert refused.exit_code == 1
    assert "twice" in refused.output
    assert row(database, row_id).status == "uncertain"

    confirmed = runner.invoke(app, ["outbox", "retry", str(row_id), "--yes"])

    assert confirmed.exit_code == 0, confirmed.output
    assert row(database, row_id).status == "pending"


@pytest.mark.parametrize("status", [OutboxStatus.PENDING, OutboxStatus.SENT])
def test_only_failed_or_uncertain_messages_are_retried(
    database: Database, app: typer.Typer, status: OutboxStatus
) -> None:
    row_id = add(database, Channel.LINE, LINE_USER, status=status)

    result = runner.invoke(app, ["outbox", "retry", str(row_id)])

    assert result.exit_code == 1
    assert row(database, row_id).status == status


def test_show_tells_one_message_without_its_text(database: Database, app: typer.Typer) -> None:
    row_id = add(database, Channel.SMS, MOBILE, status=OutboxStatus.FAILED, last_error="nope")

    result = runner.invoke(app, ["outbox", "show", str(row_id)])

    assert result.exit_code == 0, result.output
    assert "failed" in result.output
    assert "last error: nope" in result.output
    assert "明日のご予約です" not in result.output
    assert runner.invoke(app, ["outbox", "show", "999"]).exit_code == 1


@pytest.mark.parametrize(("options", "started"), [([], True), (["--no-worker"], False)])
def test_serve_runs_the_worker_beside_the_server_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, options: list[str], started: bool
) -> None:
    events: list[str] = []

    @contextmanager
    def beside() -> Iterator[None]:
        events.append("start")
        yield
        events.append("stop")

    monkeypatch.setattr(cli, "ALONGSIDE", [beside])
    monkeypatch.setattr(cli.uvicorn, "run", lambda *args, **kwargs: events.append("serve"))

    result = runner.invoke(cli.app, ["serve", *options])

    assert result.exit_code == 0, result.output
    assert events == (["start", "serve", "stop"] if started else ["serve"])


def test_register_adds_the_worker_beside_the_server_once() -> None:
    for _ in range(2):
        outbox_cli.register(typer.Typer())
    assert cli.ALONGSIDE.count(outbox_cli._beside_the_server) == 1


def test_masking_keeps_enough_to_tell_messages_apart() -> None:
    assert outbox_cli.mask("hanako@example.jp") == "ha•••@example.jp"
    assert outbox_cli.mask(MOBILE) == "+8190•••678"
    assert outbox_cli.mask("short") == "sh•••"
