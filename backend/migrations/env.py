"""Alembic environment: runs migrations on the connection or URL handed over by backend.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import backend.models  # noqa: F401 - registers every table on the metadata
from backend.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run_on(connection)
    engine.dispose()


def _run_on(connection: Connection) -> None:
    # Batch mode lets later migrations alter tables on SQLite (copy-and-move).
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
