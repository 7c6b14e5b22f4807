"""The ledger work behind booking, changing and cancelling by phone.

The caller is known by their number: a request is made for the confirmed caller, or for
the patient with this number and the name heard (a new, unverified カルテ when there is
none); the bookings that can be changed are those of the patients with this number.
Result data is JSON-friendly: ids, names, ISO 8601 times in the clinic's zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from backend import booking, notify, patients
from backend.calls import Call
from backend.conversation import phone_common as effects
from backend.conversation.model import Facts, Result
from backend.conversation.phone_sms import is_mobile
from backend.dialogue import patient_common as common
from backend.dialogue import phone_calls as calls
from backend.dialogue.runner import Performer
from backend.errors import DeadlinePassed, Invalid, NotFound
from backend.models import (
    Booking,
    BookingStatus,
    CallOutcome,
    Party,
    Patient,
    Source,
)
from backend.plain import Plain
from backend.savepoint import savepoint

MAX_LISTED = 5  # read aloud one by one: more than this is a call for staff
PERFORMERS: dict[str, Performer] = {}


def _performs(name: str, *, reads: bool = False) -> Callable[[calls.Body], calls.Body]:
    return calls.performer(PERFORMERS, name, reads=reads)


def _local(facts: Facts, moment: datetime) -> str:
    """An instant as ISO 8601 in the clinic's zone, which the facts' `now` is given in (no
    need to read the clinic again)."""
    return moment.astimezone(facts.now.tzinfo).isoformat()


# Booking


@_performs(effects.REQUEST)
def _request(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    call = calls.of(session, facts)
    course_id, staff_id = common.chosen(args)
    patient = _patient(session, facts, call, name=str(args.get("name") or ""))
    # Plain statements all the way: every booking call makes one, and the ORM's loading and
    # unit of work cost more than the booking engine's check.
    made = booking.request_plain(
        session,
        clinic_id=facts.clinic.id,
        patient_id=patient.id,
        course_id=course_id,
        starts_at=common.parse_start(args.get("start")),
        now=facts.now,
        source=Source.PHONE,
        actor=calls.ACTOR,
        staff_id=staff_id,
    )
    notify.request_made(session, made=made, patient=patient, now=facts.now)
    outcome = calls.weightier(CallOutcome.REQUEST_MADE, call.outcome)
    calls.change(session, call, patient_id=patient.id, booking_id=made.id, outcome=outcome)
    return {
        "booking_id": made.id,
        "status": made.status.value,
        "start": _local(facts, made.starts_at),
        "course": made.course.name,
        "sms": _sms_route(session, call, patient),
    }


class Caller(NamedTuple):
    """The patient a call books for, as the request, its card and the SMS route read it."""

    id: int
    name: str
    name_verified: bool
    phone: str | None
    first_visit_on: date | None
    sms_opted_out: bool


_PATIENT = Plain(
    select(*(Patient.__table__.c[name] for name in Caller._fields)).where(
        Patient.__table__.c.id == bindparam("patient_id")
    )
)


def _read(session: Session, patient_id: int) -> Caller | None:
    row = _PATIENT.first(session.connection(), {"patient_id": patient_id})
    return Caller(*row) if row is not None else None


def _patient(session: Session, facts: Facts, call: Call, *, name: str) -> Caller:
    """The confirmed caller; else the patient with this number and the name heard; else a
    new カルテ with the name as heard (unverified) and the caller's number."""
    if facts.patient is not None:
        found = _read(session, facts.patient.id)
        if found is not None:
            return found
    if not name.strip():
        raise Invalid("a new caller's name is needed", field="name")
    number = calls.caller(call)
    same = _same_name(session, facts.clinic.id, number, name) if number else None
    if same is not None:
        return same
    fields = {"phone": number} if number else {}
    patient_id = patients.register(
        session,
        clinic_id=facts.clinic.id,
        actor=calls.ACTOR,
        now=facts.now,
        name=name,
        name_verified=False,
        **fields,
    )
    return Caller(patient_id, name, False, number or None, None, sms_opted_out=False)


def _same_name(session: Session, clinic_id: int, number: str, name: str) -> Caller | None:
    rows = calls.with_number(session, clinic_id, number)
    matches = [row.id for row in rows if patients.fold(row.name) == patients.fold(name)]
    return _read(session, matches[0]) if len(matches) == 1 else None


