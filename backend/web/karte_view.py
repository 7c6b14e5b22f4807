"""What the カルテ page shows: one patient's カルテ with upcoming bookings and visits
(施術録), as plain rows with Japanese labels.

Opening a カルテ goes through `patients.get` and `visits.list_for_patient`, so every view is
in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import patients, visits
from backend.conversation import words
from backend.errors import NotFound
from backend.models import (
    Booking,
    BookingStatus,
    Clinic,
    Likelihood,
    Outcome,
    Patient,
    Visit,
    VisitAmendment,
)
from backend.web import karte_form, karte_identity, today

LIKELIHOOD_WORDS = {
    Likelihood.HIGH: "高い",
    Likelihood.MEDIUM: "ふつう",
    Likelihood.LOW: "低い",
    Likelihood.UNKNOWN: "未記入",
}
OUTCOME_WORDS = {
    Outcome.CONTINUING: "継続",
    Outcome.CURED: "治癒",
    Outcome.DISCONTINUED: "中止",
    Outcome.TRANSFERRED: "転医",
}
UPCOMING = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED)


@dataclass(frozen=True)
class BookingRow:
    id: int
    day: str
    time: str
    course: str
    staff: str
    status: str
    status_key: str


@dataclass(frozen=True)
class VisitRow:
    """One 施術録 entry as reception reads it: no symptoms or treatment text here."""

    id: int
    day: str
    staff: str
    course: str
    outcome: str
    copay_yen: int
    claim_yen: int
    self_pay_yen: int
    ticket_yen: int
    total_yen: int
    amendments: int


@dataclass(frozen=True)
class Merged:
    id: int
    name: str


@dataclass(frozen=True)
class Identity:
    id: int
    name: str
    kana: str
    name_verified: bool
    birthday: str
    gender: str
    media: str
    referrer: str
    first_visit: str
    likelihood: str
    tags: list[str]


@dataclass(frozen=True)
class Contact:
    """How to reach the patient, and what they agreed to receive."""

    phone: str
    email: str
    postal_code: str
    address: str
    consents: list[tuple[str, bool]]
    consent_updated: str
    line: str
    sms_opted_out: bool


@dataclass(frozen=True)
class Karte:
    """One patient's カルテ, read inside the transaction and rendered after it; `form`
    holds what the edit form shows (the stored values, or what staff typed), `choices`
    what its identity fields offer."""

    identity: Identity
    contact: Contact
    notes: list[tuple[str, str]]
    merged_into: Merged | None
    bookings: list[BookingRow]
    visits: list[VisitRow]
    form: karte_form.KarteForm
    choices: karte_identity.Choices


def in_clinic(session: Session, *, clinic: Clinic, patient_id: int) -> Patient:
    """A patient of this clinic, merged or not (not a read of the カルテ: nothing audited)."""
    patient = session.get(Patient, patient_id)
    if patient is None or patient.clinic_id != clinic.id:
        raise NotFound(f"patient {patient_id} not found", field="patient_id")
    return patient


def open_karte(
    session: Session, *, clinic: Clinic, patient_id: int, actor: str, now: datetime
) -> Karte:
    """Read the whole カルテ for staff: both the カルテ and its visits are audited reads."""
    in_clinic(session, clinic=clinic, patient_id=patient_id)
    patient = patients.get(session, patient_id=patient_id, actor=actor, now=now)
    history = visits.list_for_patient(session, patient_id=patient.id, actor=actor, now=now)
    zone = ZoneInfo(clinic.timezone)
    return Karte(
        identity=_identity(patient, now.astimezone(zone).date()),
        contact=_contact(patient, zone),
        notes=_notes(patient),
        merged_into=_merged_into(session, patient),
        bookings=_upcoming(session, patient, now, zone),
        visits=_visit_rows(session, history, zone),
        form=karte_form.filled(patient),
        choices=karte_identity.choices(session, clinic=clinic, patient=patient, now=now),
    )


def age(birth_on: date, today_on: date) -> int:
    """Full years on `today_on` (満年齢)."""
    before_birthday = (today_on.month, today_on.day) < (birth_on.month, birth_on.day)
    return today_on.year - birth_on.year - before_birthday


def _identity(patient: Patient, today_on: date) -> Identity:
    birthday = ""
    if patient.birth_on is not None:
        born = patient.birth_on
        birthday = f"{born.year}年{born.month}月{born.day}日（{age(born, today_on)}歳）"
    first = patient.first_visit_on
    return Identity(
        id=patient.id,
        name=patient.name,
        kana=patient.kana or "",
        name_verified=patient.name_verified,
        birthday=birthday,
        gender=karte_identity.GENDER_WORDS[patient.gender],
        media=patient.media.name if patient.media else "",
        referrer=patient.referrer or "",
        first_visit=today.day_label(first) if first else "",
        likelihood=LIKELIHOOD_WORDS[patient.next_visit_likelihood],
        tags=[tag.tag for tag in patient.tags],
    )


def _contact(patient: Patient, zone: ZoneInfo) -> Contact:
    updated = patient.consent_updated_at
    return Contact(
        phone=words.phone(patient.phone),
        email=patient.email or "",
        postal_code=patient.postal_code or "",
        address=patient.address or "",
        consents=[
            (label, getattr(patient, name)) for name, label in karte_form.CONSENT_LABELS.items()
        ],
        consent_updated=today.day_label(updated.astimezone(zone).date()) if updated else "",
        line=_line_state(patient),
        sms_opted_out=patient.sms_opted_out,
    )


def _notes(patient: Patient) -> list[tuple[str, str]]:
    """会話メモ: what staff learnt talking with the patient, in the form's order."""
    return [(label, getattr(patient, name) or "") for name, label in karte_form.NOTE_LABELS.items()]


