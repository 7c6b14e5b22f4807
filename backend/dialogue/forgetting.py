"""Conversations nobody has touched for a day are forgotten.

A conversation's state can hold what someone typed halfway through a flow — the name and
phone number of a registration never finished, the day they were choosing — and a flow
left for a day is stale anyway. Forgetting the row is the same as a fresh start: the next
event of that person finds no state and begins idle (backend.dialogue.runner). Finished
calls' states go the same way. A conversation handled right now is locked by its event,
and its new `updated_at` keeps it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.orm import Session

from backend.models import ConversationState

IDLE_FOR = timedelta(days=1)


def forget_idle(session: Session, *, now: datetime) -> int:
    """Delete conversation states untouched since `IDLE_FOR` before `now`; how many."""
    statement = delete(ConversationState).where(ConversationState.updated_at < now - IDLE_FOR)
    result = cast("CursorResult[Any]", session.execute(statement))
    return result.rowcount
