"""`uketsuke rules …`, run in-process on a temporary SQLite database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from backend import migrate
from backend.db import Database
from backend.models import MessageRule, OutboxMessage, RuleKind
from backend.settings import get_settings
from reminders import cli_rules
from tests.factories import jst
from tests.reminders.rules_calendar import open_world

runner = CliRunner()
app = typer.Typer()
cli_rules.register(app)


@app.callback()
def _root() -> None:
    """Keeps `rules` a sub-command, as under `uketsuke`."""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'rules.db'}"
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    database = Database(url)
    migrate.upgrade(database.engine)
    with database.transaction() as session:
        world = open_world(session)
        world.confirmed(world.patient("line"), jst(2026, 12, 1, 10))
    yield database
    database.dispose()
    get_settings.cache_clear()


def _rule(database: Database, kind: RuleKind) -> MessageRule:
    with database.reader() as session:
        found = session.scalar(select(MessageRule).where(MessageRule.kind == kind))
        assert found is not None
        return found


def _outbox(database: Database) -> int:
    with database.reader() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_list_shows_every_rule_with_its_switch_and_parameters(database: Database) -> None:
    result = runner.invoke(app, ["rules", "list"])

    assert result.exit_code == 0, result.output
    assert "day_before" in result.output
    assert '{"send_at": "18:00"}' in result.output
    assert "staff_digest" in result.output
    assert "waitlist" not in result.output


def test_disable_enable_and_set(database: Database) -> None:
    assert runner.invoke(app, ["rules", "disable", "lapsed"]).exit_code == 0
    assert _rule(database, RuleKind.LAPSED).enabled is False
    assert runner.invoke(app, ["rules", "enable", "lapsed"]).exit_code == 0
    assert _rule(database, RuleKind.LAPSED).enabled is True

    result = runner.invoke(
        app,
        ["rules", "set", "lapsed", "--param", "thresholds=[45, 90]", "--param", "send_at=11:00"],
    )
    assert result.exit_code == 0, result.output
    assert _rule(database, RuleKind.LAPSED).params["thresholds"] == [45, 90]
    assert _rule(database, RuleKind.LAPSED).params["send_at"] == "11:00"

    result = runner.invoke(
        app, ["rules", "set", "birthday", "--template", "{patient_name}様 {date}"]
    )
    assert result.exit_code == 1
    assert "不明な差し込み項目 {date}" in result.output


def test_preview_shows_who_would_get_what_and_queues_nothing(database: Database) -> None:
    result = runner.invoke(
        app, ["rules", "preview", "day_before", "--now", "2026-11-30T18:00+09:00"]
    )

    assert result.exit_code == 0, result.output
    assert "day_before: 1 message(s) would be queued" in result.output
    assert "明日 12月1日(火) 10:00〜 骨盤矯正" in result.output
    assert _outbox(database) == 0


def test_run_queues_what_is_due_and_reports_it(database: Database) -> None:
    result = runner.invoke(app, ["rules", "run", "--now", "2026-11-30T18:00+09:00"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["day_before"] == 1
    assert _outbox(database) == 1
    assert runner.invoke(app, ["rules", "run", "--now", "2026-11-30T18:00"]).exit_code == 1
