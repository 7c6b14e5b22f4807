"""Answering booking requests from the dashboard: the same booking engine steps and the
same patient messages (outbox rows) as the LINE staff group's 承認 and お断り buttons.

Each function flushes and leaves the commit to the route.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend import booking, notify
from backend.errors import DomainError, NotFound
from backend.models import Booking, Clinic

ACTOR = "dashboard"  # one clinic password, so the change log names the dashboard, not a person
MAX_ALTERNATIVES = 3  # times offered to a declined patient, as in the staff group
NEAR_DAYS = 7


class Step(Protocol):
    """An answer to a request: `approve` or `decline`."""

    def __call__(
        self, session: Session, *, clinic_id: int, booking_id: int, now: datetime
    ) -> Booking: ...


def approve(session: Session, *, clinic_id: int, booking_id: int, now: datetime) -> Booking:
    """Confirm a request waiting for staff and queue the patient's confirmation."""
    _of_clinic(session, clinic_id, booking_id)
    done = booking.confirm(session, booking_id=booking_id, actor=ACTOR, now=now)
    notify.confirmed(session, booking=done, now=now)
    return done


def decline(session: Session, *, clinic_id: int, booking_id: int, now: datetime) -> Booking:
    """Turn a request down and queue the patient's apology with a few free times near it."""
    _of_clinic(session, clinic_id, booking_id)
    done = booking.decline(session, booking_id=booking_id, actor=ACTOR, now=now)
    notify.declined(session, booking=done, now=now, alternatives=_alternatives(session, done, now))
    return done


def _of_clinic(session: Session, clinic_id: int, booking_id: int) -> None:
    found = session.get(Booking, booking_id)
    if found is None or found.clinic_id != clinic_id:
        raise NotFound(f"booking {booking_id} not found", field="booking_id")


def _alternatives(session: Session, declined: Booking, now: datetime) -> tuple[datetime, ...]:
    """The free starts nearest the declined time (same course and 指名), earliest first."""
    clinic = session.get(Clinic, declined.clinic_id)
    assert clinic is not None
    zone = ZoneInfo(clinic.timezone)
    day = declined.starts_at.astimezone(zone).date()
    first_day = max(now.astimezone(zone).date(), day - timedelta(days=NEAR_DAYS))
    last_day = day + timedelta(days=NEAR_DAYS)
    if last_day < first_day:
        return ()
    try:
        starts = booking.free_starts(
            session,
            clinic_id=declined.clinic_id,
            course_id=declined.course_id,
            first_day=first_day,
            last_day=last_day,
            now=now,
            staff_id=declined.staff_id if declined.nominated else None,
        )
    except DomainError:
        return ()  # the course or the nominated staff member is gone: decline without offers
    others = [start for start in starts if not declined.starts_at <= start < declined.ends_at]
    nearest = sorted(others, key=lambda start: abs(start - declined.starts_at))
    return tuple(sorted(nearest[:MAX_ALTERNATIVES]))
