"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.orm import Session

from backend import migrate
from backend.db import Base, make_engine
from backend.models import Channel, MessageKind, OutboxMessage, OutboxStatus


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
