"""Calls staff still owe a call back: missed, abandoned, or a callback asked for, not yet
marked done (by 「対応済みにする」 in the LINE staff group or on the dashboard)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.models import CallLog, CallOutcome

OWED = (CallOutcome.MISSED, CallOutcome.ABANDONED, CallOutcome.CALLBACK_REQUESTED)
# Older calls are past helping: the digest and the dashboard stop listing them.
WITHIN = timedelta(days=7)


class Call(NamedTuple):
    """A call_log row as a phone turn reads it (backend.dialogue.phone_calls), without the
    ORM: every turn of every call reads one."""

    id: int
    clinic_id: int
    call_sid: str
    from_number: str | None
    patient_id: int | None
    booking_id: int | None
    outcome: CallOutcome
    last_step: str | None  # the conversation's step
    started_at: datetime
    ended_at: datetime | None
    state_data: dict[str, Any] | None  # what the step remembers


def to_follow_up(session: Session, *, clinic_id: int, now: datetime) -> Sequence[CallLog]:
    """The calls of the last week that still need a call back, newest first."""
    return session.scalars(
        select(CallLog)
        .where(
            CallLog.clinic_id == clinic_id,
            CallLog.outcome.in_(OWED),
            CallLog.followed_up_at.is_(None),
            CallLog.started_at >= now - WITHIN,
        )
        .order_by(CallLog.started_at.desc())
    ).all()


def follow_up(session: Session, *, clinic_id: int, call_id: int, now: datetime) -> bool:
    """Mark a call as called back; False when someone already had (the first mark stays)."""
    call = session.get(CallLog, call_id, with_for_update=True)
    if call is None or call.clinic_id != clinic_id:
        raise NotFound("no such call", field="call_id")
    if call.followed_up_at is not None:
        return False
    call.followed_up_at = now
    return True
