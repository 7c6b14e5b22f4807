"""Reminder rules, the waitlist and campaigns: what brings patients back (seeds 000–004)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, UTCDateTime
from backend.models.types import JSONType, str_enum


class RuleKind(StrEnum):
    """The clinic's message rules; each can be switched off and its template edited."""

    CONFIRMATION = "confirmation"  # booking confirmed, moved or cancelled
    DAY_BEFORE = "day_before"  # 前日リマインド
    SAME_DAY = "same_day"  # 当日リマインド, N hours before
    THANK_YOU = "thank_you"  # after a first visit
    SECOND_VISIT = "second_visit"  # 2回目のご案内: no next booking N days after the first visit
    NEXT_VISIT = "next_visit"  # revisit interval passed, nothing booked
    LAPSED = "lapsed"  # no visit for 30 / 60 / 90 days
    BIRTHDAY = "birthday"
    SEASONAL = "seasonal"  # 暑中見舞い, 年末年始の診療案内
    NO_SHOW = "no_show"  # gentle invitation to rebook
    WAITLIST = "waitlist"  # a freed slot offered to the waitlist
    STAFF_DIGEST = "staff_digest"  # evening summary in the staff group


class MessageRule(Base):
    """One rule of one clinic: on/off, its Japanese template and its parameters."""

    __tablename__ = "message_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    kind: Mapped[RuleKind] = mapped_column(str_enum(RuleKind))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    template: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("clinic_id", "kind"),)


class WaitStatus(StrEnum):
    WAITING = "waiting"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class WaitlistEntry(Base):
    """A patient who asked to be told when a full day gets an opening."""

    __tablename__ = "waitlist_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    wanted_on: Mapped[date] = mapped_column(Date)
    status: Mapped[WaitStatus] = mapped_column(str_enum(WaitStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_waitlist_entry_clinic_id_wanted_on", "clinic_id", "wanted_on"),)


class WaitlistOffer(Base):
    """A freed slot offered to everyone waiting for its day: the first to accept gets it."""

    __tablename__ = "waitlist_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    freed_by_booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="SET NULL")
    )
    taken_by_booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENT = "sent"
    CANCELLED = "cancelled"


class Campaign(Base):
    """A message to a segment of patients, sent now or at a set time."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    segment: Mapped[dict[str, Any]] = mapped_column(JSONType)
    template: Mapped[str] = mapped_column(Text)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # While a sent campaign is still being queued, a chunk at a time: the last patient id
    # queued (0 before the first chunk); None once every patient is (or was never sent).
    sending_through: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def sending(self) -> bool:
        """Sent, with patients still to be queued."""
        return self.sending_through is not None
