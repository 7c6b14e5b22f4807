"""Availability and bookings (予約): request, list, show, and every lifecycle step."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking, notify
from backend.api import schemas
from backend.api.deps import ActorDep, NowDep, StoreDep
from backend.api.types import Day, Id, Moment
from backend.booking import availability
from backend.errors import NotFound
from backend.models import Booking, BookingStatus, Party

MAX_LIST = 500

router = APIRouter(responses=schemas.ERRORS)
bookings = APIRouter(
    prefix="/bookings",
    tags=["bookings"],
    responses=schemas.ERRORS,
)


@router.get(
    "/availability",
    tags=["availability"],
    summary="Free start times",
    response_model=schemas.AvailabilityOut,
)
def get_availability(
    *,
    clinic_id: Id,
    course_id: Id,
    first_day: Day,
    last_day: Day,
    store: StoreDep,
    now: NowDep,
    staff_id: Id | None = None,
) -> Response:
    """Every start between two local days (inclusive, at most 62) where the course fits now,
    in the clinic's zone; with staff_id, only where that staff member (指名) is free."""
    with store.reader() as session:
        found = booking.find_starts(
            session,
            clinic_id=clinic_id,
            course_id=course_id,
            first_day=first_day,
            last_day=last_day,
            now=now,
            staff_id=staff_id,
        )
    # The hottest read of the API (the bot and the phone ask it on every turn): rendered
    # directly instead of validating a response model of hundreds of datetimes twice.
    body = {
        "clinic_id": clinic_id,
        "course_id": course_id,
        "staff_id": staff_id,
        "zone": found.zone.key,
        "starts": found.iso(),
    }
    return JSONResponse(body)


