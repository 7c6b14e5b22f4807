"""Claiming and settling outbox rows (DESIGN rule 3).

Claiming is a short transaction that moves rows from `pending` to `sending` with a
conditional UPDATE, so two drains never take the same row. Settling is one more
transaction that records what sending did to each row: sent, back to `pending` after a
backoff, or failed. A row left in `sending` longer than the lease (a crashed worker) is
claimed again; its settlement counts only while the claim is still the one that sent it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Update, and_, or_, select, update
from sqlalchemy.orm import Session

from backend import outbox
from backend.api.deps import Store
from backend.models import Channel, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# A claimed row not settled within this time belongs to a worker that died.
LEASE = timedelta(minutes=2)
# Only LINE takes a retry key; a resent SMS or email could arrive twice.
RESENDABLE = (Channel.LINE,)
INTERRUPTED = "interrupted while sending: it may or may not have been delivered"
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
# The month's quota comes back only with the month (or a plan change): wait long.
QUOTA_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Job:
    """A claimed row, detached from its session: what a sender needs."""

    id: int
    channel: Channel
    recipient: str
    payload: dict[str, Any]
    retry_key: str
    attempts: int
    claimed_at: datetime


@dataclass(frozen=True)
class Deferred:
    """Not tried: its channel asked to wait earlier in this drain."""


Result = outbox.Outcome | Deferred


@dataclass
class Drained:
    """How one drain went."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    deferred: int = 0
    failed: int = 0
    lost: list[int] = field(default_factory=list)  # rows another worker took over


def claim(store: Store, *, channels: list[Channel], now: datetime, limit: int) -> list[Job]:
    """Mark up to `limit` due rows as `sending` by this drain and return them."""
    if not channels:
        return []
    with store.transaction() as session:
        _give_up_interrupted(session, now)
        candidates = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.channel.in_(channels), _due(now))
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
            # PostgreSQL: rows another drain is claiming right now are skipped, not waited on.
            .with_for_update(skip_locked=True)
        ).all()
        taken = [row_id for row_id in candidates if _take(session, row_id, now)]
        return [_job(row) for row in _rows(session, taken)]


def _due(now: datetime) -> Any:
    """Pending and due, or a LINE row claimed by a worker whose lease ran out."""
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now),
        and_(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at <= now - LEASE,
            OutboxMessage.channel.in_(RESENDABLE),
        ),
    )


def _give_up_interrupted(session: Session, now: datetime) -> None:
    """A crash while sending an SMS or email leaves it unknowable whether it went out:
    mark it uncertain for staff rather than risk sending it twice."""
    _rowcount(
        session,
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at <= now - LEASE,
            OutboxMessage.channel.not_in(RESENDABLE),
        )
        .values(status=OutboxStatus.UNCERTAIN, last_error=INTERRUPTED),
    )


def _take(session: Session, row_id: int, now: datetime) -> bool:
    # Conditional on still being due: of two drains racing for the row, the second's
    # UPDATE re-reads it after the first commits and matches nothing (both databases).
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, _due(now))
        .values(status=OutboxStatus.SENDING, claimed_at=now)
    )
    return _rowcount(session, statement) == 1


def _rowcount(session: Session, statement: Update) -> int:
    """Run an UPDATE that bypasses the session's objects; how many rows it changed."""
    options = {"synchronize_session": False}
    result = cast("CursorResult[Any]", session.execute(statement, execution_options=options))
    return result.rowcount


def _rows(session: Session, ids: list[int]) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query)) if ids else []


def _job(row: OutboxMessage) -> Job:
    assert row.claimed_at is not None
    return Job(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        payload=dict(row.payload),
        retry_key=row.retry_key,
        attempts=row.attempts,
        claimed_at=row.claimed_at,
    )


def settle(store: Store, results: list[tuple[Job, Result]], *, now: datetime) -> Drained:
    """Record, in one transaction, what sending did to each row: sent, back to pending
    after a backoff, or failed."""
    drained = Drained(claimed=len(results))
    if not results:
        return drained
    with store.transaction() as session:
        for job, result in results:
            values = _values(job, result, now)
            if _rowcount(session, _settled(job, values)) == 1:
                _count(drained, result, values["status"])
            else:
                log.warning("outbox row %d was claimed again before it was settled", job.id)
                drained.lost.append(job.id)
    return drained


def _settled(job: Job, values: dict[str, Any]) -> Update:
    # Only while the claim is still ours: past the lease another drain may own the row.
    return (
        update(OutboxMessage)
        .where(
            OutboxMessage.id == job.id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at == job.claimed_at,
        )
        .values(**values)
    )


def _values(job: Job, outcome: Result, now: datetime) -> dict[str, Any]:
    attempts = job.attempts + 1
    match outcome:
        case Deferred():
            # Not an attempt: it waits as long as a first retry would.
            return {
                "status": OutboxStatus.PENDING,
                "due_at": now + FIRST_BACKOFF,
                "claimed_at": None,
            }
        case outbox.Sent():
            return {"status": OutboxStatus.SENT, "sent_at": now, "attempts": attempts}
        case outbox.Uncertain(reason=reason):
            return {"status": OutboxStatus.UNCERTAIN, "attempts": attempts, "last_error": reason}
        case outbox.Retry(reason=reason, quota=quota) if attempts < MAX_ATTEMPTS:
            note = f"{reason} (monthly message quota reached)" if quota else reason
            return {
                "status": OutboxStatus.PENDING,
                "due_at": now + backoff(attempts, quota=quota),
                "attempts": attempts,
                "last_error": note,
                "claimed_at": None,
            }
        case outbox.Retry(reason=reason):
            reason = f"gave up after {attempts} attempts: {reason}"
        case outbox.Failed(reason=reason):
            pass
        case _:
            reason = f"unexpected outcome {type(outcome).__name__}"
    return {"status": OutboxStatus.FAILED, "attempts": attempts, "last_error": reason}


def backoff(attempts: int, *, quota: bool = False) -> timedelta:
    """How long to wait before the next try: doubling from 30 s, at most an hour."""
    if quota:
        return QUOTA_BACKOFF
    doublings = min(max(attempts - 1, 0), 16)
    return min(FIRST_BACKOFF * (1 << doublings), MAX_BACKOFF)


def _count(drained: Drained, result: Result, status: OutboxStatus) -> None:
    if isinstance(result, Deferred):
        drained.deferred += 1
    elif status == OutboxStatus.SENT:
        drained.sent += 1
    elif status == OutboxStatus.PENDING:
        drained.retried += 1
    else:
        drained.failed += 1
