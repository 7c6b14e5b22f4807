"""Rules about one booking: the day-before and same-day reminders, and the no-show
follow-up. All transactional: they follow the booking, not the patient's consent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from backend import message_rules
from backend.conversation.model import Choice
from backend.models import Booking, BookingStatus, Clinic, MessageRule, Patient
from reminders import templates
from reminders.rules import common

# The day-before reminder's buttons: 確認 answers with thanks (patient_notices), キャンセル
# is the patient's own cancel flow for that booking (patient_manage).
CONFIRM = "notice:{id}:ok"
CANCEL = "booking:{id}:cancel"


def _bookings(session: Session, *conditions: object) -> Sequence[Booking]:
    query = (
        select(Booking)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(Patient.merged_into_id.is_(None), *conditions)  # type: ignore[arg-type]
        .options(joinedload(Booking.patient), joinedload(Booking.course))
        .options(joinedload(Booking.staff))
        .order_by(Booking.starts_at, Booking.id)
    )
    return session.scalars(query).unique().all()


def _stamp(booking: Booking) -> str:
    # A moved booking is reminded of its new time once more.
    return booking.starts_at.strftime("%Y%m%d%H%M")


def day_before(session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime) -> int:
    """Tomorrow's confirmed bookings, from the send time until the day ends; bookings made
    after the send time already had their confirmation."""
    day = common.today(clinic, now)
    due = common.at(clinic, day, common.send_time(rule))
    if now < due:
        return 0
    tomorrow = day + timedelta(days=1)
    found = _bookings(
        session,
        Booking.clinic_id == clinic.id,
        Booking.status == BookingStatus.CONFIRMED,
        Booking.starts_at >= common.day_start(clinic, tomorrow),
        Booking.starts_at < common.day_start(clinic, tomorrow + timedelta(days=1)),
        Booking.created_at < due,
    )
    messages = [
        common.Message(
            booking.patient,
            f"rule:day_before:{booking.id}:{_stamp(booking)}",
            templates.booking_values(clinic, booking),
            (
                Choice("確認", CONFIRM.format(id=booking.id)),
                Choice("キャンセル", CANCEL.format(id=booking.id)),
            ),
        )
        for booking in found
    ]
    return common.deliver(session, clinic=clinic, rule=rule, messages=messages, now=now)


def same_day(session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime) -> int:
    """Confirmed bookings starting within the next `hours_before` hours, made before then."""
    ahead = timedelta(hours=float(message_rules.param(rule, "hours_before")))
    found = _bookings(
        session,
        Booking.clinic_id == clinic.id,
        Booking.status == BookingStatus.CONFIRMED,
        Booking.starts_at > now,
        Booking.starts_at <= now + ahead,
    )
    messages = [
        common.Message(
            booking.patient,
            f"rule:same_day:{booking.id}:{_stamp(booking)}",
            templates.booking_values(clinic, booking),
        )
        for booking in found
        if booking.created_at < booking.starts_at - ahead
    ]
    return common.deliver(session, clinic=clinic, rule=rule, messages=messages, now=now)


def no_show(session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime) -> int:
    """A gentle invitation to rebook, at the send time of the day after a no-show (or up to
    LATE_DAYS later), unless the patient has booked again meanwhile."""
    if not common.reached(clinic, rule, now):
        return 0
    day = common.today(clinic, now)
    found = _bookings(
        session,
        Booking.clinic_id == clinic.id,
        Booking.status == BookingStatus.NO_SHOW,
        Booking.starts_at >= common.day_start(clinic, day - timedelta(days=1 + common.LATE_DAYS)),
        Booking.starts_at < common.day_start(clinic, day),
        common.nothing_booked(now),
    )
    messages = [
        common.Message(
            booking.patient,
            f"rule:no_show:{booking.id}",
            templates.booking_values(clinic, booking),
        )
        for booking in found
    ]
    return common.deliver(session, clinic=clinic, rule=rule, messages=messages, now=now)
