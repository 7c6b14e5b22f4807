"""What frees a start someone may be waiting for: a booking cancelled, declined or
expired (its hold ran out), or moved away (rescheduled, or another time proposed).

A freed start is a booking and the start it gave up; each is offered at most once
(`WaitlistOffer.freed_by_booking_id` and `starts_at`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.booking import availability, schedule
from backend.models import (
    Booking,
    BookingChange,
    BookingStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitStatus,
)

# What a booking can become that gives its start back to the schedule.
FREED = (BookingStatus.CANCELLED, BookingStatus.DECLINED, BookingStatus.EXPIRED)
# The reasons booking.reschedule and booking.propose record when a booking moves.
MOVES = ("rescheduled", "proposed")
# Moves are read from the booking's history; the worker runs every tick, so a day of it
# is plenty (and a move offered late is still checked against the schedule of then).
MOVE_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Freed:
    """A start a booking gave up."""

    booking_id: int
    starts_at: datetime


def freed(session: Session, *, now: datetime) -> list[Freed]:
    """Future starts given up on a day someone waits for, not offered yet."""
    found: list[Freed] = []
    for clinic_id, days in _waited_days(session, now).items():
        zone = ZoneInfo(availability.get_clinic(session, clinic_id).timezone)

        def waited(start: datetime, zone: ZoneInfo = zone, days: set[date] = days) -> bool:
            return start > now and start.astimezone(zone).date() in days

        found += _released(session, clinic_id, days, zone, waited)
        found += [one for one in _moved_away(session, clinic_id, now) if waited(one.starts_at)]
    return [one for one in dict.fromkeys(found) if not offered(session, one)]


def offered(session: Session, freed_start: Freed) -> bool:
    """Whether this start of this booking was offered already."""
    found = select(WaitlistOffer.id).where(
        WaitlistOffer.freed_by_booking_id == freed_start.booking_id,
        WaitlistOffer.starts_at == freed_start.starts_at,
    )
    return session.scalar(found.limit(1)) is not None


def _waited_days(session: Session, now: datetime) -> dict[int, set[date]]:
    # A day behind UTC's date still covers every zone's "today".
    rows = session.execute(
        select(WaitlistEntry.clinic_id, WaitlistEntry.wanted_on)
        .where(
            WaitlistEntry.status == WaitStatus.WAITING,
            WaitlistEntry.wanted_on >= now.date() - timedelta(days=1),
        )
        .distinct()
    )
    days: dict[int, set[date]] = defaultdict(set)
    for clinic_id, wanted_on in rows:
        days[clinic_id].add(wanted_on)
    return days


def _released(
    session: Session,
    clinic_id: int,
    days: set[date],
    zone: ZoneInfo,
    waited: Callable[[datetime], bool],
) -> list[Freed]:
    """Cancelled, declined and expired bookings on the waited days."""
    rows = session.execute(
        select(Booking.id, Booking.starts_at)
        .where(
            Booking.clinic_id == clinic_id,
            Booking.status.in_(FREED),
            Booking.starts_at >= schedule.local_midnight(min(days), zone),
            Booking.starts_at < schedule.local_midnight(max(days) + timedelta(days=1), zone),
        )
        .order_by(Booking.updated_at, Booking.id)
    )
    return [Freed(booking_id, start) for booking_id, start in rows if waited(start)]


def _moved_away(session: Session, clinic_id: int, now: datetime) -> list[Freed]:
    """The starts bookings moved away from lately: each change records the start after it,
    so a move gave up the start of the change before."""
    moved = (
        select(BookingChange.booking_id)
        .join(Booking, Booking.id == BookingChange.booking_id)
        .where(
            Booking.clinic_id == clinic_id,
            BookingChange.reason.in_(MOVES),
            BookingChange.at >= now - MOVE_LOOKBACK,
        )
    )
    history = session.execute(
        select(BookingChange.booking_id, BookingChange.starts_at)
        .where(BookingChange.booking_id.in_(moved))
        .order_by(BookingChange.booking_id, BookingChange.id)
    )
    found: list[Freed] = []
    previous: dict[int, datetime] = {}
    for booking_id, start in history:
        before = previous.get(booking_id)
        if before is not None and before != start:
            found.append(Freed(booking_id, before))
        previous[booking_id] = start
    return found
