"""Booking lifecycle: request, confirm, decline, propose, cancel, reschedule, no-show, complete.

Every operation that takes time on the schedule first replaces the clinic's schedule token.
That UPDATE row-locks the clinic until the transaction ends (on SQLite the whole database
is already locked by BEGIN IMMEDIATE), so capacity is checked and the booking written with
no other writer in between: fifty concurrent requests for one free place give one booking.
The caller owns the transaction; these functions flush, never commit.

A transaction whose owner can run it again (a phone turn) may instead let a request check
its place as it commits (backend.booking.late, PostgreSQL only): the lock is then held for
that check, not for the rest of the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from backend import patients
from backend.booking import availability, late, locking, schedule
from backend.errors import DeadlinePassed, IllegalTransition, Invalid, NotFound, SlotUnavailable
from backend.models import (
    Awaiting,
    Booking,
    BookingChange,
    BookingStatus,
    Clinic,
    Course,
    Party,
    Patient,
    Source,
    Visit,
)
from backend.payments import Payments, charges
from backend.plain import Plain

S = BookingStatus
ALLOWED: dict[str, frozenset[BookingStatus]] = {
    "confirm": frozenset({S.REQUESTED}),
    "decline": frozenset({S.REQUESTED}),
    "propose": frozenset({S.REQUESTED, S.CONFIRMED}),
    "accept": frozenset({S.REQUESTED}),
    "cancel": frozenset({S.REQUESTED, S.CONFIRMED}),
    "reschedule": frozenset({S.REQUESTED, S.CONFIRMED}),
    "no_show": frozenset({S.CONFIRMED}),
    "complete": frozenset({S.CONFIRMED}),
    "expire": frozenset({S.REQUESTED}),
}


def request(
    session: Session,
    *,
    clinic_id: int,
    patient_id: int,
    course_id: int,
    starts_at: datetime,
    now: datetime,
    source: Source,
    actor: str,
    staff_id: int | None = None,
    note: str | None = None,
) -> Booking:
    """Ask for a booking. Confirmed at once when staff book or the clinic auto-approves;
    otherwise a request that holds its slot until it is answered or its hold runs out.
    Giving `staff_id` means the patient nominated (指名) that staff member. The booking is
    written by `request_plain` and loaded for callers that go on working with it."""
    made = request_plain(
        session,
        clinic_id=clinic_id,
        patient_id=patient_id,
        course_id=course_id,
        starts_at=starts_at,
        now=now,
        source=source,
        actor=actor,
        staff_id=staff_id,
        note=note,
    )
    booking = session.get(Booking, made.id)
    assert booking is not None  # inserted just now, in this transaction
    return booking


# Every request is written with plain statements (`request_plain`; `request` loads the
# result): a phone call books on every call, and the ORM's loading of the clinic and
# course and its unit of work for the booking and its change record cost more than the
# engine's own check.


class RequestCourse(NamedTuple):
    """The course of a request: its name and how long it takes."""

    id: int
    name: str
    staff_minutes: int
    minutes: int


class Requested(NamedTuple):
    """A booking request made by `request_plain`: what its card and its answer need."""

    id: int
    clinic: locking.RequestClinic
    patient_id: int
    course: RequestCourse
    staff_id: int | None
    nominated: bool
    source: Source
    status: BookingStatus
    starts_at: datetime


_COURSES = cast(Table, Course.__table__)
_COURSE = Plain(
    select(
        _COURSES.c.id,
        _COURSES.c.name,
        _COURSES.c.staff_minutes,
        (_COURSES.c.staff_minutes + _COURSES.c.machine_minutes).label("minutes"),
    ).where(
        _COURSES.c.id == bindparam("course_id"),
        _COURSES.c.clinic_id == bindparam("clinic_id"),
        _COURSES.c.active.is_(True),
    )
)
_PATIENTS = cast(Table, Patient.__table__)
_PATIENT = Plain(
    select(_PATIENTS.c.clinic_id, _PATIENTS.c.merged_into_id).where(
        _PATIENTS.c.id == bindparam("patient_id")
    )
)
_INSERT_BOOKING = Plain(insert(cast(Table, Booking.__table__)).returning(Booking.__table__.c.id))
_INSERT_CHANGE = Plain(insert(cast(Table, BookingChange.__table__)))


def request_plain(
    session: Session,
    *,
    clinic_id: int,
    patient_id: int,
    course_id: int,
    starts_at: datetime,
    now: datetime,
    source: Source,
    actor: str,
    staff_id: int | None = None,
    note: str | None = None,
) -> Requested:
    """`request` without loading the Booking: plain statements on the session's connection
    (a phone call, which only needs what its card and answer say, uses this directly)."""
    session.flush()  # as the ORM's own queries would: they read this session's changes
    checked_late = late.wanted(session)
    clinic = (locking.reading if checked_late else locking.lock_reading)(session, clinic_id)
    _check_patient(session, clinic.id, patient_id)
    course = _course(session, clinic.id, course_id)
    if staff_id is not None:
        availability.get_staff(session, clinic, staff_id)
    by_staff = source == Source.STAFF
    chosen_staff, bed_id = _place(
        session, clinic, course, starts_at, staff_id, now=now, enforce_window=not by_staff
    )
    confirmed = by_staff or clinic.auto_approve
    status = S.CONFIRMED if confirmed else S.REQUESTED
    values = {
        "clinic_id": clinic.id,
        "patient_id": patient_id,
        "course_id": course.id,
        "staff_id": chosen_staff,
        "nominated": staff_id is not None,
        "bed_id": bed_id,
        "source": source,
        "status": status,
        "awaiting": None if confirmed else Awaiting.STAFF,
        "hold_until": None if confirmed else _hold_until(clinic, starts_at, now),
        "note": note,
        "created_at": now,
        "updated_at": now,
        **_times(course, starts_at),
    }
    connection = session.connection()
    booking_id: int = _INSERT_BOOKING.scalar(connection, values)
    change: dict[str, Any] = {"booking_id": booking_id, "from_status": None, "to_status": status}
    change |= {"actor": actor, "starts_at": starts_at, "reason": None, "at": now}
    _INSERT_CHANGE.execute(connection, change)
    if checked_late:
        place = late.Place(
            booking_id, clinic.id, clinic.config_token, course, starts_at, chosen_staff,
            bed_id, now,
        )  # fmt: skip
        late.remember(session, place)
    return Requested(
        booking_id, clinic, patient_id, course, chosen_staff, staff_id is not None,
        source, status, starts_at,
    )  # fmt: skip


def _check_patient(session: Session, clinic_id: int, patient_id: int) -> None:
    """`_patient`'s refusals, reading two columns."""
    row = _PATIENT.first(session.connection(), {"patient_id": patient_id})
    if row is None or row.clinic_id != clinic_id:
        raise NotFound(f"patient {patient_id} not found", field="patient_id")
    if row.merged_into_id is not None:
        raise Invalid(
            f"patient {patient_id} was merged into {row.merged_into_id}", field="patient_id"
        )


