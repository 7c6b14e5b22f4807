"""The inbox: every inbound webhook event recorded once, before it is acted on (DESIGN
rule 1), then handled right after the webhook has answered.

A webhook's work is to verify, parse and record; the handling runs after the answer, as
LINE recommends, so a burst of events never keeps LINE waiting. Handling takes an event
with a conditional update in the handler's own transaction, so two handlers never handle
one event, and one whose handling keeps failing is given up after `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.db import placeholder, to_driver
from backend.models import InboundEvent
from backend.plain import Plain

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
    "postgresql": Plain(_insert(postgresql, InboundEvent.id)),
    "sqlite": Plain(_insert(sqlite, InboundEvent.id)),
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
    handled_at: datetime | None = None,
) -> int | None:
    """Store the event and return its id; None when (source, external_id) was seen before.
    `handled_at`: the event was handled as it was recorded (a phone turn's answer)."""
    values = {
        "clinic_id": clinic_id,
        "source": source,
        "external_id": external_id,
        "kind": kind,
        "payload": payload,
        "received_at": now,
        "attempts": 0,
    }
    if handled_at is not None:
        values["processed_at"] = handled_at
    connection = session.connection()
    found: int | None = _INSERTS[connection.dialect.name].scalar(connection, values)
    return found


def record_many(
    connection: Connection,
    *,
    source: str,
    rows: Sequence[NewEvent],
    clinic_id: int | None = None,
    handled_at: datetime | None = None,
) -> set[str]:
    """Store several events in one statement, on a connection in a transaction; the
    external ids that were new (an id seen before, or twice among `rows`, is stored once).
    `handled_at`: the events were handled as they were recorded (a phone turn's answer)."""
    table, dialect = InboundEvent.__table__, connection.dialect
    payload, stamp = to_driver(table.c.payload, dialect), to_driver(table.c.received_at, dialect)
    handled = stamp(handled_at) if handled_at is not None else None
    new: set[str] = set()
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        part = rows[start : start + _ROWS_PER_INSERT]
        values: list[Any] = []
        for row in part:
            values += (clinic_id, source, row.external_id, row.kind)
            values += (payload(row.payload), stamp(row.received_at), 0, handled)
        sql = _insert_many(len(part), connection.dialect.paramstyle)
        new.update(connection.exec_driver_sql(sql, tuple(values)).scalars())
    return new


# record_many runs on every webhook. Through SQLAlchemy's statement handling each row cost
# more than the database's own work for it; the statement is plain SQL for the driver,
# with the values converted by the columns' own types, as SQLAlchemy would convert them.
_COLUMNS = (
    "clinic_id",
    "source",
    "external_id",
    "kind",
    "payload",
    "received_at",
    "attempts",
    "processed_at",
)
_ROWS_PER_INSERT = 500  # 4,000 values: well inside SQLite's limit on one statement's


@functools.lru_cache(maxsize=64)
def _insert_many(count: int, paramstyle: str) -> str:
    """INSERT of `count` rows that skips (source, external_id) seen before and answers the
    external ids it stored: SQLite 3.35+ and PostgreSQL share this syntax."""
    row = "(" + ", ".join([placeholder(paramstyle)] * len(_COLUMNS)) + ")"
    # Only constants and placeholders go into the text; the values are parameters.
    return (
        f"INSERT INTO {InboundEvent.__tablename__} ({', '.join(_COLUMNS)}) "  # noqa: S608
        f"VALUES {', '.join([row] * count)} "
        "ON CONFLICT (source, external_id) DO NOTHING RETURNING external_id"
    )


# Built once and run on the session's connection: every kick of the outbox asks it first
# (bot.inbound), mostly to find nothing, and building the select cost more than running it.
_PENDING = (
    select(
        InboundEvent.id,
        InboundEvent.clinic_id,
        InboundEvent.received_at,
        InboundEvent.payload,
    )
    .where(InboundEvent.source == bindparam("source"), InboundEvent.processed_at.is_(None))
    .order_by(InboundEvent.id)
    .limit(bindparam("limit"))
)


def pending(session: Session, *, source: str, limit: int) -> Sequence[Row[Any]]:
    """Unhandled events of a source, oldest first: id, clinic_id, received_at, payload."""
    params = {"source": source, "limit": limit}
    return session.connection().execute(_PENDING, params).all()


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
