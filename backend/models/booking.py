"""Bookings (予約) and the history of every status change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import Base, UTCDateTime
from backend.models.clinic import Bed, Course, Staff
from backend.models.patient import Patient
from backend.models.types import Awaiting, BookingStatus, Party, Source, str_enum

# Statuses whose time still occupies staff and a bed (a request only while its hold lasts).
OCCUPYING = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


class Booking(Base):
    """One appointment: the patient on a bed from starts_at to ends_at, with a staff member
    occupied from starts_at to staff_ends_at (hands-on time comes first)."""

    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    nominated: Mapped[bool] = mapped_column(Boolean, default=False)
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    staff_ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[Source] = mapped_column(str_enum(Source))
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus))
    awaiting: Mapped[Awaiting | None] = mapped_column(str_enum(Awaiting))
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[Party | None] = mapped_column(str_enum(Party))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    patient: Mapped[Patient] = relationship()
    course: Mapped[Course] = relationship()
    staff: Mapped[Staff | None] = relationship()
    bed: Mapped[Bed] = relationship()
    changes: Mapped[list[BookingChange]] = relationship(
        back_populates="booking", order_by="BookingChange.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_booking_clinic_id_starts_at", "clinic_id", "starts_at"),
        Index("ix_booking_staff_id_starts_at", "staff_id", "starts_at"),
        Index("ix_booking_patient_id_starts_at", "patient_id", "starts_at"),
        CheckConstraint("starts_at <= staff_ends_at and staff_ends_at <= ends_at", name="times"),
        CheckConstraint("starts_at < ends_at", name="length"),
    )


class BookingChange(Base):
    """One status change or move of a booking, with who did it and when."""

    __tablename__ = "booking_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[BookingStatus | None] = mapped_column(
        str_enum(BookingStatus, name="from_status")
    )
    to_status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus, name="to_status"))
    actor: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    booking: Mapped[Booking] = relationship(back_populates="changes")