def _course(session: Session, clinic_id: int, course_id: int) -> RequestCourse:
    """An active course of this clinic, or NotFound (as availability.get_course)."""
    params = {"course_id": course_id, "clinic_id": clinic_id}
    row = _COURSE.first(session.connection(), params)
    if row is None:
        raise NotFound(f"course {course_id} not found", field="course_id")
    return RequestCourse(*row)


def confirm(session: Session, *, booking_id: int, actor: str, now: datetime) -> Booking:
    """Staff approve a request; its slot is checked again in case its hold ran out."""
    clinic, booking = _locked(session, booking_id, "confirm")
    if booking.awaiting == Awaiting.PATIENT:
        raise IllegalTransition("the patient has not answered the proposed time yet")
    return _confirm(session, clinic, booking, actor=actor, now=now)


def accept(session: Session, *, booking_id: int, actor: str, now: datetime) -> Booking:
    """The patient accepts the time staff proposed."""
    clinic, booking = _locked(session, booking_id, "accept")
    if booking.awaiting != Awaiting.PATIENT:
        raise IllegalTransition("no time was proposed to the patient")
    return _confirm(session, clinic, booking, actor=actor, now=now)


def _confirm(
    session: Session, clinic: Clinic, booking: Booking, *, actor: str, now: datetime
) -> Booking:
    _recheck(session, clinic, booking, now=now)
    booking.awaiting = None
    booking.hold_until = None
    return _transition(booking, S.CONFIRMED, actor=actor, now=now)


def decline(
    session: Session, *, booking_id: int, actor: str, now: datetime, reason: str | None = None
) -> Booking:
    """Staff turn a request down; the slot is free again at once."""
    _clinic, booking = _locked(session, booking_id, "decline")
    booking.awaiting = None
    booking.hold_until = None
    return _transition(booking, S.DECLINED, actor=actor, now=now, reason=reason)


