"""sms opt out and call follow up

Revision ID: 47cad245e993
Revises: df2921f18830
Create Date: 2026-11-26 03:37:40.436673
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db
import backend.models.types

revision: str = "47cad245e993"
down_revision: str | None = "df2921f18830"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("followed_up_at", backend.db.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sms_opted_out", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:

    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("sms_opted_out")

    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.drop_column("followed_up_at")
