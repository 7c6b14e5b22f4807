"""The inbox: every inbound webhook event recorded once, before it is acted on (DESIGN
rule 1), then handled right after the webhook has answered.

A webhook's work is to verify, parse and record; the handling runs after the answer, as
LINE recommends, so a burst of events never keeps LINE waiting. Handling takes an event
with a conditional update in the handler's own transaction, so two handlers never handle
one event, and one whose handling keeps failing is given up after `MAX_ATTEMPTS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.models import InboundEvent

MAX_ATTEMPTS = 5


def _insert(dialect: Any, returning: Any) -> Any:
    # One statement and no race: the unique constraint decides between two deliveries.
    return (
        dialect.insert(InboundEvent)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(returning)
    )


# Built once: on the webhook's hot path, building a statement costs more than running it.
_INSERTS = {
    "postgresql": _insert(postgresql, InboundEvent.id),
    "sqlite": _insert(sqlite, InboundEvent.id),
}
_INSERTS_MANY = {
    "postgresql": _insert(postgresql, InboundEvent.external_id),
    "sqlite": _insert(sqlite, InboundEvent.external_id),
}


@dataclass(frozen=True)
class NewEvent:
    """One event to record with `record_many`."""

    external_id: str
    kind: str
    payload: dict[str, Any]
    received_at: datetime


def record(
    session: Session,
    *,
    source: str,
    external_id: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    clinic_id: int | None = None,
) -> int | None:
    """Store the event and return its id; None when (source, external_id) was seen before."""
    values = {
        "clinic_id": clinic_id,
        "source": source,
        "external_id": external_id,
        "kind": kind,
        "payload": payload,
        "received_at": now,
        "attempts": 0,
    }
    connection = session.connection()
    return connection.execute(_INSERTS[connection.dialect.name], values).scalar()


def record_many(
    session: Session, *, source: str, rows: Sequence[NewEvent], clinic_id: int | None = None
) -> set[str]:
    """Store several events in one statement; the external ids that were new (an id seen
    before, or twice among `rows`, is stored once)."""
    if not rows:
        return set()
    values = [
        {
            "clinic_id": clinic_id,
            "source": source,
            "external_id": row.external_id,
            "kind": row.kind,
            "payload": row.payload,
            "received_at": row.received_at,
            "attempts": 0,
        }
        for row in rows
    ]
    connection = session.connection()
    # A list of parameters with RETURNING: SQLAlchemy sends one multi-row INSERT.
    return set(connection.execute(_INSERTS_MANY[connection.dialect.name], values).scalars())


def pending(session: Session, *, source: str, limit: int) -> Sequence[Row[Any]]:
    """Unhandled events of a source, oldest first: id, clinic_id, received_at, payload."""
    return session.execute(
        select(
            InboundEvent.id,
            InboundEvent.clinic_id,
            InboundEvent.received_at,
            InboundEvent.payload,
        )
        .where(InboundEvent.source == source, InboundEvent.processed_at.is_(None))
        .order_by(InboundEvent.id)
        .limit(limit)
    ).all()


_TAKE = (
    update(InboundEvent)
    .where(InboundEvent.id == bindparam("event_id"), InboundEvent.processed_at.is_(None))
    .values(processed_at=bindparam("now"))
)


def take(session: Session, *, event_id: int, now: datetime) -> bool:
    """Mark the event handled as the first statement of its handling; False when another
    handler took it first (on PostgreSQL this waits for that handler's transaction)."""
    result = session.connection().execute(_TAKE, {"event_id": event_id, "now": now})
    return bool(result.rowcount)


def failed(session: Session, *, event_id: int, error: str, now: datetime) -> bool:
    """Count a failed handling (its transaction was rolled back); True when given up."""
    event = session.get(InboundEvent, event_id)
    if event is None or event.processed_at is not None:
        return False
    event.attempts += 1
    event.last_error = error[:200]
    if event.attempts >= MAX_ATTEMPTS:
        event.processed_at = now
        return True
    return False