def _line_state(patient: Patient) -> str:
    if patient.line_user_id is None:
        return "未連携"
    if not patient.line_reachable:
        return "ブロックされています（LINEは届きません）"
    return "連携済み"


def _merged_into(session: Session, patient: Patient) -> Merged | None:
    if patient.merged_into_id is None:
        return None
    target = session.get(Patient, patient.merged_into_id)
    if target is None or target.clinic_id != patient.clinic_id:
        return None
    return Merged(id=target.id, name=target.name)


def _upcoming(
    session: Session, patient: Patient, now: datetime, zone: ZoneInfo
) -> list[BookingRow]:
    query = (
        select(Booking)
        .where(Booking.patient_id == patient.id, Booking.status.in_(UPCOMING))
        .where(Booking.starts_at >= now)
        .order_by(Booking.starts_at, Booking.id)
    )
    return [_booking_row(item, zone) for item in session.scalars(query)]


def _booking_row(item: Booking, zone: ZoneInfo) -> BookingRow:
    local = item.starts_at.astimezone(zone)
    staff = item.staff.name if item.staff else "指名なし"
    return BookingRow(
        id=item.id,
        day=today.day_label(local.date()),
        time=local.strftime("%H:%M"),
        course=item.course.name,
        staff=staff + ("（指名）" if item.nominated else ""),
        status=today.STATUS_WORDS[item.status],
        status_key=item.status.value,
    )


def _visit_rows(session: Session, history: list[Visit], zone: ZoneInfo) -> list[VisitRow]:
    amended = _amendment_counts(session, [visit.id for visit in history])
    return [
        VisitRow(
            id=visit.id,
            day=today.day_label(visit.visited_at.astimezone(zone).date()),
            staff=visit.staff.name if visit.staff else "",
            course=visit.course.name if visit.course else "",
            outcome=OUTCOME_WORDS[visit.outcome],
            copay_yen=visit.copay_yen,
            claim_yen=visit.claim_yen,
            self_pay_yen=visit.self_pay_yen,
            ticket_yen=visit.ticket_yen,
            total_yen=visit.revenue_yen,
            amendments=amended.get(visit.id, 0),
        )
        for visit in history
    ]


def _amendment_counts(session: Session, visit_ids: list[int]) -> dict[int, int]:
    if not visit_ids:
        return {}
    query = (
        select(VisitAmendment.visit_id, func.count())
        .where(VisitAmendment.visit_id.in_(visit_ids))
        .group_by(VisitAmendment.visit_id)
    )
    return {row[0]: row[1] for row in session.execute(query)}
