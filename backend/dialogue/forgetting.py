"""Conversations nobody has touched for a day are forgotten.

A conversation's state can hold what someone typed halfway through a flow — the name and
phone number of a registration never finished, the day they were choosing — and a flow
left for a day is stale anyway. Forgetting the row is the same as a fresh start: the next
event of that person finds no state and begins idle (backend.dialogue.runner). A phone
call's conversation lives on its call_log row and is cleared when the call ends; a call
whose end Twilio never reported has it cleared a day after it began (its `last_step`,
how far the caller got, stays). A conversation handled right now is locked by its event,
and its new `updated_at` keeps it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlalchemy.orm import Session

from backend.models import CallLog, ConversationState

IDLE_FOR = timedelta(days=1)


def forget_idle(session: Session, *, now: datetime) -> int:
    """Delete conversation states untouched since `IDLE_FOR` before `now`, and clear those
    of calls that began before then; how many."""
    statement = delete(ConversationState).where(ConversationState.updated_at < now - IDLE_FOR)
    result = cast("CursorResult[Any]", session.execute(statement))
    calls = (
        update(CallLog)
        .where(CallLog.state_data.is_not(None), CallLog.started_at < now - IDLE_FOR)
        .values(state_data=None)
        .execution_options(synchronize_session=False)
    )
    cleared = cast("CursorResult[Any]", session.execute(calls))
    return result.rowcount + cleared.rowcount
