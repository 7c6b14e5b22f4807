"""`uketsuke campaign …`, run in-process on a temporary SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from pypdf import PdfReader
from sqlalchemy import func, select
from typer.testing import CliRunner

from backend import migrate
from backend.db import Database
from backend.models import Campaign, CampaignStatus, OutboxMessage
from backend.settings import get_settings
from reminders import cli_campaigns
from tests.factories import make_clinic, make_patient

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", url)
    get_settings.cache_clear()
    database = Database(url)
    migrate.upgrade(database.engine)
    with database.transaction() as session:
        clinic = make_clinic(session, name="さくら整骨院")
        make_patient(session, clinic, line_user_id="U1", consent_line=True, birth_on=None)
        make_patient(
            session,
            clinic,
            name="田中 一郎",
            consent_post=True,
            postal_code="1500001",
            address="東京都渋谷区神宮前1-2-3",
        )
    yield database
    database.dispose()
    get_settings.cache_clear()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a group needs two commands to keep its name
    cli_campaigns.register(app)
    return app


def test_preview_prints_counts_and_samples(database: Database, app: typer.Typer) -> None:
    result = runner.invoke(app, ["campaign", "preview", "--template", "{patient_name}様"])
    assert result.exit_code == 0, result.output
    assert "佐藤 花子様" in result.output
    assert "│ 2 " in result.output


def test_a_bad_option_names_the_field(database: Database, app: typer.Typer) -> None:
    result = runner.invoke(app, ["campaign", "preview", "--birth-month", "13"])
    assert result.exit_code == 1
    assert "segment.birth_month" in result.output


def test_create_list_and_send_once(database: Database, app: typer.Typer) -> None:
    created = runner.invoke(
        app, ["campaign", "create", "冬", "--template", "{patient_name}様", "--channel", "line"]
    )
    assert created.exit_code == 0, created.output
    listed = runner.invoke(app, ["campaign", "list"]).output
    assert "冬" in listed
    assert "draft" in listed
    sent = runner.invoke(app, ["campaign", "send", "1", "--yes"])
    assert sent.exit_code == 0, sent.output
    assert "queued: 1" in sent.output
    again = runner.invoke(app, ["campaign", "send", "1", "--yes"])
    assert again.exit_code == 1
    with database.reader() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert session.scalars(select(Campaign)).one().status == CampaignStatus.SENT


def test_send_asks_first_without_yes(database: Database, app: typer.Typer) -> None:
    runner.invoke(app, ["campaign", "create", "冬", "--template", "{patient_name}様"])
    result = runner.invoke(app, ["campaign", "send", "1"], input="n\n")
    assert result.exit_code == 1
    with database.reader() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_scheduled_campaign_reads_a_local_time(database: Database, app: typer.Typer) -> None:
    result = runner.invoke(
        app, ["campaign", "create", "年末", "--template", "x", "--send-at", "2030-12-28T10:00"]
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["campaign", "list"]).output
    assert "2030-12-28 10:00" in listed
    assert "scheduled" in listed


def test_export_writes_csv_and_labels(database: Database, app: typer.Typer, tmp_path: Path) -> None:
    csv_file, labels = tmp_path / "dm.csv", tmp_path / "dm.pdf"
    result = runner.invoke(
        app, ["campaign", "export", "--csv", str(csv_file), "--labels", str(labels)]
    )
    assert result.exit_code == 0, result.output
    text = csv_file.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[1] == "150-0001,東京都渋谷区神宮前1-2-3,田中 一郎,様,サトウ ハナコ,2"
    assert "田中 一郎" in PdfReader(labels).pages[0].extract_text()
