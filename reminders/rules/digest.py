"""The staff digest: each evening in the staff group, tomorrow's bookings, the requests
still waiting for an answer and the calls not yet returned. One per clinic per day; a
late tick still sends it until the day ends."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from backend import outbox
from backend.conversation import words
from backend.conversation.model import Card, Reply, Say
from backend.models import (
    Awaiting,
    Booking,
    BookingStatus,
    CallLog,
    CallOutcome,
    Clinic,
    MessageKind,
    MessageRule,
)
from reminders import templates
from reminders.rules import common

# Calls older than this are no longer worth a line in the digest.
CALLS_SINCE = timedelta(days=7)
# A LINE card stays readable with this many rows; the rest are counted.
ROWS = 20
_UNANSWERED = (CallOutcome.MISSED, CallOutcome.ABANDONED, CallOutcome.CALLBACK_REQUESTED)


def _tomorrow(session: Session, clinic: Clinic, now: datetime) -> list[Booking]:
    tomorrow = common.today(clinic, now) + timedelta(days=1)
    query = (
        select(Booking)
        .where(
            Booking.clinic_id == clinic.id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.starts_at >= common.day_start(clinic, tomorrow),
            Booking.starts_at < common.day_start(clinic, tomorrow + timedelta(days=1)),
        )
        .options(joinedload(Booking.patient), joinedload(Booking.course))
        .order_by(Booking.starts_at, Booking.id)
    )
    return list(session.scalars(query).unique())


def _count(session: Session, query: object) -> int:
    return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def _requests(session: Session, clinic: Clinic, now: datetime) -> int:
    return _count(
        session,
        select(func.count(Booking.id)).where(
            Booking.clinic_id == clinic.id,
            Booking.status == BookingStatus.REQUESTED,
            Booking.awaiting == Awaiting.STAFF,
            or_(Booking.hold_until.is_(None), Booking.hold_until > now),
        ),
    )


def _calls(session: Session, clinic: Clinic, now: datetime) -> int:
    return _count(
        session,
        select(func.count(CallLog.id)).where(
            CallLog.clinic_id == clinic.id,
            CallLog.outcome.in_(_UNANSWERED),
            CallLog.followed_up_at.is_(None),
            CallLog.started_at >= now - CALLS_SINCE,
        ),
    )


def _card(clinic: Clinic, bookings: list[Booking]) -> Card:
    rows = tuple(
        (
            words.clock(common.local(clinic, booking.starts_at)),
            f"{booking.patient.name} {booking.course.name}",
        )
        for booking in bookings[:ROWS]
    )
    more = len(bookings) - ROWS
    return Card("明日のご予約", rows, note=f"ほか{more}件" if more > 0 else "")


def staff_digest(session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime) -> int:
    """Queue the evening digest in the staff group (nothing without a linked group)."""
    if clinic.line_staff_group_id is None or not common.reached(clinic, rule, now):
        return 0
    day = common.today(clinic, now)
    bookings = _tomorrow(session, clinic, now)
    values = {
        "clinic_name": clinic.name,
        "date": words.day(day + timedelta(days=1)),
        "bookings": len(bookings),
        "requests": _requests(session, clinic, now),
        "calls": _calls(session, clinic, now),
    }
    replies: list[Reply] = [Say(templates.text(rule, values))]
    if bookings:
        replies.append(_card(clinic, bookings))
    made = outbox.line_replies(
        session,
        clinic_id=clinic.id,
        to=clinic.line_staff_group_id,
        replies=replies,
        purpose="rule:staff_digest",
        now=now,
        idempotency_key=f"rule:staff_digest:{clinic.id}:{day.isoformat()}",
        kind=MessageKind.TRANSACTIONAL,
    )
    return int(made is not None)
