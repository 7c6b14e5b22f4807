"""outbox batch key

Revision ID: a3c5e7f90b12
Revises: 47cad245e993
Create Date: 2026-11-26 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3c5e7f90b12"
down_revision: str | None = "47cad245e993"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_key", sa.String(length=36), nullable=True))
        batch_op.create_index("ix_outbox_message_batch_key", ["batch_key"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_batch_key")
        batch_op.drop_column("batch_key")
