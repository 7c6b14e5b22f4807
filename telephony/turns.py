"""The work behind each Twilio webhook, one transaction each: record the step in the inbox,
let the attendant answer, render the TwiML, keep it, commit.

A call's steps are recorded as `<CallSid>:<turn>` (the greeting is turn 0, every Gather or
Dial answer the turn number its URL carries), so a step Twilio sends again inserts nothing
and is answered with the TwiML kept from the first time: the conversation never advances
twice. The TwiML depends on the attendant's answer, so the work is done before answering,
not after as for LINE; what the attendant queued (an SMS, a note to the staff group) is
sent after the answer, by the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from backend import inbox, outbox
from backend.api.deps import Store
from backend.conversation.model import Dialed, Event, Reply, Transfer
from backend.dialogue import phone
from backend.models import InboundEvent
from backend.settings import Settings
from telephony import clinics, twiml

log = logging.getLogger(__name__)

SOURCE = "twilio"


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


def answer(store: Store, step: Step, *, settings: Settings, now: datetime) -> Answer:
    """The TwiML for a step; for a step seen before, the TwiML it was answered with."""
    with store.transaction() as session:
        clinic = clinics.resolved(session, configured=settings.twilio.clinic_id, called=step.called)
        clinic_id = clinic.id
        external_id = f"{step.call_sid}:{step.turn}"
        event_id = inbox.record(
            session,
            source=SOURCE,
            external_id=external_id,
            kind=step.kind,
            payload={"form": step.form},
            now=now,
            clinic_id=clinic_id,
        )
        if event_id is None:
            return Answer(_answered_before(session, external_id, settings), new=False)
        replies = _replies(session, clinic, step, settings, now)
        document = twiml.render(replies, line=line(settings, step), next_turn=step.turn + 1)
        _keep(session, event_id, {"form": step.form, "twiml": document}, now)
        return Answer(document, new=True, queued=outbox.take_queued(session))


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
) -> tuple[Reply, ...]:
    return phone.handle(
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
) -> tuple[Reply, ...]:
    """The attendant's answer; a transfer with no staff phone configured is answered at
    once as a transfer nobody picked up."""
    replies = _handle(session, clinic, step, step.event, now)
    transfer = _transfer_at(replies)
    if transfer is None or settings.twilio.staff_numbers:
        return replies
    after = _handle(session, clinic, step, Dialed(answered=False), now)
    if _transfer_at(after) is not None:
        raise TransferLoop("the attendant transferred again after an unanswered transfer")
    return replies[:transfer] + after


def _transfer_at(replies: tuple[Reply, ...]) -> int | None:
    return next((i for i, reply in enumerate(replies) if isinstance(reply, Transfer)), None)


_PAYLOAD = select(InboundEvent.payload).where(
    InboundEvent.source == SOURCE, InboundEvent.external_id == bindparam("external_id")
)
_KEEP = (
    update(InboundEvent)
    .where(InboundEvent.id == bindparam("event_id"))
    .values(
        payload=bindparam("kept", type_=InboundEvent.__table__.c.payload.type),
        processed_at=bindparam("handled_at"),
    )
)


def _keep(session: Session, event_id: int, payload: dict[str, Any], now: datetime) -> None:
    """Store the step's TwiML with it, and mark it handled."""
    session.connection().execute(_KEEP, {"event_id": event_id, "kept": payload, "handled_at": now})


def _answered_before(session: Session, external_id: str, settings: Settings) -> str:
    payload = session.scalar(_PAYLOAD, {"external_id": external_id})
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
) -> bool:
    """Record how a call ended and tell the attendant; whether that queued messages to send
    (a missed call's alert and text-back), False too when Twilio had told us before."""
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
        inbox.take(session, event_id=event_id, now=now)
        return outbox.take_queued(session)
