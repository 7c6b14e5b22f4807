"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session

from backend.db import Base


def test_models_and_migrations_agree(session: Session) -> None:
    context = MigrationContext.configure(session.connection())
    differences = compare_metadata(context, Base.metadata)
    assert differences == []
