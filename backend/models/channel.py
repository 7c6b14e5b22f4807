"""Tables the channels share: the inbox, the outbox, conversation state and the call log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, UTCDateTime
from backend.models.types import (
    CallOutcome,
    Channel,
    JSONType,
    MessageKind,
    NullableJSON,
    OutboxStatus,
    str_enum,
)


class InboundEvent(Base):
    """A webhook event recorded before it is acted on; (source, external_id) is unique, so a
    redelivery is recognised and ignored. The webhook only records it; it is handled right
    after the answer (LINE recommends asynchronous handling), and `processed_at` tells it
    was. An event whose handling keeps failing is given up after a few attempts."""

    __tablename__ = "inbound_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_inbound_event_source_processed_at", "source", "processed_at"),
    )


class OutboxMessage(Base):
    """A message to send, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    recipient: Mapped[str] = mapped_column(String(254))
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind))
    purpose: Mapped[str] = mapped_column(String(48))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Unique per business fact (e.g. "reminder:booking:42"): a rule firing twice adds nothing.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Sent as LINE's X-Line-Retry-Key so a retry after a crash is never a second message.
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)
    # Rows sent together in one LINE multicast share this key, which is that request's
    # X-Line-Retry-Key: a batch is claimed, retried and settled whole (reminders/multicast.py).
    batch_key: Mapped[str | None] = mapped_column(String(36), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_outbox_message_status_due_at", "status", "due_at"),
        # The marketing cap looks up one patient's recent messages for every message sent.
        Index("ix_outbox_message_patient_id_due_at", "patient_id", "due_at"),
    )


class ConversationState(Base):
    """Where one LINE user or one call is in a conversation; locked while an event is handled."""

    __tablename__ = "conversation_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("clinic_id", "channel", "subject"),)


class CallLog(Base):
    """One phone call with how far it got and how it ended: the input of the phone KPIs."""

    __tablename__ = "call_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"))
    outcome: Mapped[CallOutcome] = mapped_column(str_enum(CallOutcome))
    # The conversation's step after the last turn (how far the caller got), and what the
    # step remembers (cleared when the call ends).
    last_step: Mapped[str | None] = mapped_column(String(64))
    state_data: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    twilio_status: Mapped[str | None] = mapped_column(String(24))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # Set when staff have called back a missed, abandoned or callback-requested call.
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_call_log_clinic_id_started_at", "clinic_id", "started_at"),)


class LinkCode(Base):
    """A one-time code that links a staff member's LINE account, or the staff group."""

    __tablename__ = "link_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "staff_user" or "staff_group"
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by: Mapped[str | None] = mapped_column(String(64))
