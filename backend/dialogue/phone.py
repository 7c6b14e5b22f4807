"""Phone calls: the attendant's conversation for one call, and what happens when it ends.

The two functions are the contract with telephony/: `handle` answers each turn (what to
say, and what to listen for, or transfer, or hang up), `call_ended` takes Twilio's status
callback. Both keep the call log (`CallLog`, one row per CallSid): who called, how far
they got (`last_step`, the conversation's state after each turn), the outcome, and the
duration — the input of the phone KPIs.

A call that ends with nothing done for the caller is missed (Twilio never connected it,
or the caller hung up during the greeting) or abandoned (hung up mid-way): staff get a
short alert, and a mobile caller who has not opted out gets one text-back SMS.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.orm import Session

from backend import notify
from backend.calls import Call
from backend.conversation import phone
from backend.conversation import phone_common as states
from backend.conversation import phone_texts as texts
from backend.conversation.model import Event, Facts, Hangup, PatientInfo, Reply
from backend.dialogue import facts, phone_effects, runner
from backend.dialogue import phone_calls as calls
from backend.models import CallOutcome, Clinic, ConversationState

CHANNEL = "phone"
# Twilio statuses of a call that never reached the attendant.
NOT_CONNECTED = frozenset({"no-answer", "busy", "failed", "canceled"})
# Hanging up here is hanging up during the greeting: a missed call, not an abandoned one.
GREETING_STEPS = frozenset({None, states.IDLE, states.GREETING, states.CONFIRM_CALLER})
# Where a caller who has heard the hours may hang up content: the menu after them, the end.
SETTLED_STEPS = frozenset({states.MENU, states.ANYTHING_ELSE, states.GOODBYE})
TWILIO_STATUS_LENGTH = 24


def handle(
    session: Session,
    *,
    clinic_id: int,
    call_sid: str,
    caller: str,
    event: Event,
    now: datetime,
    config_token: str | None = None,
) -> tuple[Reply, ...]:
    """Answer one turn of a call: what to say, and what to listen for (or transfer, hang up).

    `caller` is the caller's number as Twilio gives it (E.164, or "" when withheld);
    `config_token` the clinic's, when the caller read it in this transaction."""
    call, patient = calls.answering(
        session, clinic_id=clinic_id, call_sid=call_sid, caller=caller, now=now
    )
    if call.ended_at is not None:  # a late request of a call that is over
        return (Hangup(),)

    # Read once a turn: no phone effect changes what the clinic tells callers (a booking
    # replaces its schedule token, not its config token).
    clinic = facts.clinic_facts(session, clinic_id, token=config_token)
    # The first facts name the caller read with the call's row; after an effect, which
    # may link one, the row is read again.
    first: list[PatientInfo | None] = [patient]

    def load() -> Facts:
        known = first.pop() if first else calls.patient_info(session, call)
        return facts.load(
            session, clinic_id=clinic_id, now=now, patient=known, subject=call_sid, known=clinic
        )

    replies, state = runner.converse(
        session,
        clinic_id=clinic_id,
        channel=CHANNEL,
        subject=call_sid,
        event=event,
        now=now,
        table=phone.TABLE,
        facts=load,
        performers=phone_effects.PERFORMERS,
    )
    calls.change(session, call, last_step=state)
    return replies


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
    )
    _forget_conversation(session, clinic_id, call_sid)


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


# Built once and run on the connection: every call ends with it, and the ORM's bulk
# delete (with its session synchronisation) cost more than the statement.
_STATES = cast(Table, ConversationState.__table__)
_FORGET = delete(_STATES).where(
    _STATES.c.clinic_id == bindparam("clinic_id"),
    _STATES.c.channel == CHANNEL,
    _STATES.c.subject == bindparam("subject"),
)


def _forget_conversation(session: Session, clinic_id: int, call_sid: str) -> None:
    """A call's conversation is over for good; its call log keeps how far it got."""
    session.connection().execute(_FORGET, {"clinic_id": clinic_id, "subject": call_sid})
