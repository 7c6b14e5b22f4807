"""Phone KPIs from the call log: how many calls the attendant took, turned into requests, and
how many of the calls that needed a call back were recovered."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from backend.kpi import calendar, ledger
from backend.kpi.report import PhoneReport, rate
from backend.models import Booking, CallLog, CallOutcome, Patient

# The calls staff are asked to return (as the daily digest lists them).
TO_FOLLOW_UP = (CallOutcome.MISSED, CallOutcome.ABANDONED, CallOutcome.CALLBACK_REQUESTED)
# A caller who books within this long after the call was recovered, whoever called whom.
RECOVERY_DAYS = 7


def phone(session: Session, *, clinic_id: int, month: date) -> PhoneReport:
    """The calls that started in `month`'s month, by how they went."""
    zone = calendar.clinic_zone(session, clinic_id)
    first = calendar.first_of(month)
    edges = calendar.month_edges([first], zone)
    outcomes = Counter(
        dict(
            session.execute(
                select(CallLog.outcome, func.count())
                .where(CallLog.clinic_id == clinic_id, calendar.within(CallLog.started_at, edges))
                .group_by(CallLog.outcome)
            ).all()
        )
    )
    calls = outcomes.total()
    answered = calls - outcomes[CallOutcome.MISSED]
    to_follow_up = sum(outcomes[outcome] for outcome in TO_FOLLOW_UP)
    recovered = _recovered(session, clinic_id, edges)
    return PhoneReport(
        month=first,
        calls=calls,
        answered=answered,
        requests=outcomes[CallOutcome.REQUEST_MADE],
        transferred=outcomes[CallOutcome.TRANSFERRED],
        callbacks=outcomes[CallOutcome.CALLBACK_REQUESTED],
        missed=outcomes[CallOutcome.MISSED],
        abandoned=outcomes[CallOutcome.ABANDONED],
        to_follow_up=to_follow_up,
        recovered=recovered,
        recovery_rate=rate(recovered, to_follow_up),
        answer_rate=rate(answered, calls),
        request_rate=rate(outcomes[CallOutcome.REQUEST_MADE], answered),
    )


def _recovered(session: Session, clinic_id: int, edges: list[datetime]) -> int:
    """Calls to follow up that staff marked done, or whose caller booked soon after."""
    calls = session.execute(
        select(CallLog.patient_id, CallLog.from_number, CallLog.started_at, CallLog.followed_up_at)
        .where(
            CallLog.clinic_id == clinic_id,
            CallLog.outcome.in_(TO_FOLLOW_UP),
            calendar.within(CallLog.started_at, edges),
        )
        .order_by(CallLog.started_at)
    ).all()
    pending = [call for call in calls if call.followed_up_at is None]
    booked = _bookings_by_caller(
        session,
        clinic_id,
        patient_ids={call.patient_id for call in pending if call.patient_id is not None},
        numbers={call.from_number for call in pending if call.from_number is not None},
        edges=edges,
    )
    window = timedelta(days=RECOVERY_DAYS)
    recovered = len(calls) - len(pending)
    for call in pending:
        made = booked.get(("patient", call.patient_id), []) + booked.get(
            ("phone", call.from_number), []
        )
        recovered += any(call.started_at <= at < call.started_at + window for at in made)
    return recovered


def _bookings_by_caller(
    session: Session,
    clinic_id: int,
    *,
    patient_ids: set[int],
    numbers: set[str],
    edges: list[datetime],
) -> dict[tuple[str, object], list[datetime]]:
    """When the callers' bookings were made, keyed by ("patient", id) and ("phone", number)."""
    if not patient_ids and not numbers:
        return {}
    rows = session.execute(
        select(Booking.patient_id, Patient.phone, Booking.created_at)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(
            Booking.clinic_id == clinic_id,
            Booking.status.not_in(ledger.NEVER_BOOKED),
            or_(Booking.patient_id.in_(patient_ids), Patient.phone.in_(numbers)),
            Booking.created_at >= edges[0],
            Booking.created_at < edges[-1] + timedelta(days=RECOVERY_DAYS),
        )
    )
    found: dict[tuple[str, object], list[datetime]] = defaultdict(list)
    for patient_id, number, created_at in rows:
        found[("patient", patient_id)].append(created_at)
        if number is not None:
            found[("phone", number)].append(created_at)
    return found
