"""Request and response bodies of the REST API, and how ledger rows are rendered into them.

Requests use the input types of `backend.api.types`, so bad input is a 422 naming the
field before anything reaches the domain. Responses show every moment in the clinic's zone.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy.orm import Session

from backend import booking, patients
from backend.api.types import Day, Id, LongText, Minutes, Moment, Name, ShortText, Yen
from backend.models import (
    PAYMENT_FIELDS,
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

Text100 = Annotated[ShortText, Field(max_length=100)]
Note = Annotated[LongText, Field(max_length=500)]
Phone = Annotated[ShortText, Field(min_length=1, max_length=32)]
Email = Annotated[ShortText, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
PostalCode = Annotated[ShortText, Field(pattern=r"^[0-9]{3}-?[0-9]{4}$")]
Tag = Annotated[ShortText, Field(min_length=1, max_length=50)]
Reason = Annotated[ShortText, Field(min_length=1)]


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


class Input(BaseModel):
    """A request body; unknown fields are refused, so a typo is never silently ignored."""

    model_config = ConfigDict(extra="forbid")


def _not_null(value: Any, info: ValidationInfo) -> Any:
    if value is None:
        raise ValueError(f"{info.field_name} cannot be null")
    return value


class _PatientDetails(Input):
    kana: Text100 | None = None
    birth_on: Day | None = None
    phone: Phone | None = None
    email: Email | None = None
    postal_code: PostalCode | None = None
    address: ShortText | None = None
    media_id: Id | None = None
    referrer: Text100 | None = None
    referrer_patient_id: Id | None = None
    note_family: LongText | None = None
    note_job: LongText | None = None
    note_hobbies: LongText | None = None
    note_likes: LongText | None = None
    note_last_conversation: LongText | None = None


class PatientCreate(_PatientDetails):
    """A new カルテ. Symptoms and treatment go into visits, never here."""

    clinic_id: Id
    name: Name
    name_verified: bool = True
    gender: Gender = Gender.UNKNOWN
    next_visit_likelihood: Likelihood = Likelihood.UNKNOWN
    consent_line: bool = False
    consent_sms: bool = False
    consent_email: bool = False
    consent_post: bool = False
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class PatientUpdate(_PatientDetails):
    """The fields to change: leave one out to keep it; null clears an optional one."""

    name: Name | None = None
    name_verified: bool | None = None
    gender: Gender | None = None
    next_visit_likelihood: Likelihood | None = None
    consent_line: bool | None = None
    consent_sms: bool | None = None
    consent_email: bool | None = None
    consent_post: bool | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)

    _required = field_validator(*sorted(patients.REQUIRED | {"tags"}))(_not_null)


class PaymentsIn(Input):
    """What was paid, in yen; amounts left out default from the course."""

    copay_yen: Yen | None = None
    claim_yen: Yen | None = None
    self_pay_yen: Yen | None = None
    ticket_yen: Yen = 0

    def to_domain(self) -> booking.Payments:
        """The booking engine's form of the same payments."""
        return booking.Payments(**self.model_dump())


class BookingCreate(Input):
    """A booking request; with staff_id the patient nominated (指名) that staff member."""

    clinic_id: Id
    patient_id: Id
    course_id: Id
    starts_at: Moment
    staff_id: Id | None = None
    note: Note | None = None
    source: Source = Source.API


class DeclineIn(Input):
    reason: ShortText | None = None


class ProposeIn(Input):
    starts_at: Moment


class CancelIn(Input):
    by: Literal["patient", "staff"] = "staff"
    reason: ShortText | None = None


class RescheduleIn(Input):
    starts_at: Moment
    by: Literal["patient", "staff"] = "staff"


class CompleteIn(Input):
    payments: PaymentsIn | None = None


class _RecordFields(Input):
    injury_on: Day | None = None
    injury_cause: LongText | None = None
    injury_part: Text100 | None = None
    symptoms: LongText | None = None
    treatment: LongText | None = None
    progress: LongText | None = None
    completed_on: Day | None = None


class VisitCreate(_RecordFields):
    """A visit without a booking (walk-in); visited_at defaults to now."""

    clinic_id: Id
    patient_id: Id
    visited_at: Moment | None = None
    staff_id: Id | None = None
    course_id: Id | None = None
    staff_minutes: Minutes | None = None
    machine_minutes: Minutes | None = None
    outcome: Outcome = Outcome.CONTINUING
    payments: PaymentsIn | None = None

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for `visits.record`."""
        given = self.model_dump(exclude_unset=True, exclude={"payments"})
        return given | {"payments": self.payments.to_domain() if self.payments else None}


class VisitAmend(_RecordFields):
    """An amendment: the reason, and the fields to change (the old values are kept)."""

    reason: Reason
    outcome: Outcome | None = None
    copay_yen: Yen | None = None
    claim_yen: Yen | None = None
    self_pay_yen: Yen | None = None
    ticket_yen: Yen | None = None

    _required = field_validator("outcome", *PAYMENT_FIELDS)(_not_null)

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, without the reason."""
        return self.model_dump(exclude_unset=True, exclude={"reason"})


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
