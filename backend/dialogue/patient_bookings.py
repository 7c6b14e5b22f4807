"""The patient's bookings behind the conversation: what they booked before, requesting and
rebooking from LINE, listing their visits, cancelling, moving, and answering a time staff
proposed. Staff hear of each change (backend.notify).

The patient is `facts.patient`, and a booking that is not theirs is "not found". A slot
that went meanwhile is refused with the nearest free starts to offer instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from backend import booking, notify
from backend.conversation import patient_common as effects
from backend.conversation.model import Facts, Result
from backend.dialogue import patient_common as common
from backend.dialogue import patient_free_time as free_time
from backend.dialogue.runner import Performer
from backend.errors import DeadlinePassed, DomainError, IllegalTransition, SlotUnavailable
from backend.models import Awaiting, Booking, BookingStatus, Party, Source

MAX_LISTED = 10
_KEPT = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)

PERFORMERS: dict[str, Performer] = {}
_performs = common.registry(PERFORMERS)


@_performs(effects.HISTORY)
def _history(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    patient = common.patient(session, facts)
    mine = Booking.patient_id == patient.id
    last = session.scalars(
        select(Booking)
        .where(mine, Booking.status.in_(_KEPT))
        .order_by(Booking.starts_at.desc())
        .limit(1)
    ).first()
    completed = select(Booking.id).where(mine, Booking.status == BookingStatus.COMPLETED).limit(1)
    visited = patient.first_visit_on is not None or session.scalar(completed) is not None
    return {
        "visited": visited,
        "course_id": last.course_id if last else None,
        "staff_id": common.nominee(last) if last else None,
    }


# Booking


def _made(made: Booking, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "booking_id": made.id,
        "status": made.status.value,
        "start": common.iso(made.starts_at, zone),
        "course": made.course.name,
    }


def _taken(
    session: Session,
    facts: Facts,
    *,
    name: str,
    err: DomainError,
    args: Mapping[str, Any],
    start: datetime,
) -> Result:
    """The slot went meanwhile: refuse with the nearest free starts, and what to book them
    with (course, nominee, the booking being moved)."""
    clinic = common.clinic(session, facts)
    zone = common.zone(clinic)
    starts = free_time.near(session, clinic, args, start, facts.now)
    data = {
        **common.refusal(err),
        **args,
        "start": common.iso(start, zone),
        "starts": [common.iso(free, zone) for free in starts],
    }
    return Result(name, ok=False, data=data)


def _book(
    session: Session, facts: Facts, name: str, args: Mapping[str, Any], start: datetime
) -> Mapping[str, Any] | Result:
    """Request a booking from LINE; staff get the request card (or a notice when the
    clinic confirmed it at once)."""
    patient = common.patient(session, facts)
    course_id, staff_id = common.chosen(args)
    try:
        made = booking.request(
            session,
            clinic_id=facts.clinic.id,
            patient_id=patient.id,
            course_id=course_id,
            starts_at=start,
            now=facts.now,
            source=Source.LINE,
            actor=common.ACTOR,
            staff_id=staff_id,
        )
    except SlotUnavailable as err:
        return _taken(session, facts, name=name, err=err, args=args, start=start)
    notify.request_created(session, booking=made, now=facts.now)
    return _made(made, _zone(session, facts))


def _zone(session: Session, facts: Facts) -> ZoneInfo:
    return common.zone(common.clinic(session, facts))


@_performs(effects.REQUEST)
def _request(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any] | Result:
    chosen = {"course_id": args.get("course_id"), "staff_id": args.get("staff_id")}
    return _book(session, facts, effects.REQUEST, chosen, common.parse_start(args.get("start")))


@_performs(effects.REBOOK)
def _rebook(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any] | Result:
    old = common.own_booking(session, facts, args.get("booking_id"))
    start = common.parse_start(args.get("start"))
    again = session.scalars(
        select(Booking).where(
            Booking.patient_id == old.patient_id,
            Booking.starts_at == start,
            Booking.status.in_((BookingStatus.REQUESTED, BookingStatus.CONFIRMED)),
        )
    ).first()
    if again is not None:  # the button was tapped twice
        return _made(again, _zone(session, facts))
    if old.status in (BookingStatus.REQUESTED, BookingStatus.CONFIRMED):
        raise IllegalTransition("the booking is still active", status=old.status.value)
    chosen = {"course_id": old.course_id, "staff_id": common.nominee(old)}
    return _book(session, facts, effects.REBOOK, chosen, start)


# The patient's bookings


@_performs(effects.LIST_BOOKINGS)
def _list(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    patient = common.patient(session, facts)
    holding = or_(Booking.hold_until.is_(None), Booking.hold_until > facts.now)
    rows = session.scalars(
        select(Booking)
        .where(
            Booking.patient_id == patient.id,
            Booking.clinic_id == facts.clinic.id,
            Booking.starts_at >= facts.now,
            or_(
                Booking.status == BookingStatus.CONFIRMED,
                and_(Booking.status == BookingStatus.REQUESTED, holding),
            ),
        )
        .order_by(Booking.starts_at)
        .limit(MAX_LISTED)
    ).all()
    zone = _zone(session, facts)
    return {"bookings": [common.summary(row, zone) for row in rows]}


@_performs(effects.GET_BOOKING)
def _get(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    found = common.own_booking(session, facts, args.get("booking_id"))
    clinic = common.clinic(session, facts)
    deadline = found.starts_at - timedelta(minutes=clinic.cancel_deadline_minutes)
    return {
        **common.summary(found, common.zone(clinic)),
        "course_id": found.course_id,
        "staff_id": common.nominee(found),
        "deadline": common.iso(deadline, common.zone(clinic)),
    }


@_performs(effects.CANCEL)
def _cancel(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    found = common.own_booking(session, facts, args.get("booking_id"))
    try:
        booking.cancel(
            session, booking_id=found.id, by=Party.PATIENT, actor=common.ACTOR, now=facts.now
        )
    except DeadlinePassed:
        notify.late_cancel_attempt(session, booking=found, now=facts.now)
        raise
    notify.patient_cancelled(session, booking=found, now=facts.now)
    zone = _zone(session, facts)
    return {
        "booking_id": found.id,
        "start": common.iso(found.starts_at, zone),
        "course": found.course.name,
    }


@_performs(effects.RESCHEDULE)
def _reschedule(
    session: Session, facts: Facts, args: Mapping[str, Any]
) -> Mapping[str, Any] | Result:
    found = common.own_booking(session, facts, args.get("booking_id"))
    start, previous = common.parse_start(args.get("start")), found.starts_at
    try:
        booking.reschedule(
            session,
            booking_id=found.id,
            starts_at=start,
            by=Party.PATIENT,
            actor=common.ACTOR,
            now=facts.now,
        )
    except SlotUnavailable as err:
        kept = {
            "course_id": found.course_id,
            "staff_id": common.nominee(found),
            "booking_id": found.id,
        }
        return _taken(session, facts, name=effects.RESCHEDULE, err=err, args=kept, start=start)
    except DeadlinePassed:
        notify.late_cancel_attempt(session, booking=found, now=facts.now, change=True)
        raise
    notify.patient_moved(session, booking=found, previous_start=previous, now=facts.now)
    zone = _zone(session, facts)
    return {**_made(found, zone), "previous": common.iso(previous, zone)}


@_performs(effects.ACCEPT_PROPOSAL)
def _accept(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any] | Result:
    found = common.own_booking(session, facts, args.get("booking_id"))
    try:
        booking.accept(session, booking_id=found.id, actor=common.ACTOR, now=facts.now)
    except SlotUnavailable as err:
        kept = {"course_id": found.course_id, "staff_id": common.nominee(found)}
        return Result(effects.ACCEPT_PROPOSAL, ok=False, data={**common.refusal(err), **kept})
    notify.confirmed(session, booking=found, now=facts.now)
    notify.proposal_accepted(session, booking=found, now=facts.now)
    return _made(found, _zone(session, facts))


@_performs(effects.DECLINE_PROPOSAL)
def _decline(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    found = common.own_booking(session, facts, args.get("booking_id"))
    booking.lock_schedule(session, found.clinic_id)
    session.refresh(found)  # staff may have answered meanwhile
    if found.status != BookingStatus.REQUESTED or found.awaiting != Awaiting.PATIENT:
        raise IllegalTransition("no proposal is waiting for the patient", status=found.status.value)
    booking.cancel(
        session,
        booking_id=found.id,
        by=Party.PATIENT,
        actor=common.ACTOR,
        now=facts.now,
        reason="proposal declined",
    )
    notify.patient_cancelled(session, booking=found, now=facts.now)
    return {"booking_id": found.id, "course_id": found.course_id, "staff_id": common.nominee(found)}
