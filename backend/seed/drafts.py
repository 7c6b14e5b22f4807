"""In-memory drafts of the rows the seed writes, filled in while history is generated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from backend.models import (
    Awaiting,
    BookingStatus,
    Gender,
    Likelihood,
    Outcome,
    Party,
    Source,
)
from backend.seed.notes import Notes


@dataclass(slots=True)
class PatientDraft:
    """A カルテ to be: identity and contact at first, history facts added as they happen."""

    index: int
    name: str
    kana: str
    gender: Gender
    birth_on: date
    phone: str | None
    email: str | None
    postal_code: str
    address: str
    media: str
    job: str
    family: str
    hobbies: str
    notes: Notes
    habit: str
    weekdays: tuple[int, ...]
    line_user_id: str | None
    # A new patient contacts the clinic on `arrival`; an earlier one first came on `known_since`.
    arrival: date | None = None
    known_since: date | None = None
    referrer: str | None = None
    referrer_index: int | None = None
    line_reachable: bool = True
    consents: dict[str, bool] = field(default_factory=dict)
    name_verified: bool = True
    merged_into: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    first_visit_on: date | None = None
    last_conversation: str | None = None
    likelihood: Likelihood = Likelihood.UNKNOWN
    tags: set[str] = field(default_factory=set)


@dataclass(slots=True)
class VisitDraft:
    """One treatment given: payments and the 施術録 fields."""

    copay_yen: int
    claim_yen: int
    self_pay_yen: int
    ticket_yen: int
    record: dict[str, object]
    outcome: Outcome = Outcome.CONTINUING
    completed_on: date | None = None


@dataclass(slots=True)
class BookingDraft:
    """One booking and the moments its status changed (each None when it did not happen)."""

    patient: int
    course: str
    staff_id: int | None
    nominated: bool
    bed_id: int
    starts_at: datetime
    source: Source
    status: BookingStatus
    created_at: datetime
    actor: str
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None
    finished_at: datetime | None = None
    finished_by: str | None = None
    reason: str | None = None
    awaiting: Awaiting | None = None
    hold_until: datetime | None = None
    cancelled_by: Party | None = None
    note: str | None = None
    visit: VisitDraft | None = None

    @property
    def updated_at(self) -> datetime:
        """When the booking last changed."""
        return self.finished_at or self.confirmed_at or self.created_at
