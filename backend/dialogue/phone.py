"""Phone calls: the attendant's conversation for one call, and what happens when it ends.

The contract with telephony/: `answer` answers each turn (what to say, and
what to listen for, or transfer, or hang up), `talk` and `keep` answer a turn that only
talks from what the last turn left (no reads, one write), `call_ended` takes Twilio's
status callback. They keep the call log (`CallLog`, one row per CallSid): who called, how
far they got (`last_step`, the conversation's step after each turn, with `state_data`, what
the step remembers: the call's conversation lives on its row), the outcome, and the
duration — the input of the phone KPIs.

A call that ends with nothing done for the caller is missed (Twilio never connected it,
or the caller hung up during the greeting) or abandoned (hung up mid-way): staff get a
short alert, and a mobile caller who has not opted out gets one text-back SMS.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, bindparam, update
from sqlalchemy.orm import Session

from backend import notify
from backend.calls import Call
from backend.conversation import phone
from backend.conversation import phone_common as states
from backend.conversation import phone_texts as texts
from backend.conversation.model import Event, Facts, Hangup, PatientInfo, Reply, State
from backend.dialogue import facts, phone_effects, runner
from backend.dialogue import phone_calls as calls
from backend.models import CallLog, CallOutcome, Clinic
from backend.plain import Plain

# Twilio statuses of a call that never reached the attendant.
NOT_CONNECTED = frozenset({"no-answer", "busy", "failed", "canceled"})
# Hanging up here is hanging up during the greeting: a missed call, not an abandoned one.
GREETING_STEPS = frozenset({None, states.IDLE, states.GREETING, states.CONFIRM_CALLER})
# Where a caller who has heard the hours may hang up content: the menu after them, the end.
SETTLED_STEPS = frozenset({states.MENU, states.ANYTHING_ELSE, states.GOODBYE})
TWILIO_STATUS_LENGTH = 24


@dataclass(frozen=True)
class After:
    """What a turn left, for the next turn of the call (`talk`): the call's row, the
    clinic's facts the turn used, the conversation's state, and who the caller is."""

    call_id: int
    clinic: facts.ClinicFacts
    state: State
    patient: PatientInfo | None


@dataclass(frozen=True)
class Answered:
    """One turn's answer, and what it left (None when the call was already over)."""

    replies: tuple[Reply, ...]
    after: After | None


def answer(
    session: Session,
    *,
    clinic_id: int,
    call_sid: str,
    caller: str,
    event: Event,
    now: datetime,
    config_token: str | None = None,
) -> Answered:
    """Answer one turn of a call: what to say, and what to listen for (or transfer, hang
    up), with what the turn left for the next one.

    `caller` is the caller's number as Twilio gives it (E.164, or "" when withheld);
    `config_token` the clinic's, when the caller read it in this transaction. The
    conversation is kept on the call's row: its step in `last_step`, what the step
    remembers in `state_data`."""
    call, patient = calls.answering(
        session, clinic_id=clinic_id, call_sid=call_sid, caller=caller, now=now
    )
    if call.ended_at is not None:  # a late request of a call that is over
        return Answered((Hangup(),), None)

    # Read once a turn: no phone effect changes what the clinic tells callers (a booking
    # replaces its schedule token, not its config token).
    clinic = facts.clinic_facts(session, clinic_id, token=config_token)
    # The first facts name the caller read with the call's row. An effect may link one:
    # after it, the caller is read again when the row, as the turn last wrote it, names
    # someone else (every write of it goes through calls.change, which keeps it).
    last: list[Facts] = []

    def load() -> Facts:
        known = patient if not last else _caller_now(session, call, last[0].patient)
        last[:] = [facts.of(clinic, now=now, patient=known, subject=call_sid)]
        return last[0]

    state = State(call.last_step or phone.TABLE.start, call.state_data or {})
    replies, state = runner.run(
        session,
        state=state,
        event=event,
        table=phone.TABLE,
        facts=load,
        performers=phone_effects.PERFORMERS,
    )
    calls.change(session, call, last_step=state.name, state_data=dict(state.data))
    return Answered(replies, After(call.id, clinic, state, last[0].patient))


