"""Visits (施術録 entries) with their payments, and the amendments that keep earlier text."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import Base, UTCDateTime
from backend.models.clinic import Course, Staff
from backend.models.patient import Patient
from backend.models.types import JSONType, Outcome, str_enum

# The 施術録 fields an amendment may change; the history keeps every earlier value.
RECORD_FIELDS = (
    "injury_on",
    "injury_cause",
    "injury_part",
    "symptoms",
    "treatment",
    "progress",
    "outcome",
    "completed_on",
)
PAYMENT_FIELDS = ("copay_yen", "claim_yen", "self_pay_yen", "ticket_yen")


class Visit(Base):
    """One treatment given: who, what, for how long, the 施術録 text and what was paid."""

    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="SET NULL"), unique=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    staff_minutes: Mapped[int] = mapped_column(Integer, default=0)
    machine_minutes: Mapped[int] = mapped_column(Integer, default=0)
    injury_on: Mapped[date | None] = mapped_column(Date)
    injury_cause: Mapped[str | None] = mapped_column(Text)
    injury_part: Mapped[str | None] = mapped_column(String(100))
    symptoms: Mapped[str | None] = mapped_column(Text)
    treatment: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome), default=Outcome.CONTINUING)
    completed_on: Mapped[date | None] = mapped_column(Date)
    copay_yen: Mapped[int] = mapped_column(Integer, default=0)
    claim_yen: Mapped[int] = mapped_column(Integer, default=0)
    self_pay_yen: Mapped[int] = mapped_column(Integer, default=0)
    ticket_yen: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    patient: Mapped[Patient] = relationship()
    staff: Mapped[Staff | None] = relationship()
    course: Mapped[Course | None] = relationship()
    amendments: Mapped[list[VisitAmendment]] = relationship(
        back_populates="visit", order_by="VisitAmendment.id"
    )

    __table_args__ = (
        Index("ix_visit_clinic_id_visited_at", "clinic_id", "visited_at"),
        Index("ix_visit_patient_id_visited_at", "patient_id", "visited_at"),
        CheckConstraint("staff_minutes >= 0 and machine_minutes >= 0", name="minutes"),
        CheckConstraint(
            "copay_yen >= 0 and claim_yen >= 0 and self_pay_yen >= 0 and ticket_yen >= 0",
            name="payments",
        ),
    )

    @property
    def minutes(self) -> int:
        """Total treatment length."""
        return self.staff_minutes + self.machine_minutes

    @property
    def insurance_yen(self) -> int:
        """Insurance revenue: the patient's co-pay plus the claim to the insurer."""
        return self.copay_yen + self.claim_yen

    @property
    def revenue_yen(self) -> int:
        """All revenue of the visit; a prepaid ticket counts when it is used."""
        return self.insurance_yen + self.self_pay_yen + self.ticket_yen


class VisitAmendment(Base):
    """A change to a 施術録 entry: the earlier and the new value of each field touched."""

    __tablename__ = "visit_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    visit: Mapped[Visit] = relationship(back_populates="amendments")
