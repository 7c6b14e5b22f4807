"""The カルテ (patient record), acquisition media with ad spend, and the audit log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import Base, UTCDateTime
from backend.models.types import AuditAction, Gender, Likelihood, str_enum


class Media(Base):
    """An acquisition source (来院経路・媒体): an ad, a portal, a referral, a signboard."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("clinic_id", "name"),)


class MediaSpend(Base):
    """What one media cost in one month (month_on is the first day of the month)."""

    __tablename__ = "media_spend"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))
    month_on: Mapped[date] = mapped_column(Date)
    amount_yen: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("media_id", "month_on"),
        CheckConstraint("amount_yen >= 0", name="amount"),
    )


class Patient(Base):
    """The カルテ: who the patient is and how to reach them. Health data lives in visits."""

    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    kana: Mapped[str | None] = mapped_column(String(100))
    # A name heard on the phone is kept as heard until staff confirm it.
    name_verified: Mapped[bool] = mapped_column(Boolean, default=True)
    gender: Mapped[Gender] = mapped_column(str_enum(Gender), default=Gender.UNKNOWN)
    birth_on: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    postal_code: Mapped[str | None] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(200))
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    referrer: Mapped[str | None] = mapped_column(String(100))
    referrer_patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patient.id", ondelete="SET NULL")
    )
    first_visit_on: Mapped[date | None] = mapped_column(Date)
    note_family: Mapped[str | None] = mapped_column(Text)
    note_job: Mapped[str | None] = mapped_column(Text)
    note_hobbies: Mapped[str | None] = mapped_column(Text)
    note_likes: Mapped[str | None] = mapped_column(Text)
    note_last_conversation: Mapped[str | None] = mapped_column(Text)
    next_visit_likelihood: Mapped[Likelihood] = mapped_column(
        str_enum(Likelihood), default=Likelihood.UNKNOWN
    )
    consent_line: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_post: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Sent the SMS opt-out line (or asked staff): no SMS of any kind any more.
    sms_opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    line_user_id: Mapped[str | None] = mapped_column(String(64))
    # False once the patient blocks the account (unfollow); a re-follow restores it.
    line_reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("patient.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    tags: Mapped[list[PatientTag]] = relationship(
        cascade="all, delete-orphan", order_by="PatientTag.tag"
    )
    media: Mapped[Media | None] = relationship(foreign_keys=[media_id])

    __table_args__ = (
        UniqueConstraint("clinic_id", "line_user_id"),
        Index("ix_patient_clinic_id_phone", "clinic_id", "phone"),
        Index("ix_patient_clinic_id_kana", "clinic_id", "kana"),
        CheckConstraint("merged_into_id is null or merged_into_id <> id", name="not_self_merged"),
    )

    @property
    def is_merged(self) -> bool:
        """A merged duplicate points at the record that absorbed it."""
        return self.merged_into_id is not None


class PatientTag(Base):
    """A free label on a カルテ, used for segments."""

    __tablename__ = "patient_tag"

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True)


class AuditLog(Base):
    """Who read or changed which カルテ, when. Details name fields, never their values."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[AuditAction] = mapped_column(str_enum(AuditAction))
    detail: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_audit_log_patient_id_at", "patient_id", "at"),)
