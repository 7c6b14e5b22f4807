"""The work behind each Twilio webhook, one transaction each: record the step in the inbox,
let the attendant answer, render the TwiML, keep it, commit.

A call's steps are recorded as `<CallSid>:<turn>` (the greeting is turn 0, every Gather or
Dial answer the turn number its URL carries), so a step Twilio sends again inserts nothing
and is answered with the TwiML kept from the first time: the conversation never advances
twice. The TwiML depends on the attendant's answer, so the work is done before answering,
not after as for LINE; what the attendant queued (an SMS, a note to the staff group) is
sent after the answer, by the outbox.

Most turns only talk: a menu key, a day asked for, a question asked again. When this
process answered the call's previous turn, it remembers what that turn left (`Left`, one
per app: the call's row, the clinic's facts, the conversation's state, the caller), and a
turn that needs no effect is answered from it: the call's state is written and the step
recorded with its TwiML, two statements in one short transaction, where a turn through
the database reads the clinic, the call and the caller first. Any other turn (an effect,
a call another process answered last, a step sent again) goes through the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from backend import booking, inbox, outbox
from backend.api.deps import Store
from backend.bounded import Bounded
from backend.conversation.model import Dialed, Event, Hangup, Reply, Transfer
from backend.dialogue import phone
from backend.models import InboundEvent
from backend.plain import Plain
from backend.settings import Settings
from telephony import clinics, twiml

log = logging.getLogger(__name__)

SOURCE = "twilio"
# Calls whose last turn a `Left` remembers: far more than a clinic's lines ring at once.
LEFT_CALLS = 4096


@dataclass(frozen=True)
class Answer:
    """The TwiML of a step, whether the step was new (not a redelivery) and whether it
    queued messages to send."""

    twiml: str
    new: bool
    queued: bool = False


class TransferLoop(RuntimeError):
    """The attendant asked to ring the staff again right after hearing nobody could answer."""


@dataclass(frozen=True)
class Step:
    """One thing Twilio told us about a call, translated."""

    call_sid: str
    turn: int
    kind: str  # "call", "turn" or "dialed"
    caller: str  # E.164, or "" when withheld
    called: str  # the clinic's number the caller dialled
    event: Event
    form: dict[str, str]  # as Twilio sent it, kept in the inbox


def answer(
    store: Store, step: Step, *, settings: Settings, now: datetime, left: Left | None = None
) -> Answer:
    """The TwiML for a step; for a step seen before, the TwiML it was answered with.
    `left`: what this process's last turns of calls left (the app's), else nothing."""
    left = left if left is not None else Left(size=0)
    before = left.get(step.call_sid, step.turn - 1)
    if before is not None:
        talked = phone.talk(before, call_sid=step.call_sid, event=step.event, now=now)
        if talked is not None and talked.after is not None and _renders(talked, settings):
            return _talk(store, step, talked, left, settings=settings, now=now)
    try:
        return _through_database(store, step, left, settings=settings, now=now, late=True)
    except booking.ScheduleMoved:
        # A booking's place was taken while the turn went on: the whole turn again, this
        # time with the schedule locked from the request on (it then finds the place gone).
        log.info(
            "Twilio turn %s:%d runs again: a booking's place was taken meanwhile",
            step.call_sid,
            step.turn,
        )
        return _through_database(store, step, left, settings=settings, now=now, late=False)


def _through_database(
    store: Store, step: Step, left: Left, *, settings: Settings, now: datetime, late: bool
) -> Answer:
    """A turn in one transaction: the step recorded, the conversation and its effects, the
    call's state, the TwiML kept with the step. `late`: a booking request checks its place
    as the transaction commits (booking.check_late), so the schedule is not locked for the
    rest of the turn."""
    with store.transaction() as session:
        if late:
            booking.check_late(session)
        clinic = clinics.resolved(session, configured=settings.twilio.clinic_id, called=step.called)
        event_id = _record(session, step, clinic.id, now)
        if event_id is None:
            return Answer(
                _answered_before(session.connection(), _external_id(step), settings), new=False
            )
        answered = _replies(session, clinic, step, settings, now)
        document = twiml.render(
            answered.replies, line=line(settings, step), next_turn=step.turn + 1
        )
        _keep(session.connection(), event_id, {"form": step.form, "twiml": document}, now)
        queued = outbox.take_queued(session)
    left.put(step.call_sid, step.turn, answered.after)
    return Answer(document, new=True, queued=queued)


def _talk(
    store: Store,
    step: Step,
    talked: phone.Answered,
    left: Left,
    *,
    settings: Settings,
    now: datetime,
) -> Answer:
    """A turn that only talks, from what the call's last turn left in this process: the
    step recorded with its TwiML and the call's state written, in one short transaction
    and two statements. A call that ended meanwhile just hangs up."""
    after = talked.after
    assert after is not None
    document = twiml.render(talked.replies, line=line(settings, step), next_turn=step.turn + 1)
    with store.begin() as connection:
        # The state first: a step sent again writes the same state (the same answer from
        # the same last turn), and the inbox then answers it as the first time.
        going_on = phone.keep(connection, after)
        if not going_on:
            document = twiml.render((Hangup(),), line=line(settings, step), next_turn=0)
        recorded = inbox.record_many(
            connection,
            source=SOURCE,
            rows=[_new_event(step, document, now)],
            clinic_id=after.clinic.clinic.id,
            handled_at=now,
        )
        if not recorded:
            return Answer(_answered_before(connection, _external_id(step), settings), new=False)
    if going_on:
        left.put(step.call_sid, step.turn, after)
    else:
        left.forget(step.call_sid)
    return Answer(document, new=True)


def _new_event(step: Step, document: str, now: datetime) -> inbox.NewEvent:
    payload = {"form": step.form, "twiml": document}
    return inbox.NewEvent(_external_id(step), step.kind, payload, now)


def _renders(talked: phone.Answered, settings: Settings) -> bool:
    """Whether a turn's replies can be answered as they are: a transfer with no staff
    phone to ring is answered as a transfer nobody picked up, which `_replies` does."""
    return bool(settings.twilio.staff_numbers) or _transfer_at(talked.replies) is None


def _external_id(step: Step) -> str:
    return f"{step.call_sid}:{step.turn}"


def _record(session: Session, step: Step, clinic_id: int, now: datetime) -> int | None:
    """Record the step in the inbox (None: seen before); its TwiML is kept once known."""
    return inbox.record(
        session,
        source=SOURCE,
        external_id=_external_id(step),
        kind=step.kind,
        payload={"form": step.form},
        now=now,
        clinic_id=clinic_id,
    )


class Left:
    """What the last turn of each recent call left, in this process: the next turn of the
    call, when it only talks, needs nothing from the database. Only the turn right after
    is answered from it; a call whose turns another process answered, or a step sent
    again, goes through the database."""

    def __init__(self, size: int = LEFT_CALLS) -> None:
        # A get does not make a call recent: every turn answered puts it again.
        self._calls: Bounded[str, tuple[int, phone.After]] = Bounded(size)

    @property
    def size(self) -> int:
        """How many calls are remembered at most."""
        return self._calls.size

    def get(self, call_sid: str, turn: int) -> phone.After | None:
        """What turn `turn` of the call left, if this process answered it last."""
        found = self._calls.peek(call_sid)
        return found[1] if found is not None and found[0] == turn else None

    def put(self, call_sid: str, turn: int, after: phone.After | None) -> None:
        if after is None:
            self._calls.pop(call_sid)
        else:
            self._calls.put(call_sid, (turn, after))

    def forget(self, call_sid: str | None = None) -> None:
        """Forget a call (it ended), or every call."""
        if call_sid is None:
            self._calls.clear()
        else:
            self._calls.pop(call_sid)


def line(settings: Settings, step: Step) -> twiml.Line:
    """The rendering settings for a call to `step.called`."""
    return twiml.Line(
        base_url=settings.public_base_url,
        voice=settings.twilio.voice,
        staff_numbers=tuple(settings.twilio.staff_numbers),
        ring_seconds=settings.twilio.ring_seconds,
        caller_id=step.called,
    )


def _handle(
    session: Session, clinic: clinics.Resolved, step: Step, event: Event, now: datetime
) -> phone.Answered:
    return phone.answer(
        session,
        clinic_id=clinic.id,
        call_sid=step.call_sid,
        caller=step.caller,
        event=event,
        now=now,
        config_token=clinic.config_token,
    )


def _replies(
    session: Session, clinic: clinics.Resolved, step: Step, settings: Settings, now: datetime
) -> phone.Answered:
    """The attendant's answer; a transfer with no staff phone configured is answered at
    once as a transfer nobody picked up."""
    answered = _handle(session, clinic, step, step.event, now)
    transfer = _transfer_at(answered.replies)
    if transfer is None or settings.twilio.staff_numbers:
        return answered
    after = _handle(session, clinic, step, Dialed(answered=False), now)
    if _transfer_at(after.replies) is not None:
        raise TransferLoop("the attendant transferred again after an unanswered transfer")
    return phone.Answered(answered.replies[:transfer] + after.replies, after.after)


def _transfer_at(replies: tuple[Reply, ...]) -> int | None:
    return next((i for i, reply in enumerate(replies) if isinstance(reply, Transfer)), None)


_PAYLOAD = Plain(
    select(InboundEvent.payload).where(
        InboundEvent.source == SOURCE, InboundEvent.external_id == bindparam("external_id")
    )
)
_KEEP = Plain(
    update(InboundEvent)
    .where(InboundEvent.id == bindparam("event_id"))
    .values(
        payload=bindparam("kept", type_=InboundEvent.__table__.c.payload.type),
        processed_at=bindparam("handled_at"),
    )
)


def _keep(connection: Connection, event_id: int, payload: dict[str, Any], now: datetime) -> None:
    """Store the step's TwiML with it, and mark it handled."""
    _KEEP.execute(connection, {"event_id": event_id, "kept": payload, "handled_at": now})


