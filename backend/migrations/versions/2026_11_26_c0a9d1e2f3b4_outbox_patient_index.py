"""outbox patient index

Revision ID: c0a9d1e2f3b4
Revises: a3c5e7f90b12
Create Date: 2026-11-26 05:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c0a9d1e2f3b4"
down_revision: str | None = "a3c5e7f90b12"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # messaging.capped looks up one patient's recent marketing for every message queued;
    # without it a campaign to N patients scans the outbox N times.
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_message_patient_id_due_at", ["patient_id", "due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_patient_id_due_at")
