"""One event through a conversation table, with its effects performed in the same
transaction. The conversation's row is locked first, so one person's events are handled
one at a time (HOUSE_STYLE 4)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.conversation.engine import Table
from backend.conversation.model import Effect, Event, Facts, Reply, Result, State
from backend.models import ConversationState

Performer = Callable[[Session, Facts, Effect], Result]
FactsLoader = Callable[[], Facts]

# A conversation idle this long starts over rather than resuming a half-made booking.
IDLE_RESET = timedelta(minutes=30)
# More effects than this for one event is a loop in a table, not a conversation.
MAX_EFFECTS = 8


class EffectLoop(RuntimeError):
    """A table kept asking for effects without ever waiting for the person."""


def converse(
    session: Session,
    *,
    clinic_id: int,
    channel: str,
    subject: str,
    event: Event,
    now: datetime,
    table: Table,
    facts: FactsLoader,
    performers: Mapping[str, Performer],
) -> tuple[Reply, ...]:
    """Handle one event for one person; return what to answer. Effects may change what
    the facts say (a registration links a patient), so facts are reloaded after each."""
    row = _locked(session, clinic_id=clinic_id, channel=channel, subject=subject, now=now)
    state = State(row.state, row.data)
    if row.updated_at < now - IDLE_RESET:
        state = State(table.start)
    replies: list[Reply] = []
    current = facts()
    for _ in range(MAX_EFFECTS):
        step = table.step(state, event, current)
        replies.extend(step.replies)
        state = step.state
        if step.effect is None:
            break
        event = performers[step.effect.name](session, current, step.effect)
        current = facts()
    else:
        raise EffectLoop(f"{table.name}: more than {MAX_EFFECTS} effects for one event")
    row.state, row.data = state.name, dict(state.data)
    row.version += 1
    row.updated_at = now
    return tuple(replies)


# Built once: every event of every conversation runs it.
_LOCK = (
    select(ConversationState)
    .where(
        ConversationState.clinic_id == bindparam("clinic_id"),
        ConversationState.channel == bindparam("channel"),
        ConversationState.subject == bindparam("subject"),
    )
    .with_for_update()
    .execution_options(populate_existing=True)
)


def _locked(
    session: Session, *, clinic_id: int, channel: str, subject: str, now: datetime
) -> ConversationState:
    params = {"clinic_id": clinic_id, "channel": channel, "subject": subject}
    row = session.scalar(_LOCK, params)
    if row is not None:
        return row
    fresh = ConversationState(
        clinic_id=clinic_id,
        channel=channel,
        subject=subject,
        state="idle",
        data={},
        version=0,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(fresh)
    except IntegrityError:
        # Another event of the same person created it first; wait for its lock.
        row = session.scalar(_LOCK, params)
        assert row is not None
        return row
    return fresh
