"""The call log and what the phone effects share: one `CallLog` row per call (found by
Twilio's CallSid, the conversation's subject), its outcome, the caller's number, whether
the clinic is open, and the SMS that may follow a call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import outbox, patients
from backend.booking import schedule
from backend.conversation.model import Effect, Facts, PatientInfo, Result
from backend.conversation.phone_sms import is_mobile
from backend.dialogue import patient_common as common
from backend.dialogue.runner import Performer
from backend.errors import DomainError, Invalid, NotFound
from backend.models import CallLog, CallOutcome, Channel, Clinic, Patient

ACTOR = "patient:phone"

# An outcome is replaced only by a weightier one: a caller who heard the hours and then
# booked made a request; one who booked and then asked for staff still made a request.
_WEIGHT = {
    CallOutcome.IN_PROGRESS: 0,
    CallOutcome.INFORMATION: 1,
    CallOutcome.CALLBACK_REQUESTED: 2,
    CallOutcome.TRANSFERRED: 3,
    CallOutcome.CANCELLED: 4,
    CallOutcome.CHANGED: 5,
    CallOutcome.REQUEST_MADE: 6,
}

_CALL = (
    select(CallLog)
    .where(CallLog.clinic_id == bindparam("clinic_id"), CallLog.call_sid == bindparam("sid"))
    .with_for_update()
)


def locked(session: Session, *, clinic_id: int, call_sid: str) -> CallLog | None:
    """The call's row, locked until the transaction ends (a turn and the status callback
    of one call never interleave)."""
    return session.scalar(_CALL, {"clinic_id": clinic_id, "sid": call_sid})


def opened(
    session: Session, *, clinic_id: int, call_sid: str, caller: str, now: datetime
) -> CallLog:
    """The call's row, created on its first turn (call_sid is unique: a second request of
    the same call that races this one finds the row instead)."""
    found = locked(session, clinic_id=clinic_id, call_sid=call_sid)
    if found is not None:
        return found
    call = CallLog(
        clinic_id=clinic_id,
        call_sid=call_sid,
        from_number=caller or None,
        outcome=CallOutcome.IN_PROGRESS,
        started_at=now,
    )
    try:
        with session.begin_nested():
            session.add(call)
    except IntegrityError:
        found = locked(session, clinic_id=clinic_id, call_sid=call_sid)
        assert found is not None
        return found
    return call


def of(session: Session, facts: Facts) -> CallLog:
    """The call a phone effect works for (the conversation's subject is the CallSid)."""
    call = locked(session, clinic_id=facts.clinic.id, call_sid=facts.subject)
    if call is None:
        raise NotFound("call not found", field="call_sid")
    return call


def note(call: CallLog, outcome: CallOutcome) -> None:
    """Record how far the call got, unless it already got somewhere weightier."""
    if _WEIGHT.get(outcome, 0) > _WEIGHT.get(call.outcome, 0):
        call.outcome = outcome


def caller(call: CallLog) -> str:
    """The caller's number in E.164, or "" when withheld or not a phone number."""
    try:
        return patients.normalize_phone(call.from_number or "")
    except Invalid:
        return ""


def patient_info(session: Session, call: CallLog) -> PatientInfo | None:
    """Who the caller is, once known (confirmed, or registered by a request)."""
    patient = session.get(Patient, call.patient_id) if call.patient_id else None
    return PatientInfo(patient.id, patient.name) if patient is not None else None


def is_open(session: Session, clinic: Clinic, now: datetime) -> bool:
    """Whether `now` is inside the clinic's opening hours (closed days and, if the clinic
    closes on them, public holidays count as closed)."""
    return schedule.is_open(session, clinic=clinic, now=now)


def opted_out(session: Session, clinic_id: int, number: str) -> bool:
    """Whether anyone with this number asked for no SMS (DESIGN rule 6): the number, not
    one カルテ, is what receives it."""
    refused = exists().where(
        Patient.clinic_id == clinic_id, Patient.phone == number, Patient.sms_opted_out.is_(True)
    )
    return bool(session.scalar(select(refused)))


def text(
    session: Session,
    *,
    call: CallLog,
    to: str,
    body: str,
    purpose: str,
    key: str,
    now: datetime,
    patient_id: int | None = None,
) -> bool:
    """Queue an SMS to a Japanese mobile that has not opted out; tell whether it was."""
    if not is_mobile(to) or opted_out(session, call.clinic_id, to):
        return False
    outbox.enqueue(
        session,
        clinic_id=call.clinic_id,
        channel=Channel.SMS,
        recipient=to,
        payload={"text": body},
        purpose=purpose,
        now=now,
        idempotency_key=key,
        patient_id=patient_id,
    )
    return True


Body = common.Body


def performer(performers: dict[str, Performer], name: str) -> Callable[[Body], Body]:
    """Register `body` as the performer of effect `name`. It runs in a savepoint, so a
    refusal of the domain (DomainError) leaves nothing half done and becomes a failed
    Result naming its code."""

    def register(body: Body) -> Body:
        def perform(session: Session, facts: Facts, effect: Effect) -> Result:
            try:
                with session.begin_nested():
                    found = body(session, facts, effect.args)
            except DomainError as err:
                return Result(name, ok=False, data=common.refusal(err))
            return found if isinstance(found, Result) else Result(name, data=found)

        performers[name] = perform
        return body

    return register
