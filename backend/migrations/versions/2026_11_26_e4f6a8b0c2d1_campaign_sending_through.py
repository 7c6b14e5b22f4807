"""campaign sending through

Revision ID: e4f6a8b0c2d1
Revises: c0a9d1e2f3b4
Create Date: 2026-11-26 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e4f6a8b0c2d1"
down_revision: str | None = "c0a9d1e2f3b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A campaign is queued a chunk of patients per transaction; while it is, this is the
    # last patient id queued (a worker resumes after it), and NULL once it is all queued.
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sending_through", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("sending_through")
