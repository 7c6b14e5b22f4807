"""The front desk: a booked patient came (来院, with what they paid at the desk) or did not
(無断キャンセル), from 今日の予約; a patient came without a booking (飛び込み), from the カルテ.

The same booking engine steps as `POST /api/bookings/{id}/complete` and `/no-show`: 来院
completes the booking and creates its visit (施術録 entry) with the payments; the form
offers the course's price, and a 窓口負担 or 自費 left blank is that price too. Each function
flushes and leaves the commit to the route; the booking steps answer with a notice code for
the redirect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from backend import booking, visits
from backend.models import Booking, BookingStatus
from backend.payments import Payments
from backend.web import form_text
from backend.web.answers import ACTOR

MAX_YEN = 1_000_000  # one visit's desk payment; more is a slip of the keyboard
FIELDS = ("copay", "self_pay", "ticket")
LABELS = {"copay": "窓口負担（保険）", "self_pay": "自費", "ticket": "回数券"}


@dataclass(frozen=True)
class Entry:
    """A 来院 form as typed, and what was wrong with it (field → message); `booking_id` is
    the booking's on 今日の予約, None for a walk-in's on the カルテ."""

    booking_id: int | None
    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def read(booking_id: int | None, typed: dict[str, str]) -> tuple[Entry, Payments | None]:
    """The form's amounts as payments (a blank 窓口負担 or 自費 is the course's price, a
    blank 回数券 none), or the entry with a message for each wrong one."""
    amounts: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        text = typed.get(name, "").strip()
        value = form_text.yen(text) if text else None
        if text and (value is None or value > MAX_YEN):
            errors[name] = f"{LABELS[name]}は0円から{MAX_YEN:,}円までの整数で入力してください。"
        else:
            amounts[name] = value
    entry = Entry(booking_id, typed, errors)
    if errors:
        return entry, None
    paid = Payments(
        copay_yen=amounts["copay"],
        self_pay_yen=amounts["self_pay"],
        ticket_yen=amounts["ticket"] or 0,
    )
    return entry, paid


def arrived(
    session: Session, *, clinic_id: int, booking_id: int, paid: Payments, now: datetime
) -> str:
    """Complete a confirmed booking that has started, with what was paid; a notice code."""
    found = _confirmed(session, clinic_id, booking_id)
    if found is None:
        return "desk_gone"
    if now < found.starts_at:
        return "not_started"
    booking.complete(session, booking_id=booking_id, actor=ACTOR, now=now, payments=paid)
    return "arrived"


def no_show(session: Session, *, clinic_id: int, booking_id: int, now: datetime) -> str:
    """Record that the patient of a confirmed booking that has started did not come."""
    found = _confirmed(session, clinic_id, booking_id)
    if found is None:
        return "desk_gone"
    if now < found.starts_at:
        return "not_started"
    booking.mark_no_show(session, booking_id=booking_id, actor=ACTOR, now=now)
    return "no_show"


def walk_in(
    session: Session,
    *,
    clinic_id: int,
    patient_id: int,
    course: str,
    staff: str,
    paid: Payments,
    now: datetime,
) -> int:
    """Record a visit without a booking (飛び込み) now, with its course, staff member and
    what was paid; the visit's id (the domain refuses a course, staff member or patient of
    another clinic)."""
    visit = visits.record(
        session,
        clinic_id=clinic_id,
        patient_id=patient_id,
        actor=ACTOR,
        now=now,
        course_id=form_text.number(course),
        staff_id=form_text.number(staff),
        payments=paid,
    )
    return visit.id


def _confirmed(session: Session, clinic_id: int, booking_id: int) -> Booking | None:
    """The clinic's booking, if it is still confirmed (someone else may have recorded it)."""
    found = session.get(Booking, booking_id)
    if found is None or found.clinic_id != clinic_id:
        return None
    return found if found.status == BookingStatus.CONFIRMED else None
