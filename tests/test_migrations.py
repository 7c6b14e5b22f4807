"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from backend import migrate
from backend.db import Base, make_engine
from backend.models import Channel, Clinic, MessageKind, OutboxMessage, OutboxStatus, Patient


def test_models_and_migrations_agree(session: Session) -> None:
    context = MigrationContext.configure(session.connection())
    differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_every_status_the_code_knows_fits_the_database(session: Session) -> None:
    from tests.factories import NOW, make_clinic

    clinic = make_clinic(session)
    for status in OutboxStatus:
        session.add(
            OutboxMessage(
                clinic_id=clinic.id,
                channel=Channel.LINE,
                recipient="U0",
                kind=MessageKind.TRANSACTIONAL,
                purpose="test",
                payload={},
                due_at=NOW,
                status=status,
                attempts=0,
                idempotency_key=f"test:{status.value}",
                retry_key=f"retry-{status.value}",
                created_at=NOW,
            )
        )
        session.flush()
    assert session.query(OutboxMessage).count() == len(OutboxStatus)


def test_the_migrations_go_down_and_up_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'updown.db'}")
    migrate.upgrade(engine)
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from outbox_message")).scalar() == 0
    engine.dispose()


def test_upgrading_a_database_that_holds_a_clinic_keeps_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'populated.db'}")
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    first = script.get_base()
    migrate.upgrade(engine, first)
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into clinic (name, timezone, slot_step_minutes, lead_time_minutes,"
                " horizon_days, cancel_deadline_minutes, request_hold_minutes, auto_approve,"
                " holidays_closed, schedule_token, created_at) values ('既存院', 'Asia/Tokyo',"
                " 15, 60, 60, 180, 1440, 0, 1, 'x', '2026-01-01 00:00:00')"
            )
        )
    migrate.upgrade(engine)
    with Session(engine) as session:
        clinic = session.scalars(select(Clinic)).one()
        assert clinic.name == "既存院"
        assert (clinic.quiet_start, clinic.quiet_end) == (time(21), time(9))
        assert clinic.marketing_interval_days == 7
        assert clinic.quiet_hours_transactional is False
    engine.dispose()


def test_upgrading_rewrites_patient_kana_as_full_width_katakana(tmp_path: Path) -> None:
    from tests.factories import NOW, make_clinic, make_patient

    engine = make_engine(f"sqlite:///{tmp_path / 'kana.db'}")
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    kana_revision = script.get_revision("acd78d8fb329")
    assert kana_revision is not None
    assert isinstance(kana_revision.down_revision, str)
    migrate.upgrade(engine, kana_revision.down_revision)
    typed = ["さとう はなこ", "ｽｽﾞｷ　ｲﾁﾛｳ", "　", None, "佐藤 はなこ", "ラーメン", "㌔" * 60]
    with Session(engine) as session:
        clinic = make_clinic(session, hours=False)
        ids = [make_patient(session, clinic, kana=kana).id for kana in typed]
        # More rows than one batch of the migration's.
        row = {
            "clinic_id": clinic.id,
            "name": "x",
            "kana": "ほか",
            "created_at": NOW,
            "updated_at": NOW,
        }
        session.execute(insert(Patient), [row] * 2500)
        session.commit()
    migrate.upgrade(engine)
    with Session(engine) as session:
        stored = {row.id: row.kana for row in session.execute(select(Patient.id, Patient.kana))}
    assert sum(kana == "ホカ" for kana in stored.values()) == 2500
    assert [stored[patient_id] for patient_id in ids] == [
        "サトウ ハナコ",
        "スズキ イチロウ",
        None,
        None,
        "佐藤 ハナコ",
        "ラーメン",
        "㌔" * 60,
    ]
    engine.dispose()
