"""Request bodies: bad input is a 422 naming the field before anything reaches the domain."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from backend import booking, patients
from backend.api.types import Day, Id, LongText, Minutes, Moment, Name, ShortText, Yen
from backend.models import (
    PAYMENT_FIELDS,
    Gender,
    Likelihood,
    Outcome,
    Source,
)

Text100 = Annotated[ShortText, Field(max_length=100)]
Note = Annotated[LongText, Field(max_length=500)]
Phone = Annotated[ShortText, Field(min_length=1, max_length=32)]
Email = Annotated[ShortText, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
PostalCode = Annotated[ShortText, Field(pattern=r"^[0-9]{3}-?[0-9]{4}$")]
Tag = Annotated[ShortText, Field(min_length=1, max_length=50)]
Reason = Annotated[ShortText, Field(min_length=1)]


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
