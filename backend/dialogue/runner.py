"""One event through a conversation table, with its effects performed in the same
transaction. The conversation's row is locked first, so one person's events are handled
one at a time (HOUSE_STYLE 4)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

import sqlalchemy
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
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


class Turn(NamedTuple):
    """What one event came to: the answers, and the state the conversation is left in."""

    replies: tuple[Reply, ...]
    state: str


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
) -> Turn:
    """Handle one event for one person; return what to answer. Effects may change what
    the facts say (a registration links a patient), so facts are reloaded after each."""
    row = _locked(session, clinic_id=clinic_id, channel=channel, subject=subject, now=now)
    state = State(row.state, row.data)
    if row.updated_at < now - IDLE_RESET:
        state = State(table.start)
    replies, state = run(
        session, state=state, event=event, table=table, facts=facts, performers=performers
    )
    values = {"row_id": row.id, "new_state": state.name, "new_data": dict(state.data), "now": now}
    session.connection().execute(_SAVE, values)
    return Turn(replies, state.name)


def run(
    session: Session,
    *,
    state: State,
    event: Event,
    table: Table,
    facts: FactsLoader,
    performers: Mapping[str, Performer],
) -> tuple[tuple[Reply, ...], State]:
    """One event through `table` from `state`, its effects performed on `session`; the
    answers and the state it leaves. Where the state is kept is the caller's business."""
    replies: list[Reply] = []
    current = facts()
    for _ in range(MAX_EFFECTS):
        step = table.step(state, event, current)
        replies.extend(step.replies)
        state = step.state
        if step.effect is None:
            break
        event = performers[step.effect.name](session, current, step.effect)
        # The facts are read with plain statements, which do not flush the ORM first.
        session.flush()
        current = facts()
    else:
        raise EffectLoop(f"{table.name}: more than {MAX_EFFECTS} effects for one event")
    return tuple(replies), state


# Built once, as plain statements: every event of every conversation runs them, and the
# ORM's unit of work would cost more than the conversation's own step.
_STATE = cast(sqlalchemy.Table, ConversationState.__table__)
_LOCK = (
    select(_STATE.c.id, _STATE.c.state, _STATE.c.data, _STATE.c.updated_at)
    .where(
        _STATE.c.clinic_id == bindparam("clinic_id"),
        _STATE.c.channel == bindparam("channel"),
        _STATE.c.subject == bindparam("subject"),
    )
    .with_for_update()
)
_SAVE = (
    update(_STATE)
    .where(_STATE.c.id == bindparam("row_id"))
    .values(
        state=bindparam("new_state"),
        data=bindparam("new_data"),
        version=_STATE.c.version + 1,
        updated_at=bindparam("now"),
    )
)


def _create(dialect: Any) -> Any:
    # Two first events of one person: the unique constraint lets one row in, and the
    # other waits for that row's lock below.
    return (
        dialect.insert(_STATE)
        .values(state="idle", data={}, version=0, updated_at=bindparam("now"))
        .on_conflict_do_nothing(index_elements=["clinic_id", "channel", "subject"])
    )


_CREATES = {"postgresql": _create(postgresql), "sqlite": _create(sqlite)}


class _Conversation(NamedTuple):
    id: int
    state: str
    data: dict[str, Any]
    updated_at: datetime


def _locked(
    session: Session, *, clinic_id: int, channel: str, subject: str, now: datetime
) -> _Conversation:
    """The person's conversation row (a new person gets a fresh one), locked until the
    transaction ends."""
    params = {"clinic_id": clinic_id, "channel": channel, "subject": subject}
    connection = session.connection()
    row = connection.execute(_LOCK, params).first()
    if row is None:
        connection.execute(_CREATES[connection.dialect.name], {**params, "now": now})
        row = connection.execute(_LOCK, params).first()
        assert row is not None
    return _Conversation(*row)
