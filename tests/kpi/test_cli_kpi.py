"""`uketsuke kpi`, run in-process on a temporary SQLite database holding the hand-built clinic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend import cli, migrate
from backend.db import Database
from backend.settings import get_settings
from tests.factories import make_clinic
from tests.kpi import ledger

runner = CliRunner()
AT = "2026-11-30T08:00:00+09:00"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'kpi.db'}"
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "160")
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


def test_json_for_a_trend(built):
    result = runner.invoke(
        cli.app, ["kpi", "--month", "2026-10", "--months", "2", "--json", "--now", AT]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert (printed["clinic_id"], printed["clinic"]) == (built.clinic_id, "テスト整骨院")
    september, october = printed["months"]
    assert (september["month"], october["month"]) == ("2026-09-01", "2026-10-01")
    assert september["visits"] == 1
    assert (october["visits"], october["patients"], october["new_patients"]) == (9, 6, 4)
    assert (october["revenue_yen"], october["yen_per_10_minutes"]) == (22_300, 1_845)
    assert october["second_visit_rate"] == 0.5
    assert october["second_visit_final"] is True


def test_the_default_month_is_the_month_of_now(built):
    result = runner.invoke(cli.app, ["kpi", "--json", "--now", "2026-10-31T23:59:00+09:00"])
    assert result.exit_code == 0, result.output
    (october,) = json.loads(result.output)["months"]
    # Read a minute before November: P4's visit at 23:30 is in, the month not yet over,
    # and P3, P4, P5, P6 still have days left to come back.
    assert (october["month"], october["visits"], october["complete"]) == ("2026-10-01", 9, False)
    assert october["second_visit_final"] is False


def test_table_in_japanese(built):
    result = runner.invoke(cli.app, ["kpi", "--month", "2026-10", "--now", AT])
    assert result.exit_code == 0, result.output
    assert "テスト整骨院 経営指標" in result.output
    assert "2026年10月" in result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "¥22,300" in lines["売上"]
    assert "50.0%" in lines["2回目リピート率"]
    assert "4.0回以上" in lines["来院頻度（回/人）"]


def test_a_wrong_month_is_refused(built):
    result = runner.invoke(cli.app, ["kpi", "--month", "2026/10", "--now", AT])
    assert result.exit_code == 2
    assert "2026-11" in result.output


def test_several_clinics_need_one_chosen(database, built):
    with database.transaction() as session:
        other = make_clinic(session, hours=False, name="別院").id
    result = runner.invoke(cli.app, ["kpi", "--now", AT])
    assert result.exit_code == 1
    assert "--clinic" in result.output
    chosen = runner.invoke(cli.app, ["kpi", "--clinic", str(other), "--json", "--now", AT])
    assert json.loads(chosen.output)["months"][0]["visits"] == 0