def propose(
    session: Session, *, booking_id: int, starts_at: datetime, actor: str, now: datetime
) -> Booking:
    """Staff offer another time; the booking holds that time until the patient answers."""
    clinic, booking = _locked(session, booking_id, "propose")
    _move(session, clinic, booking, starts_at, now=now, enforce_window=False)
    booking.awaiting = Awaiting.PATIENT
    booking.hold_until = _hold_until(clinic, starts_at, now)
    return _transition(booking, S.REQUESTED, actor=actor, now=now, reason="proposed")


def cancel(
    session: Session,
    *,
    booking_id: int,
    by: Party,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> Booking:
    """Cancel; a patient must do it before the clinic's cancellation deadline, staff any time."""
    clinic, booking = _locked(session, booking_id, "cancel")
    if by == Party.PATIENT:
        _check_deadline(clinic, booking, now)
    booking.cancelled_by = by
    booking.cancelled_at = now
    booking.awaiting = None
    booking.hold_until = None
    return _transition(booking, S.CANCELLED, actor=actor, now=now, reason=reason)


def reschedule(
    session: Session,
    *,
    booking_id: int,
    starts_at: datetime,
    by: Party,
    actor: str,
    now: datetime,
) -> Booking:
    """Move a booking, keeping its course and nominated staff member. A patient's move is a
    new request unless the clinic auto-approves; staff moves stay confirmed."""
    clinic, booking = _locked(session, booking_id, "reschedule")
    if by == Party.PATIENT:
        _check_deadline(clinic, booking, now)
    _move(session, clinic, booking, starts_at, now=now, enforce_window=by == Party.PATIENT)
    if by == Party.PATIENT and not clinic.auto_approve:
        booking.awaiting = Awaiting.STAFF
        booking.hold_until = _hold_until(clinic, starts_at, now)
        return _transition(booking, S.REQUESTED, actor=actor, now=now, reason="rescheduled")
    booking.awaiting = None
    booking.hold_until = None
    return _transition(booking, S.CONFIRMED, actor=actor, now=now, reason="rescheduled")


def mark_no_show(session: Session, *, booking_id: int, actor: str, now: datetime) -> Booking:
    """The patient did not come."""
    _clinic, booking = _locked(session, booking_id, "no_show")
    if now < booking.starts_at:
        raise IllegalTransition("a booking cannot be a no-show before it starts")
    return _transition(booking, S.NO_SHOW, actor=actor, now=now)


def complete(
    session: Session,
    *,
    booking_id: int,
    actor: str,
    now: datetime,
    payments: Payments | None = None,
) -> Visit:
    """The patient was treated: the booking is completed and its visit (施術録 entry) created."""
    clinic, booking = _locked(session, booking_id, "complete")
    if now < booking.starts_at:
        raise IllegalTransition("a booking cannot be completed before it starts")
    _transition(booking, S.COMPLETED, actor=actor, now=now)
    visit = Visit(
        clinic_id=booking.clinic_id,
        patient_id=booking.patient_id,
        booking_id=booking.id,
        staff_id=booking.staff_id,
        course_id=booking.course_id,
        visited_at=booking.starts_at,
        staff_minutes=booking.course.staff_minutes,
        machine_minutes=booking.course.machine_minutes,
        created_at=now,
        updated_at=now,
        **charges(booking.course, payments or Payments()),
    )
    session.add(visit)
    patients.note_first_visit(clinic, booking.patient, visited_at=booking.starts_at)
    session.flush()
    return visit


def expire_holds(session: Session, *, now: datetime) -> int:
    """Expire every request whose hold has run out; return how many."""
    expired = session.scalars(
        select(Booking).where(Booking.status == S.REQUESTED, Booking.hold_until <= now)
    ).all()
    for booking in expired:
        booking.awaiting = None
        _transition(booking, S.EXPIRED, actor="system", now=now)
    return len(expired)


def _locked(session: Session, booking_id: int, operation: str) -> tuple[Clinic, Booking]:
    """Lock the booking's clinic first, then read the booking, so a concurrent change is seen
    (two staff answering one request: the second finds it already handled)."""
    clinic_id = session.scalar(select(Booking.clinic_id).where(Booking.id == booking_id))
    if clinic_id is None:
        raise NotFound(f"booking {booking_id} not found", field="booking_id")
    clinic = locking.lock_schedule(session, clinic_id)
    booking = session.get(Booking, booking_id, populate_existing=True)
    assert booking is not None
    if booking.status not in ALLOWED[operation]:
        raise IllegalTransition(
            f"cannot {operation.replace('_', ' ')} a booking that is {booking.status.value}",
            status=booking.status.value,
            handled_by=booking.changes[-1].actor if booking.changes else None,
        )
    return clinic, booking


def _patient(session: Session, clinic: Clinic, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.clinic_id != clinic.id:
        raise NotFound(f"patient {patient_id} not found", field="patient_id")
    if patient.merged_into_id is not None:
        raise Invalid(
            f"patient {patient_id} was merged into {patient.merged_into_id}", field="patient_id"
        )
    return patient


def _times(course: availability.Length, starts_at: datetime) -> dict[str, datetime]:
    return {
        "starts_at": starts_at,
        "staff_ends_at": starts_at + timedelta(minutes=course.staff_minutes),
        "ends_at": starts_at + timedelta(minutes=course.minutes),
    }


class _Holding(Protocol):
    @property
    def request_hold_minutes(self) -> int: ...


def _hold_until(clinic: _Holding, starts_at: datetime, now: datetime) -> datetime:
    return min(now + timedelta(minutes=clinic.request_hold_minutes), starts_at)


def _place(
    session: Session,
    clinic: availability.BookingClinic,
    course: availability.Length,
    starts_at: datetime,
    staff_id: int | None,
    *,
    now: datetime,
    enforce_window: bool,
    exclude_booking_id: int | None = None,
) -> tuple[int | None, int]:
    """Find a staff member and bed for the start, under the schedule lock, or refuse."""
    if starts_at.tzinfo is None:
        raise Invalid("starts_at needs a timezone", field="starts_at")
    if starts_at.second or starts_at.microsecond:
        raise Invalid("starts_at must be on the minute", field="starts_at")
    if enforce_window:
        earliest, latest = availability.booking_window(clinic, now)
        if not earliest <= starts_at <= latest:
            raise SlotUnavailable("outside the clinic's booking window", reason="window")
    day = starts_at.astimezone(ZoneInfo(clinic.timezone)).date()
    plan = schedule.load(
        session,
        clinic=clinic,
        first_day=day,
        last_day=day,
        exclude_booking_id=exclude_booking_id,
    )
    placed = availability.assign(
        plan.frame(now), course=course, start=plan.minute(starts_at), staff_id=staff_id
    )
    if placed is None:
        raise SlotUnavailable("that time is not available", reason="full_or_closed")
    return placed


def _recheck(session: Session, clinic: Clinic, booking: Booking, *, now: datetime) -> None:
    staff_id = booking.staff_id if booking.nominated else None
    staff, bed = _place(
        session,
        clinic,
        booking.course,
        booking.starts_at,
        staff_id,
        now=now,
        enforce_window=False,
        exclude_booking_id=booking.id,
    )
    booking.staff_id, booking.bed_id = staff, bed


def _move(
    session: Session,
    clinic: Clinic,
    booking: Booking,
    starts_at: datetime,
    *,
    now: datetime,
    enforce_window: bool,
) -> None:
    staff_id = booking.staff_id if booking.nominated else None
    staff, bed = _place(
        session,
        clinic,
        booking.course,
        starts_at,
        staff_id,
        now=now,
        enforce_window=enforce_window,
        exclude_booking_id=booking.id,
    )
    booking.staff_id, booking.bed_id = staff, bed
    for name, value in _times(booking.course, starts_at).items():
        setattr(booking, name, value)


def _check_deadline(clinic: Clinic, booking: Booking, now: datetime) -> None:
    # Only a confirmed appointment binds the patient; a request nobody accepted yet (or a
    # time staff proposed) can always be withdrawn.
    if booking.status != S.CONFIRMED:
        return
    deadline = booking.starts_at - timedelta(minutes=clinic.cancel_deadline_minutes)
    if now > deadline:
        raise DeadlinePassed(
            "the cancellation deadline has passed; please call the clinic",
            deadline=deadline.isoformat(),
            phone=clinic.phone,
        )


def _transition(
    booking: Booking,
    to_status: BookingStatus,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> Booking:
    from_status = booking.status
    booking.status = to_status
    booking.updated_at = now
    _record(booking, from_status, actor=actor, now=now, reason=reason)
    return booking


def _record(
    booking: Booking,
    from_status: BookingStatus | None,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    booking.changes.append(
        BookingChange(
            from_status=from_status,
            to_status=booking.status,
            actor=actor,
            starts_at=booking.starts_at,
            reason=reason,
            at=now,
        )
    )
