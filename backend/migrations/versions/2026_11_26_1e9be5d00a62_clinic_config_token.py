"""clinic config token

Revision ID: 1e9be5d00a62
Revises: fbe12decb7e4
Create Date: 2026-11-26 03:09:33.566451
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db
import backend.models.types

revision: str = "1e9be5d00a62"
down_revision: str | None = "fbe12decb7e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("clinic", schema=None) as batch_op:
        # Existing clinics start from an empty token; their first change replaces it.
        batch_op.add_column(
            sa.Column("config_token", sa.String(length=32), nullable=False, server_default="")
        )


def downgrade() -> None:

    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.drop_column("config_token")
