"""The `uketsuke` command, run in-process on a temporary SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from backend import cli
from backend.models import Booking, Clinic, Patient
from backend.settings import get_settings

runner = CliRunner()


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_db_upgrade_creates_the_schema(database_url: str) -> None:
    result = runner.invoke(cli.app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Clinic)) == 0
    engine.dispose()


def test_seed_builds_a_clinic_with_a_progress_bar(database_url: str) -> None:
    result = runner.invoke(cli.app, ["seed", "--patients", "40", "--years", "1"])
    assert result.exit_code == 0, result.output
    assert "seeded clinic" in result.output
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Patient)) >= 40
        assert connection.scalar(select(func.count()).select_from(Booking)) > 0
    engine.dispose()


def test_seed_refuses_nonsense_sizes(database_url: str) -> None:
    result = runner.invoke(cli.app, ["seed", "--patients", "0"])
    assert result.exit_code == 2
    assert "patients" in result.output


def test_when_prints_what_a_phrase_means() -> None:
    result = runner.invoke(
        cli.app, ["when", "来週火曜の15時半", "--now", "2026-11-26T10:00:00+09:00"]
    )
    assert result.exit_code == 0, result.output
    understood = json.loads(result.output)["when"]
    assert understood == {
        "date_from": "2026-12-01",
        "date_to": "2026-12-01",
        "time_from": "15:30",
        "time_to": None,
        "kind": "exact",
    }


def test_when_exits_1_for_something_that_is_not_a_time() -> None:
    result = runner.invoke(cli.app, ["when", "ありがとうございます", "--now", "2026-11-26T10:00"])
    assert result.exit_code == 1
    assert json.loads(result.output)["when"] is None


def test_when_refuses_a_bad_now() -> None:
    result = runner.invoke(cli.app, ["when", "明日", "--now", "yesterday"])
    assert result.exit_code == 2
