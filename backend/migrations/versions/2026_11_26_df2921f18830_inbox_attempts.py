"""inbox attempts

Revision ID: df2921f18830
Revises: 1e9be5d00a62
Create Date: 2026-11-26 03:16:20.795187
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db
import backend.models.types

revision: str = "df2921f18830"
down_revision: str | None = "1e9be5d00a62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("inbound_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_error", sa.String(length=200), nullable=True))
        batch_op.create_index(
            "ix_inbound_event_source_processed_at", ["source", "processed_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("inbound_event", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_event_source_processed_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
