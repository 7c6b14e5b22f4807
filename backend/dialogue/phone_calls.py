"""The call log and what the phone effects share: one `CallLog` row per call (found by
Twilio's CallSid, the conversation's subject), its outcome, the caller's number, whether
the clinic is open, and the SMS that may follow a call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy
from sqlalchemy import Row, bindparam, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend import outbox, patients
from backend.booking import booking_rules, schedule
from backend.calls import Call
from backend.conversation.model import Effect, Facts, PatientInfo, Result
from backend.conversation.phone_sms import is_mobile
from backend.dialogue import patient_common as common
from backend.dialogue.runner import Performer
from backend.errors import DomainError, Invalid, NotFound
from backend.models import CallLog, CallOutcome, Channel, Patient
from backend.plain import Plain
from backend.savepoint import savepoint

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

# Plain statements on the session's connection, built once: every turn of every call
# reads its call_log row and writes to it, and the ORM's loading and unit of work cost
# more than the statements. Nothing in a turn loads a CallLog through the ORM.
_LOG = cast(sqlalchemy.Table, CallLog.__table__)
_CALL = Plain(
    select(*(_LOG.c[name] for name in Call._fields))
    .where(_LOG.c.clinic_id == bindparam("clinic_id"), _LOG.c.call_sid == bindparam("sid"))
    .with_for_update()
)
# Without values: the SET clause is made of the columns each execution is given.
_CHANGE = Plain(update(_LOG).where(_LOG.c.id == bindparam("call_id")))


def _open(dialect: Any) -> Any:
    # call_sid is unique: of two first requests of one call racing, one row goes in and
    # the other request finds it (and waits for its lock) below.
    return Plain(
        dialect.insert(_LOG)
        .on_conflict_do_nothing(index_elements=["call_sid"])
        .returning(_LOG.c.id)
    )


_OPENS = {"postgresql": _open(postgresql), "sqlite": _open(sqlite)}


# The call rows this transaction read or wrote, by CallSid (in `session.info`): a turn's
# effects work for the call its start read and locked, and reading the row again cost a
# statement each. Every write of a turn goes through `change`, which keeps it current; a
# refused effect's savepoint rolls back, and with it what is kept (`forget`).
_ROWS = "uketsuke.phone_calls.rows"


def _kept(session: Session) -> dict[str, Call]:
    rows: dict[str, Call] = session.info.setdefault(_ROWS, {})
    return rows


def _remember(session: Session, call: Call) -> Call:
    _kept(session)[call.call_sid] = call
    return call


def current(session: Session, call_sid: str) -> Call | None:
    """The call's row as this transaction last read or wrote it; None when not kept (not
    read yet, or a refused effect rolled it back)."""
    return _kept(session).get(call_sid)


def forget(session: Session) -> None:
    """Drop the call rows kept for this transaction: they are read again when needed."""
    session.info.pop(_ROWS, None)


def locked(session: Session, *, clinic_id: int, call_sid: str) -> Call | None:
    """The call's row, locked until the transaction ends (a turn and the status callback
    of one call never interleave)."""
    params = {"clinic_id": clinic_id, "sid": call_sid}
    row = _CALL.first(session.connection(), params)
    return _remember(session, Call(*row)) if row is not None else None


def opened(session: Session, *, clinic_id: int, call_sid: str, caller: str, now: datetime) -> Call:
    """The call's row, created on its first turn (a second request of the same call that
    races this one finds the row instead)."""
    found = locked(session, clinic_id=clinic_id, call_sid=call_sid)
    if found is not None:
        return found
    return _insert(session, clinic_id=clinic_id, call_sid=call_sid, caller=caller, now=now)


# The call's row with its caller's name, for the start of a turn: one statement, not two.
_ANSWERING = Plain(
    select(*(_LOG.c[name] for name in Call._fields), Patient.name.label("patient_name"))
    .outerjoin(Patient, Patient.id == _LOG.c.patient_id)
    .where(_LOG.c.clinic_id == bindparam("clinic_id"), _LOG.c.call_sid == bindparam("sid"))
    .with_for_update(of=_LOG)
)


def answering(
    session: Session, *, clinic_id: int, call_sid: str, caller: str, now: datetime
) -> tuple[Call, PatientInfo | None]:
    """`opened`, and who the caller is as the row says (`patient_info`), read together."""
    params = {"clinic_id": clinic_id, "sid": call_sid}
    row = _ANSWERING.first(session.connection(), params)
    if row is None:
        call = _insert(session, clinic_id=clinic_id, call_sid=call_sid, caller=caller, now=now)
        # Linked only if a racing first request of the call opened the row and linked one.
        return call, patient_info(session, call) if call.patient_id is not None else None
    call = _remember(session, Call(*row[: len(Call._fields)]))
    if call.patient_id is None or row.patient_name is None:
        return call, None
    return call, PatientInfo(call.patient_id, row.patient_name)


def _insert(session: Session, *, clinic_id: int, call_sid: str, caller: str, now: datetime) -> Call:
    call = Call(
        id=0,
        clinic_id=clinic_id,
        call_sid=call_sid,
        from_number=caller or None,
        patient_id=None,
        booking_id=None,
        outcome=CallOutcome.IN_PROGRESS,
        last_step=None,
        started_at=now,
        ended_at=None,
        state_data=None,
    )
    connection = session.connection()
    values = call._asdict()
    del values["id"]
    call_id = _OPENS[connection.dialect.name].scalar(connection, values)
    if call_id is None:
        found = locked(session, clinic_id=clinic_id, call_sid=call_sid)
        assert found is not None
        return found
    return _remember(session, call._replace(id=call_id))


def of(session: Session, facts: Facts) -> Call:
    """The call a phone effect works for (the conversation's subject is the CallSid), as
    this transaction last read or wrote it."""
    known = _kept(session).get(facts.subject)
    if known is not None and known.clinic_id == facts.clinic.id:
        return known
    call = locked(session, clinic_id=facts.clinic.id, call_sid=facts.subject)
    if call is None:
        raise NotFound("call not found", field="call_sid")
    return call


def change(session: Session, call: Call, **values: Any) -> None:
    """Write some columns of the call's row."""
    _CHANGE.execute(session.connection(), {"call_id": call.id, **values})
    rows = _kept(session)
    kept = rows.get(call.call_sid)
    if kept is not None:
        rows[call.call_sid] = kept._replace(**{k: v for k, v in values.items() if k in _FIELDS})


_FIELDS = frozenset(Call._fields)


def weightier(outcome: CallOutcome, than: CallOutcome) -> CallOutcome:
    """`outcome` when it says the call got somewhere weightier than `than`, else `than`."""
    return outcome if _WEIGHT.get(outcome, 0) > _WEIGHT.get(than, 0) else than


def note(session: Session, call: Call, outcome: CallOutcome) -> None:
    """Record how far the call got, unless it already got somewhere weightier."""
    if weightier(outcome, call.outcome) != call.outcome:
        change(session, call, outcome=outcome)


def caller(call: Call) -> str:
    """The caller's number in E.164, or "" when withheld or not a phone number."""
    try:
        return patients.normalize_phone(call.from_number or "")
    except Invalid:
        return ""


_CALLER = Plain(
    select(Patient.id, Patient.name)
    .join(_LOG, _LOG.c.patient_id == Patient.id)
    .where(_LOG.c.id == bindparam("call_id"))
)


def patient_info(session: Session, call: Call) -> PatientInfo | None:
    """Who the caller is, once known (confirmed, or registered by a request), as the call's
    row says now: an effect of this turn may have just set it."""
    row = _CALLER.first(session.connection(), {"call_id": call.id})
    return PatientInfo(row.id, row.name) if row is not None else None


# Only ids and names, as a plain statement built once: most callers are new, and loading
# whole カルテ through the ORM to compare names costs more than the rest of the lookup.
_WITH_NUMBER = Plain(
    select(Patient.id, Patient.name).where(
        Patient.clinic_id == bindparam("clinic_id"),
        Patient.phone == bindparam("number"),
        Patient.merged_into_id.is_(None),
    )
)


def with_number(session: Session, clinic_id: int, number: str) -> Sequence[Row[int, str]]:
    """The id and name of each patient (not merged away) with this phone number."""
    params = {"clinic_id": clinic_id, "number": number}
    rows: Sequence[Row[int, str]] = _WITH_NUMBER.all(session.connection(), params)
    return rows


def is_open(session: Session, clinic_id: int, now: datetime) -> bool:
    """Whether `now` is inside the clinic's opening hours (closed days and, if the clinic
    closes on them, public holidays count as closed)."""
    rules = booking_rules(session, clinic_id)
    return schedule.is_open(session, clinic=rules, now=now)


# Built once and run on the connection: every call that ends in an SMS asks it, twice
# when it books. It does not flush the session first: patients.create and update flush
# their changes themselves.
_OPTED_OUT = Plain(
    select(
        exists().where(
            Patient.clinic_id == bindparam("clinic_id"),
            Patient.phone == bindparam("number"),
            Patient.sms_opted_out.is_(True),
        )
    )
)


def opted_out(session: Session, clinic_id: int, number: str) -> bool:
    """Whether anyone with this number asked for no SMS (DESIGN rule 6): the number, not
    one カルテ, is what receives it."""
    params = {"clinic_id": clinic_id, "number": number}
    return bool(_OPTED_OUT.scalar(session.connection(), params))


def text(
    session: Session,
    *,
    call: Call,
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


def performer(
    performers: dict[str, Performer], name: str, *, reads: bool = False
) -> Callable[[Body], Body]:
    """Register `body` as the performer of effect `name`. It runs in a savepoint, so a
    refusal of the domain (DomainError) leaves nothing half done and becomes a failed
    Result naming its code. An effect that only `reads` has nothing to undo: it runs
    without one (a savepoint is two statements)."""

    def register(body: Body) -> Body:
        def perform(session: Session, facts: Facts, effect: Effect) -> Result:
            try:
                if reads:
                    found = body(session, facts, effect.args)
                else:
                    with savepoint(session):
                        found = body(session, facts, effect.args)
            except DomainError as err:
                forget(session)  # what the effect changed was rolled back
                return Result(name, ok=False, data=common.refusal(err))
            return found if isinstance(found, Result) else Result(name, data=found)

        performers[name] = perform
        return body

    return register