@bookings.post("", status_code=status.HTTP_201_CREATED, summary="Request a booking")
def create_booking(
    body: schemas.BookingCreate, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.BookingDetailOut:
    """Book a start returned by availability. Confirmed at once for source "staff" or when
    the clinic auto-approves; otherwise a request holding its slot until staff answer."""
    with store.transaction() as session:
        made = booking.request(session, now=now, actor=actor, **body.model_dump())
        return schemas.render_local(schemas.BookingDetailOut, session, made)


@bookings.get("", summary="List bookings")
def list_bookings(
    *,
    clinic_id: Id,
    store: StoreDep,
    patient_id: Id | None = None,
    booking_status: Annotated[BookingStatus | None, Query(alias="status")] = None,
    starts_from: Annotated[Moment | None, Query(alias="from")] = None,
    starts_to: Annotated[Moment | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
) -> list[schemas.BookingOut]:
    """A clinic's bookings by start time; `from` is inclusive and `to` exclusive."""
    with store.reader() as session:
        clinic = availability.get_clinic(session, clinic_id)
        found = _bookings(
            session,
            clinic_id=clinic.id,
            patient_id=patient_id,
            booking_status=booking_status,
            starts_from=starts_from,
            starts_to=starts_to,
            limit=limit,
        )
        return [schemas.render_local(schemas.BookingOut, session, item) for item in found]


@bookings.get("/{booking_id}", summary="Show a booking with its history")
def get_booking(booking_id: Id, store: StoreDep) -> schemas.BookingDetailOut:
    """The booking and every status change, oldest first."""
    with store.reader() as session:
        return schemas.render_local(
            schemas.BookingDetailOut, session, _booking(session, booking_id)
        )


@bookings.post("/{booking_id}/confirm", summary="Approve a request")
def confirm_booking(
    booking_id: Id, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.BookingDetailOut:
    """Staff approve a request that waits for them; its slot is checked again."""
    with store.transaction() as session:
        done = booking.confirm(session, booking_id=booking_id, actor=actor, now=now)
        notify.confirmed(session, booking=done, now=now)
        return schemas.render_local(schemas.BookingDetailOut, session, done)


@bookings.post("/{booking_id}/decline", summary="Decline a request")
def decline_booking(
    booking_id: Id,
    store: StoreDep,
    now: NowDep,
    actor: ActorDep,
    body: schemas.DeclineIn | None = None,
) -> schemas.BookingDetailOut:
    """Staff turn a request down; the slot is free again at once."""
    reason = body.reason if body else None
    with store.transaction() as session:
        done = booking.decline(session, booking_id=booking_id, actor=actor, now=now, reason=reason)
        return schemas.render_local(schemas.BookingDetailOut, session, done)


@bookings.post("/{booking_id}/propose", summary="Propose another time")
def propose_booking(
    booking_id: Id, body: schemas.ProposeIn, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.BookingDetailOut:
    """Staff offer another start; the booking holds it until the patient accepts."""
    with store.transaction() as session:
        done = booking.propose(
            session, booking_id=booking_id, starts_at=body.starts_at, actor=actor, now=now
        )
        return schemas.render_local(schemas.BookingDetailOut, session, done)


@bookings.post("/{booking_id}/accept", summary="Accept a proposed time")
def accept_booking(
    booking_id: Id, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.BookingDetailOut:
    """The patient accepts the time staff proposed; the booking is confirmed."""
    with store.transaction() as session:
        done = booking.accept(session, booking_id=booking_id, actor=actor, now=now)
        notify.confirmed(session, booking=done, now=now)
        return schemas.render_local(schemas.BookingDetailOut, session, done)


@bookings.post("/{booking_id}/cancel", summary="Cancel a booking")
def cancel_booking(
    booking_id: Id,
    store: StoreDep,
    now: NowDep,
    actor: ActorDep,
    body: schemas.CancelIn | None = None,
) -> schemas.BookingDetailOut:
    """Cancel; for by=patient only before the clinic's cancellation deadline."""
    body = body or schemas.CancelIn()
    with store.transaction() as session:
        done = booking.cancel(
            session,
            booking_id=booking_id,
            by=Party(body.by),
            actor=actor,
            now=now,
            reason=body.reason,
        )
        notify.cancelled(session, booking=done, now=now)
        return schemas.render_local(schemas.BookingDetailOut, session, done)


@bookings.post("/{booking_id}/reschedule", summary="Move a booking")
def reschedule_booking(
    booking_id: Id, body: schemas.RescheduleIn, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.BookingDetailOut:
    """Move to another start; a patient's move is a new request unless the clinic
    auto-approves, a staff move stays confirmed."""
    with store.transaction() as session:
        done = booking.reschedule(
            session,
            booking_id=booking_id,
            starts_at=body.starts_at,
            by=Party(body.by),
            actor=actor,
            now=now,
        )
        notify.moved(session, booking=done, now=now)
        return schemas.render_local(schemas.BookingDetailOut, session, done)


@bookings.post("/{booking_id}/no-show", summary="Record a no-show")
def no_show_booking(
    booking_id: Id, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.BookingDetailOut:
    """The patient did not come (only once the booking has started)."""
    with store.transaction() as session:
        done = booking.mark_no_show(session, booking_id=booking_id, actor=actor, now=now)
        return schemas.render_local(schemas.BookingDetailOut, session, done)


@bookings.post("/{booking_id}/complete", summary="Complete a booking")
def complete_booking(
    booking_id: Id,
    store: StoreDep,
    now: NowDep,
    actor: ActorDep,
    body: schemas.CompleteIn | None = None,
) -> schemas.CompletedOut:
    """The patient was treated: the booking is completed and its visit (施術録) created.
    Payments left out default from the course."""
    payments = body.payments.to_domain() if body and body.payments else None
    with store.transaction() as session:
        visit = booking.complete(
            session, booking_id=booking_id, actor=actor, now=now, payments=payments
        )
        done = {"booking": _booking(session, booking_id), "visit": visit}
        return schemas.render(
            schemas.CompletedOut, done, schemas.clinic_zone(session, visit.clinic_id)
        )


router.include_router(bookings)


def _booking(session: Session, booking_id: int) -> Booking:
    found = session.get(Booking, booking_id)
    if found is None:
        raise NotFound(f"booking {booking_id} not found", field="booking_id")
    return found


def _bookings(
    session: Session,
    *,
    clinic_id: int,
    patient_id: int | None,
    booking_status: BookingStatus | None,
    starts_from: datetime | None,
    starts_to: datetime | None,
    limit: int,
) -> list[Booking]:
    """The filtered list; each filter left out matches everything."""
    query = select(Booking).where(Booking.clinic_id == clinic_id)
    if patient_id is not None:
        query = query.where(Booking.patient_id == patient_id)
    if booking_status is not None:
        query = query.where(Booking.status == booking_status)
    if starts_from is not None:
        query = query.where(Booking.starts_at >= starts_from)
    if starts_to is not None:
        query = query.where(Booking.starts_at < starts_to)
    return list(session.scalars(query.order_by(Booking.starts_at, Booking.id).limit(limit)))
