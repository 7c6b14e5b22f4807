"""The staff agenda: a day's bookings, or the requests still waiting for staff.

Read-only queries for linked staff; a request whose hold ran out is left out (the
schedule already treats it as gone).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from backend import notify
from backend.conversation.model import Facts
from backend.dialogue import staff_common as common
from backend.dialogue.runner import Performer
from backend.models import Booking, BookingStatus

MAX_CARDS = 10  # LINE shows at most 12 bubbles in a carousel
MAX_DAY_BOOKINGS = 100
LISTED = (
    BookingStatus.REQUESTED,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
)


def _agenda(session: Session, facts: Facts, args: Mapping[str, Any]) -> dict[str, Any]:
    common.require_staff(facts)
    if args.get("pending"):
        return _pending(session, facts)
    day = date.fromisoformat(str(args["day"]))
    return {"kind": "day", "day": day.isoformat(), "bookings": _day(session, facts, day)}


def _day(session: Session, facts: Facts, day: date) -> list[dict[str, Any]]:
    zone = common.zone(session, facts)
    first = datetime.combine(day, time(), tzinfo=zone)
    rows = session.scalars(
        _listing()
        .where(
            Booking.clinic_id == facts.clinic.id,
            Booking.starts_at >= first,
            Booking.starts_at < first + timedelta(days=1),
            Booking.status.in_(LISTED),
            or_(Booking.status != BookingStatus.REQUESTED, _holding(facts.now)),
        )
        .limit(MAX_DAY_BOOKINGS)
    )
    return [common.booking_data(item, zone) for item in rows]


def _pending(session: Session, facts: Facts) -> dict[str, Any]:
    clinic = common.clinic(session, facts)
    zone = ZoneInfo(clinic.timezone)
    pending = (
        Booking.clinic_id == facts.clinic.id,
        Booking.status == BookingStatus.REQUESTED,
        _holding(facts.now),
    )
    total = session.scalar(select(func.count(Booking.id)).where(*pending)) or 0
    rows = session.scalars(_listing().where(*pending).limit(MAX_CARDS))
    requests = [
        {
            "booking": common.booking_data(item, zone),
            "rows": [list(row) for row in notify.booking_rows(clinic, item)],
        }
        for item in rows
    ]
    return {"kind": "pending", "requests": requests, "total": total}


def _listing() -> Select[Booking]:
    return (
        select(Booking)
        .options(
            selectinload(Booking.patient), selectinload(Booking.course), selectinload(Booking.staff)
        )
        .order_by(Booking.starts_at, Booking.id)
    )


def _holding(now: datetime) -> ColumnElement[bool]:
    return or_(Booking.hold_until.is_(None), Booking.hold_until > now)


PERFORMERS: dict[str, Performer] = {"agenda": common.performer("agenda", _agenda)}
