"""line staff group and link codes

Revision ID: d77c03309e11
Revises: f5c3689e5512
Create Date: 2026-11-26 02:16:38.023924
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db
import backend.models.types

revision: str = "d77c03309e11"
down_revision: str | None = "f5c3689e5512"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "link_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_link_code_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_link_code_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_code")),
        sa.UniqueConstraint("code", name=op.f("uq_link_code_code")),
    )
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_staff_group_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_clinic_line_staff_group_id"), ["line_staff_group_id"]
        )


def downgrade() -> None:

    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_clinic_line_staff_group_id"), type_="unique")
        batch_op.drop_column("line_staff_group_id")

    op.drop_table("link_code")
