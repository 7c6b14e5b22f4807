"""a call's conversation kept on its call_log row

A phone call's conversation state (its step is `last_step`; what the step remembers is
the new `state_data`) moves from conversation_state to the call's own row, which every
turn reads and writes anyway. Rows of calls still in conversation_state are left for the
daily forgetting job; a call in progress during the upgrade starts its menu over.

Revision ID: b7e2c4d6f8a1
Revises: acd78d8fb329
Create Date: 2026-11-26 21:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b7e2c4d6f8a1"
down_revision: str | None = "acd78d8fb329"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    with op.batch_alter_table("call_log") as table:
        table.add_column(sa.Column("state_data", json, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_log") as table:
        table.drop_column("state_data")
