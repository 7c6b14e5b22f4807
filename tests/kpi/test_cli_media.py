"""`uketsuke media list` and `uketsuke media spend`, run in-process on a temporary SQLite
database holding the hand-built clinic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from backend import cli, migrate
from backend.db import Database
from backend.models import MediaSpend
from backend.settings import get_settings
from tests.kpi import ledger

runner = CliRunner()
AT = "2026-10-31T23:59:00+09:00"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'media.db'}"
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    database = Database(url)
    migrate.upgrade(database.engine)
    yield database
    database.dispose()
    get_settings.cache_clear()


@pytest.fixture
def built(database: Database) -> ledger.Ledger:
    with database.transaction() as session:
        return ledger.build(session)


def spends(database: Database, media_id: int) -> dict[date, int]:
    with database.reader() as session:
        rows = session.execute(
            select(MediaSpend.month_on, MediaSpend.amount_yen).where(
                MediaSpend.media_id == media_id
            )
        )
        return dict(rows.all())


def test_spend_sets_and_then_replaces_a_months_spend(database, built):
    args = ["media", "spend", "--media", "紹介", "--month", "2026-10", "--now", AT]
    result = runner.invoke(cli.app, [*args, "--yen", "12000"])
    assert result.exit_code == 0, result.output
    assert "広告費を保存しました: 紹介 2026年10月 12,000円" in result.output
    assert runner.invoke(cli.app, [*args, "--yen", "9000"]).exit_code == 0
    assert spends(database, built.referral) == {date(2026, 10, 1): 9_000}


def test_list_shows_spend_new_patients_and_cost(database, built):
    result = runner.invoke(cli.app, ["media", "list", "--months", "2", "--now", AT])
    assert result.exit_code == 0, result.output
    assert "2026年9月" in result.output
    assert "2026年10月" in result.output
    homepage = next(line for line in result.output.splitlines() if "ホームページ" in line)
    assert "¥20,000 / 新患1 / 単価¥20,000" in homepage
    assert "¥30,000 / 新患2 / 単価¥15,000" in homepage


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--media", "看板", "--month", "2026-10", "--yen", "1"],
            "媒体「看板」は登録されていません",
        ),
        (["--media", "紹介", "--month", "2026-12", "--yen", "1"], "来月分まで"),
        (["--media", "紹介", "--month", "2026-10", "--yen", "-1"], "0円から"),
    ],
)
def test_a_refused_spend_says_why_and_changes_nothing(database, built, args, message):
    result = runner.invoke(cli.app, ["media", "spend", *args, "--now", AT])
    assert result.exit_code == 1
    assert message in result.output
    assert spends(database, built.referral) == {}


def test_a_month_that_is_no_month_is_a_usage_error(database, built):
    result = runner.invoke(
        cli.app, ["media", "spend", "--media", "紹介", "--month", "10月", "--yen", "1"]
    )
    assert result.exit_code == 2
    assert spends(database, built.referral) == {}
