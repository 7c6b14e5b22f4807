"""Waitlist entries: joining for a day, leaving, the list, and ending past days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.booking import availability
from backend.errors import Invalid, NotFound
from backend.models import (
    Booking,
    BookingStatus,
    Clinic,
    Patient,
    WaitlistEntry,
    WaitlistOffer,
    WaitStatus,
)


def join(
    session: Session,
    *,
    clinic_id: int,
    patient_id: int,
    course_id: int,
    staff_id: int | None,
    wanted_on: date,
    now: datetime,
) -> tuple[WaitlistEntry, bool]:
    """Put the patient on the waitlist for a local day; return the entry and whether it is
    new (False: they were already waiting for that day)."""
    clinic = availability.get_clinic(session, clinic_id)
    if wanted_on < today(clinic, now):
        raise Invalid("that day has passed", field="wanted_on", reason="past")
    _patient(session, clinic, patient_id)
    availability.get_course(session, clinic, course_id)
    if staff_id is not None:
        availability.get_staff(session, clinic, staff_id)
    found = waiting(session, clinic.id, wanted_on, patient_id=patient_id)
    if found:
        return found[0], False
    entry = WaitlistEntry(
        clinic_id=clinic.id,
        patient_id=patient_id,
        course_id=course_id,
        staff_id=staff_id,
        wanted_on=wanted_on,
        status=WaitStatus.WAITING,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    return entry, True


def leave(session: Session, *, entry_id: int, patient_id: int, now: datetime) -> WaitlistEntry:
    """Take the patient off the waitlist for one day; someone else's entry is not found."""
    entry = session.get(WaitlistEntry, entry_id)
    if entry is None or entry.patient_id != patient_id or entry.status != WaitStatus.WAITING:
        raise NotFound("no such waitlist entry", field="entry_id")
    entry.status = WaitStatus.CANCELLED
    entry.updated_at = now
    session.flush()
    return entry


def entries(session: Session, *, patient_id: int, today: date) -> list[WaitlistEntry]:
    """The days the patient is waiting for, from `today` on, earliest first."""
    return list(
        session.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.patient_id == patient_id,
                WaitlistEntry.status == WaitStatus.WAITING,
                WaitlistEntry.wanted_on >= today,
            )
            .order_by(WaitlistEntry.wanted_on, WaitlistEntry.id)
        )
    )


def expire(session: Session, *, now: datetime) -> int:
    """End the entries whose day has passed (in the clinic's zone) and close the offers
    whose start has passed; return how many entries expired."""
    session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.closed_at.is_(None), WaitlistOffer.starts_at <= now)
        .values(closed_at=now)
    )
    # Two days past UTC's date covers every zone ahead of UTC.
    candidates = session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.status == WaitStatus.WAITING,
            WaitlistEntry.wanted_on < now.date() + timedelta(days=2),
        )
    ).all()
    local_today: dict[int, date] = {}
    expired = 0
    for entry in candidates:
        if entry.clinic_id not in local_today:
            clinic = availability.get_clinic(session, entry.clinic_id)
            local_today[entry.clinic_id] = today(clinic, now)
        if entry.wanted_on < local_today[entry.clinic_id]:
            entry.status, entry.updated_at = WaitStatus.EXPIRED, now
            expired += 1
    session.flush()
    return expired


def today(clinic: Clinic, now: datetime) -> date:
    """The clinic's local date at `now`."""
    return now.astimezone(ZoneInfo(clinic.timezone)).date()


def _patient(session: Session, clinic: Clinic, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.clinic_id != clinic.id or patient.is_merged:
        raise NotFound(f"patient {patient_id} not found", field="patient_id")
    return patient


def waiting(
    session: Session, clinic_id: int, day: date, *, patient_id: int | None = None
) -> list[WaitlistEntry]:
    """Who waits for a day (or only `patient_id`), first come first."""
    query = select(WaitlistEntry).where(
        WaitlistEntry.clinic_id == clinic_id,
        WaitlistEntry.wanted_on == day,
        WaitlistEntry.status == WaitStatus.WAITING,
    )
    if patient_id is not None:
        query = query.where(WaitlistEntry.patient_id == patient_id)
    return list(session.scalars(query.order_by(WaitlistEntry.created_at, WaitlistEntry.id)))


def without_booked(
    session: Session, entries: list[WaitlistEntry], *, day: date, zone: ZoneInfo, now: datetime
) -> list[WaitlistEntry]:
    """The entries whose patient still has no booking that day; the others booked it some
    other way (in chat, by phone, at the desk), so their waiting is over: marked booked."""
    if not entries:
        return []
    start = datetime.combine(day, time(), tzinfo=zone)
    booked = set(
        session.scalars(
            select(Booking.patient_id).where(
                Booking.patient_id.in_({entry.patient_id for entry in entries}),
                Booking.status.in_((BookingStatus.REQUESTED, BookingStatus.CONFIRMED)),
                Booking.starts_at >= start,
                Booking.starts_at < start + timedelta(days=1),
            )
        )
    )
    for entry in entries:
        if entry.patient_id in booked:
            entry.status, entry.updated_at = WaitStatus.BOOKED, now
    return [entry for entry in entries if entry.patient_id not in booked]
