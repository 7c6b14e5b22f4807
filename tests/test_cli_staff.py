"""`uketsuke staff …`, run in-process on a temporary SQLite database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from backend import cli, migrate, staff_links
from backend.db import Database
from backend.models import Clinic, LinkCode, Staff, StaffRole
from backend.settings import get_settings
from tests.factories import make_clinic, make_staff

runner = CliRunner()
CODE = re.compile(r"UK-[A-Z0-9]{6}")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", url)
    get_settings.cache_clear()
    database = Database(url)
    migrate.upgrade(database.engine)
    yield database
    database.dispose()
    get_settings.cache_clear()


@pytest.fixture
def clinic_id(database: Database) -> int:
    with database.transaction() as session:
        return make_clinic(session, hours=False).id


def staff_named(database: Database, name: str) -> Staff:
    with database.reader() as session:
        member = session.scalar(select(Staff).where(Staff.name == name))
        assert member is not None
        return member


def test_add_creates_the_staff_member_and_prints_a_code(database, clinic_id):
    result = runner.invoke(
        cli.app, ["staff", "add", "--name", "鈴木 一郎", "--kana", "スズキ イチロウ"]
    )
    assert result.exit_code == 0, result.output
    member = staff_named(database, "鈴木 一郎")
    assert (member.kana, member.role, member.clinic_id) == (
        "スズキ イチロウ",
        StaffRole.PRACTITIONER,
        clinic_id,
    )
    code = CODE.search(result.output)
    assert code is not None
    assert "このコードを公式LINEに1対1で送ってください" in result.output
    assert "1:1 chat" in result.output
    with database.reader() as session:
        link = session.scalar(select(LinkCode).where(LinkCode.code == code.group()))
        assert link is not None
        assert (link.staff_id, link.purpose) == (member.id, "staff_user")


def test_the_printed_code_links_the_account(database, clinic_id):
    result = runner.invoke(cli.app, ["staff", "add", "--name", "受付 花子", "--role", "reception"])
    assert result.exit_code == 0, result.output
    code = CODE.search(result.output)
    assert code is not None
    with database.transaction() as session:
        staff_links.redeem(
            session,
            code=code.group(),
            line_user_id="U123",
            clinic_id=clinic_id,
            now=datetime.now(UTC),  # the CLI issued it at the real now
        )
    member = staff_named(database, "受付 花子")
    assert (member.role, member.line_user_id) == (StaffRole.RECEPTION, "U123")


def test_link_prints_a_new_code_for_an_existing_member(database, clinic_id):
    with database.transaction() as session:
        member_id = make_staff(session, session.get(Clinic, clinic_id), shifts=False).id
    result = runner.invoke(cli.app, ["staff", "link", "--id", str(member_id)])
    assert result.exit_code == 0, result.output
    assert CODE.search(result.output)
    assert "公式LINEに1対1" in result.output


def test_link_refuses_an_unknown_staff_member(database, clinic_id):
    result = runner.invoke(cli.app, ["staff", "link", "--id", "999"])
    assert result.exit_code == 1
    assert "not found" in result.output


def test_link_group_prints_a_group_code(database, clinic_id):
    result = runner.invoke(cli.app, ["staff", "link-group"])
    assert result.exit_code == 0, result.output
    code = CODE.search(result.output)
    assert code is not None
    assert "スタッフグループにボットを招待し、このコードを投稿してください" in result.output
    with database.reader() as session:
        link = session.scalar(select(LinkCode).where(LinkCode.code == code.group()))
        assert link is not None
        assert (link.purpose, link.staff_id) == ("staff_group", None)


def test_list_shows_who_is_linked(database, clinic_id):
    with database.transaction() as session:
        clinic = session.get(Clinic, clinic_id)
        make_staff(session, clinic, shifts=False, name="山田 太郎", line_user_id="U1")
        make_staff(session, clinic, shifts=False, name="鈴木 一郎")
    result = runner.invoke(cli.app, ["staff", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "連携済み" in next(line for line in lines if "山田 太郎" in line)
    assert "未連携" in next(line for line in lines if "鈴木 一郎" in line)
    assert "未連携" in next(line for line in lines if "staff group" in line)


def test_several_clinics_need_clinic(database, clinic_id):
    with database.transaction() as session:
        other = make_clinic(session, hours=False, name="別の院").id
    result = runner.invoke(cli.app, ["staff", "link-group"])
    assert result.exit_code == 1
    assert "--clinic" in result.output
    result = runner.invoke(cli.app, ["staff", "add", "--name", "鈴木", "--clinic", str(other)])
    assert result.exit_code == 0, result.output
    assert staff_named(database, "鈴木").clinic_id == other


def test_no_clinic_says_what_to_do(database):
    result = runner.invoke(cli.app, ["staff", "list"])
    assert result.exit_code == 1
    assert "no clinic" in result.output


def test_an_unknown_role_is_refused(database, clinic_id):
    result = runner.invoke(cli.app, ["staff", "add", "--name", "X", "--role", "doctor"])
    assert result.exit_code == 2