def _answered_before(connection: Connection, external_id: str, settings: Settings) -> str:
    payload = _PAYLOAD.scalar(connection, {"external_id": external_id})
    document = payload.get("twiml") if isinstance(payload, dict) else None
    if isinstance(document, str):
        return document
    log.warning("Twilio step %s was recorded without its TwiML", external_id)
    return twiml.apology(settings.twilio.voice)


def end(
    store: Store,
    *,
    call_sid: str,
    called: str,
    caller: str,
    status: str,
    duration_seconds: int | None,
    form: dict[str, str],
    settings: Settings,
    now: datetime,
    left: Left | None = None,
) -> bool:
    """Record how a call ended and tell the attendant; whether that queued messages to send
    (a missed call's alert and text-back), False too when Twilio had told us before."""
    if left is not None:
        left.forget(call_sid)
    with store.transaction() as session:
        clinic_id = clinics.resolve(session, configured=settings.twilio.clinic_id, called=called)
        event_id = inbox.record(
            session,
            source=SOURCE,
            external_id=f"{call_sid}:status",
            kind="status",
            payload={"form": form},
            now=now,
            clinic_id=clinic_id,
            handled_at=now,  # it is, in this transaction, or not recorded at all
        )
        if event_id is None:
            return False
        phone.call_ended(
            session,
            clinic_id=clinic_id,
            call_sid=call_sid,
            caller=caller,
            status=status,
            duration_seconds=duration_seconds,
            now=now,
        )
        return outbox.take_queued(session)
