"""create the ledger

Revision ID: f5c3689e5512
Revises:
Create Date: 2026-11-26 01:17:37.135949
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db
import backend.models.types
from sqlalchemy.dialects import postgresql

revision: str = "f5c3689e5512"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "clinic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("slot_step_minutes", sa.Integer(), nullable=False),
        sa.Column("lead_time_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("cancel_deadline_minutes", sa.Integer(), nullable=False),
        sa.Column("request_hold_minutes", sa.Integer(), nullable=False),
        sa.Column("auto_approve", sa.Boolean(), nullable=False),
        sa.Column("holidays_closed", sa.Boolean(), nullable=False),
        sa.Column("schedule_token", sa.String(length=32), nullable=False),
        sa.Column("line_add_url", sa.String(length=200), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cancel_deadline_minutes >= 0", name=op.f("ck_clinic_cancel_deadline")),
        sa.CheckConstraint("horizon_days between 1 and 400", name=op.f("ck_clinic_horizon")),
        sa.CheckConstraint("lead_time_minutes >= 0", name=op.f("ck_clinic_lead_time")),
        sa.CheckConstraint("request_hold_minutes > 0", name=op.f("ck_clinic_request_hold")),
        sa.CheckConstraint("slot_step_minutes between 5 and 120", name=op.f("ck_clinic_slot_step")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic")),
    )
    op.create_table(
        "bed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_bed_capacity")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_bed_clinic_id_clinic"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bed")),
    )
    with op.batch_alter_table("bed", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bed_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "closed_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_closed_day_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_day")),
        sa.UniqueConstraint(
            "clinic_id", "closed_on", name=op.f("uq_closed_day_clinic_id_closed_on")
        ),
    )
    op.create_table(
        "conversation_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_conversation_state_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_state")),
        sa.UniqueConstraint(
            "clinic_id",
            "channel",
            "subject",
            name=op.f("uq_conversation_state_clinic_id_channel_subject"),
        ),
    )
    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("staff_minutes", sa.Integer(), nullable=False),
        sa.Column("machine_minutes", sa.Integer(), nullable=False),
        sa.Column("price_yen", sa.Integer(), nullable=False),
        sa.Column("insurance_claim_yen", sa.Integer(), nullable=False),
        sa.Column(
            "payment_kind",
            sa.Enum(
                "insurance",
                "self_pay",
                name="paymentkind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("revisit_interval_days", sa.Integer(), nullable=True),
        sa.Column("for_first_visit", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "price_yen >= 0 and insurance_claim_yen >= 0", name=op.f("ck_course_price")
        ),
        sa.CheckConstraint("staff_minutes + machine_minutes > 0", name=op.f("ck_course_length")),
        sa.CheckConstraint(
            "staff_minutes >= 0 and machine_minutes >= 0", name=op.f("ck_course_minutes")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_course_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course")),
    )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "inbound_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("received_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_inbound_event_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_event")),
        sa.UniqueConstraint(
            "source", "external_id", name=op.f("uq_inbound_event_source_external_id")
        ),
    )
    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_media_clinic_id_clinic"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        sa.UniqueConstraint("clinic_id", "name", name=op.f("uq_media_clinic_id_name")),
    )
    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=False),
        sa.Column("closes_at", sa.Time(), nullable=False),
        sa.CheckConstraint("opens_at < closes_at", name=op.f("ck_opening_hours_range")),
        sa.CheckConstraint("weekday between 0 and 6", name=op.f("ck_opening_hours_weekday")),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_opening_hours_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_hours")),
    )
    with op.batch_alter_table("opening_hours", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opening_hours_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kana", sa.String(length=100), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "owner",
                "practitioner",
                "reception",
                name="staffrole",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("line_user_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_staff_clinic_id_clinic"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint(
            "clinic_id", "line_user_id", name=op.f("uq_staff_clinic_id_line_user_id")
        ),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "media_spend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("month_on", sa.Date(), nullable=False),
        sa.Column("amount_yen", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_yen >= 0", name=op.f("ck_media_spend_amount")),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_media_spend_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_media_spend_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_spend")),
        sa.UniqueConstraint("media_id", "month_on", name=op.f("uq_media_spend_media_id_month_on")),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kana", sa.String(length=100), nullable=True),
        sa.Column("name_verified", sa.Boolean(), nullable=False),
        sa.Column(
            "gender",
            sa.Enum(
                "female",
                "male",
                "other",
                "unknown",
                name="gender",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("birth_on", sa.Date(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("postal_code", sa.String(length=8), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("media_id", sa.Integer(), nullable=True),
        sa.Column("referrer", sa.String(length=100), nullable=True),
        sa.Column("referrer_patient_id", sa.Integer(), nullable=True),
        sa.Column("first_visit_on", sa.Date(), nullable=True),
        sa.Column("note_family", sa.Text(), nullable=True),
        sa.Column("note_job", sa.Text(), nullable=True),
        sa.Column("note_hobbies", sa.Text(), nullable=True),
        sa.Column("note_likes", sa.Text(), nullable=True),
        sa.Column("note_last_conversation", sa.Text(), nullable=True),
        sa.Column(
            "next_visit_likelihood",
            sa.Enum(
                "high",
                "medium",
                "low",
                "unknown",
                name="likelihood",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("consent_line", sa.Boolean(), nullable=False),
        sa.Column("consent_sms", sa.Boolean(), nullable=False),
        sa.Column("consent_email", sa.Boolean(), nullable=False),
        sa.Column("consent_post", sa.Boolean(), nullable=False),
        sa.Column("consent_updated_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("line_user_id", sa.String(length=64), nullable=True),
        sa.Column("line_reachable", sa.Boolean(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "merged_into_id is null or merged_into_id <> id",
            name=op.f("ck_patient_not_self_merged"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_patient_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name=op.f("fk_patient_media_id_media"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["patient.id"],
            name=op.f("fk_patient_merged_into_id_patient"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["referrer_patient_id"],
            ["patient.id"],
            name=op.f("fk_patient_referrer_patient_id_patient"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint(
            "clinic_id", "line_user_id", name=op.f("uq_patient_clinic_id_line_user_id")
        ),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index("ix_patient_clinic_id_kana", ["clinic_id", "kana"], unique=False)
        batch_op.create_index("ix_patient_clinic_id_phone", ["clinic_id", "phone"], unique=False)

    op.create_table(
        "staff_day_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("off_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_day_off_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_day_off")),
        sa.UniqueConstraint("staff_id", "off_on", name=op.f("uq_staff_day_off_staff_id_off_on")),
    )
    op.create_table(
        "staff_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_staff_shift_range")),
        sa.CheckConstraint("weekday between 0 and 6", name=op.f("ck_staff_shift_weekday")),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_shift_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_shift")),
    )
    with op.batch_alter_table("staff_shift", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_shift_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "read",
                "create",
                "update",
                "merge",
                "export",
                name="auditaction",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_audit_log_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_audit_log_patient_id_patient"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_patient_id_at", ["patient_id", "at"], unique=False)

    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("nominated", sa.Boolean(), nullable=False),
        sa.Column("bed_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("staff_ends_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "line",
                "phone",
                "web",
                "staff",
                "api",
                name="source",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "confirmed",
                "completed",
                "declined",
                "cancelled",
                "no_show",
                "expired",
                name="bookingstatus",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "awaiting",
            sa.Enum(
                "staff",
                "patient",
                name="awaiting",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("hold_until", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "cancelled_by",
            sa.Enum(
                "patient",
                "staff",
                "system",
                name="party",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("cancelled_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_booking_length")),
        sa.CheckConstraint(
            "starts_at <= staff_ends_at and staff_ends_at <= ends_at", name=op.f("ck_booking_times")
        ),
        sa.ForeignKeyConstraint(["bed_id"], ["bed.id"], name=op.f("fk_booking_bed_id_bed")),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_booking_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_booking_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_booking_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_booking_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index(
            "ix_booking_clinic_id_starts_at", ["clinic_id", "starts_at"], unique=False
        )
        batch_op.create_index(
            "ix_booking_patient_id_starts_at", ["patient_id", "starts_at"], unique=False
        )
        batch_op.create_index(
            "ix_booking_staff_id_starts_at", ["staff_id", "starts_at"], unique=False
        )

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "line",
                "sms",
                "email",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "transactional",
                "marketing",
                name="messagekind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(length=48), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("due_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "failed",
                "cancelled",
                name="outboxstatus",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("retry_key", sa.String(length=36), nullable=False),
        sa.Column("claimed_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_outbox_message_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_outbox_message_patient_id_patient"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_message_idempotency_key")),
        sa.UniqueConstraint("retry_key", name=op.f("uq_outbox_message_retry_key")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_message_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "patient_tag",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_patient_tag_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", "tag", name=op.f("pk_patient_tag")),
    )
    op.create_table(
        "booking_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "requested",
                "confirmed",
                "completed",
                "declined",
                "cancelled",
                "no_show",
                "expired",
                name="from_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "requested",
                "confirmed",
                "completed",
                "declined",
                "cancelled",
                "no_show",
                "expired",
                name="to_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("starts_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
            name=op.f("fk_booking_change_booking_id_booking"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_change")),
    )
    with op.batch_alter_table("booking_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_change_booking_id"), ["booking_id"], unique=False
        )

    op.create_table(
        "call_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=True),
        sa.Column("to_number", sa.String(length=32), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "in_progress",
                "request_made",
                "changed",
                "cancelled",
                "transferred",
                "callback_requested",
                "information",
                "abandoned",
                "missed",
                name="calloutcome",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("last_step", sa.String(length=64), nullable=True),
        sa.Column("twilio_status", sa.String(length=24), nullable=True),
        sa.Column("started_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
            name=op.f("fk_call_log_booking_id_booking"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_call_log_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_call_log_patient_id_patient"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_log")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_call_log_call_sid")),
    )
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_call_log_clinic_id_started_at", ["clinic_id", "started_at"], unique=False
        )

    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("visited_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("staff_minutes", sa.Integer(), nullable=False),
        sa.Column("machine_minutes", sa.Integer(), nullable=False),
        sa.Column("injury_on", sa.Date(), nullable=True),
        sa.Column("injury_cause", sa.Text(), nullable=True),
        sa.Column("injury_part", sa.String(length=100), nullable=True),
        sa.Column("symptoms", sa.Text(), nullable=True),
        sa.Column("treatment", sa.Text(), nullable=True),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "continuing",
                "cured",
                "discontinued",
                "transferred",
                name="outcome",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("copay_yen", sa.Integer(), nullable=False),
        sa.Column("claim_yen", sa.Integer(), nullable=False),
        sa.Column("self_pay_yen", sa.Integer(), nullable=False),
        sa.Column("ticket_yen", sa.Integer(), nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "copay_yen >= 0 and claim_yen >= 0 and self_pay_yen >= 0 and ticket_yen >= 0",
            name=op.f("ck_visit_payments"),
        ),
        sa.CheckConstraint(
            "staff_minutes >= 0 and machine_minutes >= 0", name=op.f("ck_visit_minutes")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
            name=op.f("fk_visit_booking_id_booking"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_visit_clinic_id_clinic"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_visit_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_visit_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_visit_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_visit_booking_id")),
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_visit_clinic_id_visited_at", ["clinic_id", "visited_at"], unique=False
        )
        batch_op.create_index(
            "ix_visit_patient_id_visited_at", ["patient_id", "visited_at"], unique=False
        )

    op.create_table(
        "visit_amendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit.id"],
            name=op.f("fk_visit_amendment_visit_id_visit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_amendment")),
    )
    with op.batch_alter_table("visit_amendment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_amendment_visit_id"), ["visit_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("visit_amendment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_amendment_visit_id"))

    op.drop_table("visit_amendment")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_patient_id_visited_at")
        batch_op.drop_index("ix_visit_clinic_id_visited_at")

    op.drop_table("visit")
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.drop_index("ix_call_log_clinic_id_started_at")

    op.drop_table("call_log")
    with op.batch_alter_table("booking_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_change_booking_id"))

    op.drop_table("booking_change")
    op.drop_table("patient_tag")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_status_due_at")

    op.drop_table("outbox_message")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_staff_id_starts_at")
        batch_op.drop_index("ix_booking_patient_id_starts_at")
        batch_op.drop_index("ix_booking_clinic_id_starts_at")

    op.drop_table("booking")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_patient_id_at")

    op.drop_table("audit_log")
    with op.batch_alter_table("staff_shift", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_shift_staff_id"))

    op.drop_table("staff_shift")
    op.drop_table("staff_day_off")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_clinic_id_phone")
        batch_op.drop_index("ix_patient_clinic_id_kana")

    op.drop_table("patient")
    op.drop_table("media_spend")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_clinic_id"))

    op.drop_table("staff")
    with op.batch_alter_table("opening_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opening_hours_clinic_id"))

    op.drop_table("opening_hours")
    op.drop_table("media")
    op.drop_table("inbound_event")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_clinic_id"))

    op.drop_table("course")
    op.drop_table("conversation_state")
    op.drop_table("closed_day")
    with op.batch_alter_table("bed", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bed_clinic_id"))

    op.drop_table("bed")
    op.drop_table("clinic")
