"""message rules waitlist campaigns quiet hours

Revision ID: fbe12decb7e4
Revises: d77c03309e11
Create Date: 2026-11-26 02:30:05.926574
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db
import backend.models.types
from sqlalchemy.dialects import postgresql

revision: str = "fbe12decb7e4"
down_revision: str | None = "d77c03309e11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_OUTBOX_STATUSES = "'pending', 'sending', 'sent', 'failed', 'cancelled'"
OUTBOX_STATUSES = OLD_OUTBOX_STATUSES + ", 'uncertain'"


def upgrade() -> None:

    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "segment",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("send_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "scheduled",
                "sent",
                "cancelled",
                name="campaignstatus",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_campaign_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    op.create_table(
        "message_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "confirmation",
                "day_before",
                "same_day",
                "thank_you",
                "second_visit",
                "next_visit",
                "lapsed",
                "birthday",
                "seasonal",
                "no_show",
                "waitlist",
                "staff_digest",
                name="rulekind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_message_rule_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_rule")),
        sa.UniqueConstraint("clinic_id", "kind", name=op.f("uq_message_rule_clinic_id_kind")),
    )
    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("wanted_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "booked",
                "cancelled",
                "expired",
                name="waitstatus",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_waitlist_entry_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_waitlist_entry_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_waitlist_entry_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_waitlist_entry_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
    )
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_waitlist_entry_clinic_id_wanted_on", ["clinic_id", "wanted_on"], unique=False
        )

    op.create_table(
        "waitlist_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("freed_by_booking_id", sa.Integer(), nullable=True),
        sa.Column("taken_by_booking_id", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_waitlist_offer_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_waitlist_offer_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["freed_by_booking_id"],
            ["booking.id"],
            name=op.f("fk_waitlist_offer_freed_by_booking_id_booking"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_waitlist_offer_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["taken_by_booking_id"],
            ["booking.id"],
            name=op.f("fk_waitlist_offer_taken_by_booking_id_booking"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_offer")),
    )
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        # Existing clinics get the defaults the model gives new ones.
        batch_op.add_column(
            sa.Column("quiet_start", sa.Time(), nullable=False, server_default="21:00:00")
        )
        batch_op.add_column(
            sa.Column("quiet_end", sa.Time(), nullable=False, server_default="09:00:00")
        )
        batch_op.add_column(
            sa.Column(
                "quiet_hours_transactional",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch_op.add_column(
            sa.Column("marketing_interval_days", sa.Integer(), nullable=False, server_default="7")
        )
        batch_op.add_column(
            sa.Column("line_paused_until", backend.db.UTCDateTime(timezone=True), nullable=True)
        )

    # The outbox learns the "uncertain" status (an interrupted SMS is never resent blindly).
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_outboxstatus"), type_="check")
        batch_op.create_check_constraint("outboxstatus", sa.text(f"status IN ({OUTBOX_STATUSES})"))


def downgrade() -> None:

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_outboxstatus"), type_="check")
        batch_op.create_check_constraint(
            "outboxstatus", sa.text(f"status IN ({OLD_OUTBOX_STATUSES})")
        )

    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.drop_column("line_paused_until")
        batch_op.drop_column("marketing_interval_days")
        batch_op.drop_column("quiet_hours_transactional")
        batch_op.drop_column("quiet_end")
        batch_op.drop_column("quiet_start")

    op.drop_table("waitlist_offer")
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_waitlist_entry_clinic_id_wanted_on")

    op.drop_table("waitlist_entry")
    op.drop_table("message_rule")
    op.drop_table("campaign")
