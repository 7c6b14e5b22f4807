"""The ledger work behind the phone conversation (backend.conversation.phone).

Each performer takes (session, facts, effect) and answers a `Result` of the effect's name;
it runs in a savepoint and flushes, never commits: the webhook's transaction holds the
conversation state, the call log, the booking and the outbox rows together. The call is
`facts.subject` (Twilio's CallSid); `facts.patient` is the caller once known.

Free times are found exactly as for LINE (the patient `find_slots` performer); booking,
changing and cancelling are in phone_bookings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from backend import notify, patients
from backend.conversation import patient_common
from backend.conversation import phone_common as effects
from backend.conversation import phone_texts as texts
from backend.conversation.model import Facts
from backend.conversation.phone_sms import is_mobile
from backend.dialogue import patient_free_time, phone_bookings
from backend.dialogue import phone_calls as calls
from backend.dialogue.runner import Performer
from backend.errors import Invalid, NotFound
from backend.models import Booking, BookingStatus, CallOutcome, Patient
from backend.plain import Plain

OUTCOMES = {"information": CallOutcome.INFORMATION, "transferred": CallOutcome.TRANSFERRED}
_KEPT = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)

PERFORMERS: dict[str, Performer] = {
    effects.FIND_SLOTS: patient_free_time.PERFORMERS[patient_common.FIND_SLOTS],
    **phone_bookings.PERFORMERS,
}


def _performs(name: str, *, reads: bool = False) -> Callable[[calls.Body], calls.Body]:
    return calls.performer(PERFORMERS, name, reads=reads)


@_performs(effects.STATUS, reads=True)
def _status(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    """Open or closed now, the caller's number, and the one カルテ it belongs to (if one)."""
    call = calls.of(session, facts)
    number = calls.caller(call)
    return {
        "open": calls.is_open(session, facts.clinic.id, facts.now),
        "caller": number,
        "patient": _candidate(session, facts, number) if number else None,
    }


# Built once: every call asks for the caller's カルテ on its first turn.
_LAST_COURSE = Plain(
    select(Booking.course_id)
    .where(Booking.patient_id == bindparam("patient_id"), Booking.status.in_(_KEPT))
    .order_by(Booking.starts_at.desc())
    .limit(1)
)


def _candidate(session: Session, facts: Facts, number: str) -> dict[str, Any] | None:
    found = calls.with_number(session, facts.clinic.id, number)
    if len(found) != 1:  # nobody, or a family sharing the phone: ask no one by name
        return None
    params = {"patient_id": found[0].id}
    last = _LAST_COURSE.scalar(session.connection(), params)
    return {"id": found[0].id, "name": found[0].name, "course_id": last}


@_performs(effects.IDENTIFY)
def _identify(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    """The caller said they are the カルテ's patient: the call is theirs from now on."""
    call = calls.of(session, facts)
    patient_id = args.get("patient_id")
    patient = session.get(Patient, patient_id) if isinstance(patient_id, int) else None
    number = calls.caller(call)
    if (
        patient is None
        or patient.clinic_id != facts.clinic.id
        or patient.merged_into_id is not None
        or not number
        or patient.phone != number
    ):
        raise NotFound("patient not found", field="patient_id")
    calls.change(session, call, patient_id=patient.id)
    return {"patient_id": patient.id}


@_performs(effects.OUTCOME)
def _outcome(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    """Note that the caller heard the hours, or was put through to staff."""
    outcome = OUTCOMES.get(str(args.get("outcome")))
    if outcome is None:
        raise Invalid("unknown outcome", field="outcome")
    calls.note(session, calls.of(session, facts), outcome)
    return {"outcome": str(args.get("outcome"))}


@_performs(effects.CALLBACK)
def _callback(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    """Staff are asked to call back: a card with the number and why (after the deadline of
    a change, the late-change card names the booking)."""
    call = calls.of(session, facts)
    reason = str(args.get("reason", effects.FAILED))
    number = _keyed_number(args.get("number")) or calls.caller(call)
    if not number:
        raise Invalid("no number to call back", field="number")
    late = args.get("booking_id") if reason == effects.LATE_CHANGE else None
    if isinstance(late, int):
        found = session.get(Booking, late)
        if found is None or found.patient.phone != calls.caller(call):
            raise NotFound("booking not found", field="booking_id")
        notify.late_cancel_attempt(session, booking=found, now=facts.now, change=True)
    else:
        words = texts.CALLBACK_REASONS.get(reason, texts.CALLBACK_REASONS[effects.FAILED])
        notify.callback_requested(session, call=call, reason=words, number=number, now=facts.now)
    calls.note(session, call, CallOutcome.CALLBACK_REQUESTED)
    return {"reason": reason, "number": number}


def _keyed_number(value: object) -> str:
    if not isinstance(value, str) or not value:
        return ""
    return patients.normalize_phone(value)


# The booking an SMS confirms and its patient, as a plain statement built once: the SMS
# follows the request in the same turn, which wrote the booking without the ORM.
_BOOKED = Plain(
    select(
        Booking.id,
        Booking.starts_at,
        Booking.status,
        Booking.patient_id,
        Patient.phone,
        Patient.sms_opted_out,
    )
    .join(Patient, Patient.id == Booking.patient_id)
    .where(Booking.id == bindparam("booking_id"))
)


@_performs(effects.SMS)
def _sms(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    """The request's confirmation by SMS, to the caller's mobile or one they keyed in."""
    call = calls.of(session, facts)
    booking_id = args.get("booking_id")
    made = None
    if booking_id:
        made = _BOOKED.first(session.connection(), {"booking_id": booking_id})
    if made is None or made.id != call.booking_id:
        raise NotFound("booking not found", field="booking_id")
    to = _keyed_number(args.get("to")) or calls.caller(call)
    if not is_mobile(to):
        raise Invalid("not a Japanese mobile number", field="to")
    if made.phone is None:  # a withheld caller: the number they keyed reaches them
        patients.update(
            session, patient_id=made.patient_id, actor=calls.ACTOR, now=facts.now, phone=to
        )
    local = made.starts_at.astimezone(facts.now.tzinfo)
    body = texts.sms_request(facts, start=local, confirmed=made.status == BookingStatus.CONFIRMED)
    sent = not made.sms_opted_out and calls.text(
        session,
        call=call,
        to=to,
        body=body,
        purpose="phone:request",
        key=f"phone:request:{call.call_sid}:{made.id}",
        now=facts.now,
        patient_id=made.patient_id,
    )
    return {"sent": sent, "to": to}