def _sms_route(session: Session, call: Call, patient: Caller) -> str:
    """How the confirmation SMS goes: to the caller's mobile, to a mobile the caller keys
    in ("ask"), or not at all (opted out)."""
    number = calls.caller(call)
    if patient.sms_opted_out or (number and calls.opted_out(session, call.clinic_id, number)):
        return "none"
    return "mobile" if is_mobile(number) else "ask"


# The caller's bookings


def _callers_booking(session: Session, facts: Facts, call: Call, booking_id: object) -> Booking:
    """A booking of a patient with the caller's number; any other is "not found"."""
    found = session.get(Booking, booking_id) if isinstance(booking_id, int) else None
    number = calls.caller(call)
    theirs = found is not None and bool(number) and found.patient.phone == number
    if found is None or not theirs or found.clinic_id != facts.clinic.id:
        raise NotFound("booking not found", field="booking_id")
    return found


@_performs(effects.LIST_BOOKINGS, reads=True)
def _list(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    call = calls.of(session, facts)
    number = calls.caller(call)
    if not number:
        return {"bookings": []}
    holding = or_(Booking.hold_until.is_(None), Booking.hold_until > facts.now)
    rows = session.scalars(
        select(Booking)
        .join(Patient, Booking.patient_id == Patient.id)
        .where(
            Booking.clinic_id == facts.clinic.id,
            Patient.phone == number,
            Patient.merged_into_id.is_(None),
            Booking.starts_at >= facts.now,
            or_(
                Booking.status == BookingStatus.CONFIRMED,
                and_(Booking.status == BookingStatus.REQUESTED, holding),
            ),
        )
        .order_by(Booking.starts_at)
        .limit(MAX_LISTED)
    ).all()
    deadline = timedelta(minutes=facts.clinic.cancel_deadline_minutes)
    zone = common.zone(common.clinic(session, facts))
    return {"bookings": [_listed(row, zone, facts.now, deadline) for row in rows]}


def _listed(found: Booking, zone: ZoneInfo, now: datetime, deadline: timedelta) -> dict[str, Any]:
    # The same rule as the booking engine's deadline check: only a confirmed booking binds.
    late = found.status == BookingStatus.CONFIRMED and now > found.starts_at - deadline
    return {
        "id": found.id,
        "start": common.iso(found.starts_at, zone),
        "course": found.course.name,
        "course_id": found.course_id,
        "staff_id": common.nominee(found),
        "name": found.patient.name,
        "status": found.status.value,
        "late": late,
    }


def _too_late(session: Session, facts: Facts, call: Call, found: Booking, change: bool) -> Result:
    """After the deadline: staff are told and will call back."""
    notify.late_cancel_attempt(session, booking=found, now=facts.now, change=change)
    calls.note(session, call, CallOutcome.CALLBACK_REQUESTED)
    name = effects.RESCHEDULE if change else effects.CANCEL
    return Result(name, ok=False, data={"code": DeadlinePassed.code})


@_performs(effects.CANCEL)
def _cancel(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any] | Result:
    call = calls.of(session, facts)
    found = _callers_booking(session, facts, call, args.get("booking_id"))
    try:
        with savepoint(session):
            booking.cancel(
                session, booking_id=found.id, by=Party.PATIENT, actor=calls.ACTOR, now=facts.now
            )
    except DeadlinePassed:
        return _too_late(session, facts, call, found, change=False)
    notify.patient_cancelled(session, booking=found, now=facts.now)
    outcome = calls.weightier(CallOutcome.CANCELLED, call.outcome)
    calls.change(session, call, booking_id=found.id, outcome=outcome)
    return {
        "booking_id": found.id,
        "start": _local(facts, found.starts_at),
    }


@_performs(effects.RESCHEDULE)
def _reschedule(
    session: Session, facts: Facts, args: Mapping[str, Any]
) -> Mapping[str, Any] | Result:
    call = calls.of(session, facts)
    found = _callers_booking(session, facts, call, args.get("booking_id"))
    previous = found.starts_at
    try:
        with savepoint(session):
            booking.reschedule(
                session,
                booking_id=found.id,
                starts_at=common.parse_start(args.get("start")),
                by=Party.PATIENT,
                actor=calls.ACTOR,
                now=facts.now,
            )
    except DeadlinePassed:
        return _too_late(session, facts, call, found, change=True)
    notify.patient_moved(session, booking=found, previous_start=previous, now=facts.now)
    outcome = calls.weightier(CallOutcome.CHANGED, call.outcome)
    calls.change(session, call, booking_id=found.id, outcome=outcome)
    return {
        "booking_id": found.id,
        "status": found.status.value,
        "start": _local(facts, found.starts_at),
    }
