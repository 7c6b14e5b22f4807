"""Booking requests checked as their transaction commits (PostgreSQL).

The schedule lock is held from the first request of a transaction until it commits. A
phone turn goes on after its request (the caller's SMS, the call's state, the answer's
TwiML), and twenty calls booking at once queued behind one another for all of it. A
transaction whose owner can run it again may call `check_late`: its requests then read
the clinic without the lock, and a `before_commit` hook takes the lock and checks each
request's place once more. A place taken meanwhile (or a changed set-up) fails the commit
with `ScheduleMoved`, and nothing is written. SQLite has one writer at a time anyway:
there `check_late` changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.booking import availability, schedule
from backend.booking.locking import RequestClinic, lock_reading


class ScheduleMoved(Exception):
    """A request checked at commit found its place taken, or the clinic's set-up changed:
    nothing was committed, and the transaction should be run again."""


_LATE = "uketsuke.booking.late"  # session.info: this transaction may check at commit
_PLACES = "uketsuke.booking.places"  # session.info: the requests to check then


def check_late(session: Session) -> None:
    """Let requests in this transaction check their place as it commits, on PostgreSQL,
    rather than lock the schedule when they are made. The owner of the transaction must
    run it again on `ScheduleMoved`."""
    if session.get_bind().dialect.name == "postgresql":
        session.info[_LATE] = True


def wanted(session: Session) -> bool:
    """Whether requests in this transaction check their place at commit."""
    return bool(session.info.get(_LATE))


class Place(NamedTuple):
    """A request to check at commit: where it was put, and what it was put there by."""

    booking_id: int
    clinic_id: int
    config_token: str
    course: availability.Length
    starts_at: datetime
    staff_id: int | None
    bed_id: int
    now: datetime  # holds that had run out by then did not count against it


def remember(session: Session, place: Place) -> None:
    """Check `place` when the transaction commits."""
    session.info.setdefault(_PLACES, []).append(place)


@event.listens_for(Session, "before_commit")
def _check_places(session: Session) -> None:
    """Before a `check_late` transaction commits: take the schedule lock, then see that
    every request it made still has its staff member and bed, against what others have
    committed since. The lock is held from here to the commit."""
    if session.in_nested_transaction():
        return  # a savepoint's release: the places are checked with the transaction
    session.info.pop(_LATE, None)
    places: list[Place] | None = session.info.pop(_PLACES, None)
    if not places:
        return
    session.flush()
    for clinic_id in dict.fromkeys(place.clinic_id for place in places):
        clinic = lock_reading(session, clinic_id)
        for place in places:
            if place.clinic_id == clinic_id and not _still_fits(session, clinic, place):
                raise ScheduleMoved(f"booking {place.booking_id}: its place was taken")


def _still_fits(session: Session, clinic: RequestClinic, place: Place) -> bool:
    if clinic.config_token != place.config_token:
        return False  # hours, shifts, beds or courses changed: decide again from scratch
    day = place.starts_at.astimezone(ZoneInfo(clinic.timezone)).date()
    plan = schedule.load(
        session, clinic=clinic, first_day=day, last_day=day, exclude_booking_id=place.booking_id
    )
    return availability.fits(
        plan.frame(place.now),
        course=place.course,
        start=plan.minute(place.starts_at),
        staff_id=place.staff_id,
        bed_id=place.bed_id,
    )