def _caller_now(session: Session, call: Call, before: PatientInfo | None) -> PatientInfo | None:
    """Who the caller is after an effect: as before unless the call's row changed it."""
    row = calls.current(session, call.call_sid)
    if row is not None and row.patient_id == (before.id if before is not None else None):
        return before
    return calls.patient_info(session, call)


def talk(before: After, *, call_sid: str, event: Event, now: datetime) -> Answered | None:
    """The next turn of a call from what the last one left, without the database: for a
    turn that only talks (most do: a menu key, a question asked again). None when the
    turn needs an effect; `answer` then takes it. What it left is written by `keep`."""
    known = facts.of(before.clinic, now=now, patient=before.patient, subject=call_sid)
    step = phone.TABLE.step(before.state, event, known)
    if step.effect is not None:
        return None
    return Answered(step.replies, replace(before, state=step.state))


_LOG = cast(Table, CallLog.__table__)


def keep(connection: Connection, after: After) -> bool:
    """Write the state a `talk` turn left on the call's row; False when the call has
    ended meanwhile (its status callback came first): the turn then just hangs up.

    A plain statement (backend.plain): a turn that only talks is two statements, and
    SQLAlchemy's statement handling cost more than both."""
    params = {"step": after.state.name, "data": dict(after.state.data), "call_id": after.call_id}
    return bool(_KEEP.rowcount(connection, params))


_KEEP = Plain(
    update(_LOG)
    .where(_LOG.c.id == bindparam("call_id"), _LOG.c.ended_at.is_(None))
    .values(last_step=bindparam("step"), state_data=bindparam("data", type_=_LOG.c.state_data.type))
)


def call_ended(
    session: Session,
    *,
    clinic_id: int,
    call_sid: str,
    status: str,
    duration_seconds: int | None,
    now: datetime,
    caller: str = "",
) -> None:
    """Twilio's status callback: record how the call ended; a call that ended before the
    caller got anywhere is a missed or abandoned call (staff alert, text-back SMS).
    `caller` is the callback's From, for a call the attendant never saw."""
    call = calls.locked(session, clinic_id=clinic_id, call_sid=call_sid)
    if call is None:
        # The attendant never answered it (Twilio hung up first, or our webhook failed):
        # a missed call all the same.
        began = now - timedelta(seconds=duration_seconds or 0)
        call = calls.opened(
            session, clinic_id=clinic_id, call_sid=call_sid, caller=caller, now=began
        )
    if call.ended_at is not None:  # a redelivered callback
        return
    if _nothing_done(call):
        missed = status in NOT_CONNECTED or call.last_step in GREETING_STEPS
        call = call._replace(outcome=CallOutcome.MISSED if missed else CallOutcome.ABANDONED)
        _follow_up(session, call, now)
    calls.change(
        session,
        call,
        ended_at=now,
        duration_seconds=duration_seconds,
        twilio_status=status[:TWILIO_STATUS_LENGTH],
        outcome=call.outcome,
        state_data=None,  # the conversation is over; last_step keeps how far it got
    )


def _nothing_done(call: Call) -> bool:
    """Whether the caller hung up before anything was done for them. Hearing the hours is
    something, if they hung up after it; not if they went on and broke off a booking."""
    if call.outcome == CallOutcome.INFORMATION:
        return call.last_step not in SETTLED_STEPS
    return call.outcome == CallOutcome.IN_PROGRESS


def _follow_up(session: Session, call: Call, now: datetime) -> None:
    """Tell staff, and text a mobile caller back with the clinic's LINE link."""
    notify.call_missed(session, call=call, step=texts.step_words(call.last_step), now=now)
    number = calls.caller(call)
    clinic = session.get(Clinic, call.clinic_id)
    if not number or clinic is None:
        return
    calls.text(
        session,
        call=call,
        to=number,
        body=texts.sms_text_back(clinic.name, clinic.line_add_url),
        purpose="phone:text-back",
        key=f"phone:text-back:{call.call_sid}",
        now=now,
        patient_id=call.patient_id,
    )
