"""Response bodies, rendered from ledger rows with every moment in the clinic's zone."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy.orm import Session

from backend.models import (
    Awaiting,
    BookingStatus,
    Clinic,
    Gender,
    Likelihood,
    Outcome,
    Party,
    PaymentKind,
    Source,
    StaffRole,
)


class ErrorOut(BaseModel):
    """A refusal by the domain: a message, a stable code, and the field when one is at fault."""

    detail: str
    code: str
    field: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong bearer token"},
    404: {"model": ErrorOut, "description": "Not found (or belongs to another clinic)"},
    409: {"model": ErrorOut, "description": "Refused in the current state"},
}


class Output(BaseModel):
    """A response body read from ledger rows; moments are shown in the zone in the context."""

    model_config = ConfigDict(from_attributes=True)

    @field_validator("*", mode="after")
    @classmethod
    def _in_clinic_zone(cls, value: Any, info: ValidationInfo) -> Any:
        zone = (info.context or {}).get("zone")
        return _localize(value, zone) if zone else value


def _localize(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, list):
        return [_localize(item, zone) for item in value]
    return value


OutputT = TypeVar("OutputT", bound=Output)


def render(model: type[OutputT], source: Any, zone: ZoneInfo | None = None) -> OutputT:
    """Build a response from a row (or dict), every moment in `zone`."""
    return model.model_validate(source, from_attributes=True, context={"zone": zone})


def render_local(model: type[OutputT], session: Session, row: Any) -> OutputT:
    """Build a response from a row of one clinic, every moment in that clinic's zone."""
    return render(model, row, clinic_zone(session, row.clinic_id))


def clinic_zone(session: Session, clinic_id: int) -> ZoneInfo:
    """The zone a clinic shows its times in."""
    clinic = session.get(Clinic, clinic_id)
    return ZoneInfo(clinic.timezone if clinic else "Asia/Tokyo")


class ClinicOut(Output):
    id: int
    name: str
    timezone: str
    phone: str | None
    address: str | None


class OpeningHoursOut(Output):
    weekday: int = Field(description="0 = Monday")
    opens_at: time
    closes_at: time


class ClinicDetailOut(ClinicOut):
    slot_step_minutes: int
    lead_time_minutes: int
    horizon_days: int
    cancel_deadline_minutes: int
    request_hold_minutes: int
    auto_approve: bool
    holidays_closed: bool
    opening_hours: list[OpeningHoursOut]


class CourseOut(Output):
    id: int
    name: str
    staff_minutes: int
    machine_minutes: int
    minutes: int
    price_yen: int
    insurance_claim_yen: int
    payment_kind: PaymentKind
    revisit_interval_days: int | None
    for_first_visit: bool


class StaffOut(Output):
    id: int
    name: str
    kana: str | None
    role: StaffRole


class MediaOut(Output):
    id: int
    name: str


class PatientSummaryOut(Output):
    """A search hit: enough to tell patients apart, without the カルテ's notes."""

    id: int
    clinic_id: int
    name: str
    kana: str | None
    phone: str | None
    birth_on: date | None
    merged_into_id: int | None


class PatientOut(PatientSummaryOut):
    """The whole カルテ."""

    name_verified: bool
    gender: Gender
    email: str | None
    postal_code: str | None
    address: str | None
    media_id: int | None
    referrer: str | None
    referrer_patient_id: int | None
    first_visit_on: date | None
    note_family: str | None
    note_job: str | None
    note_hobbies: str | None
    note_likes: str | None
    note_last_conversation: str | None
    next_visit_likelihood: Likelihood
    consent_line: bool
    consent_sms: bool
    consent_email: bool
    consent_post: bool
    consent_updated_at: datetime | None
    line_reachable: bool
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_names(cls, value: Any) -> Any:
        return [getattr(tag, "tag", tag) for tag in value]


class AvailabilityOut(Output):
    """Free starts in the clinic's zone."""

    clinic_id: int
    course_id: int
    staff_id: int | None
    zone: str
    starts: list[datetime]


class BookingOut(Output):
    """A booking; the bed is occupied to ends_at, the staff member to staff_ends_at."""

    id: int
    clinic_id: int
    patient_id: int
    course_id: int
    staff_id: int | None
    nominated: bool
    bed_id: int
    starts_at: datetime
    staff_ends_at: datetime
    ends_at: datetime
    source: Source
    status: BookingStatus
    awaiting: Awaiting | None
    hold_until: datetime | None
    cancelled_by: Party | None
    cancelled_at: datetime | None
    note: str | None
    created_at: datetime
    updated_at: datetime


class BookingChangeOut(Output):
    from_status: BookingStatus | None
    to_status: BookingStatus
    actor: str
    starts_at: datetime
    reason: str | None
    at: datetime


class BookingDetailOut(BookingOut):
    changes: list[BookingChangeOut]


class VisitOut(Output):
    """One 施術録 entry with its payments."""

    id: int
    clinic_id: int
    patient_id: int
    booking_id: int | None
    staff_id: int | None
    course_id: int | None
    visited_at: datetime
    staff_minutes: int
    machine_minutes: int
    injury_on: date | None
    injury_cause: str | None
    injury_part: str | None
    symptoms: str | None
    treatment: str | None
    progress: str | None
    outcome: Outcome
    completed_on: date | None
    copay_yen: int
    claim_yen: int
    self_pay_yen: int
    ticket_yen: int
    revenue_yen: int
    created_at: datetime
    updated_at: datetime


class AmendmentOut(Output):
    """One amendment: who changed which fields, when and why, with the earlier values."""

    id: int
    actor: str
    reason: str | None
    changes: dict[str, Any] = Field(description="field → {old, new}; dates as ISO strings")
    at: datetime


class VisitDetailOut(VisitOut):
    amendments: list[AmendmentOut]


class CompletedOut(Output):
    booking: BookingDetailOut
    visit: VisitOut
