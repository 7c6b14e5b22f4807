"""Claiming and settling outbox rows (DESIGN rule 3).

Claiming is a short transaction that moves rows from `pending` to `sending` with a
conditional UPDATE, so two drains never take the same row. Settling is one more
transaction that records what sending did to each row: sent, back to `pending` after a
backoff, or failed. A row left in `sending` longer than the lease (a crashed worker) is
claimed again; its settlement counts only while the claim is still the one that sent it.

Rows sent in one LINE multicast share a `batch_key`, given when they are first claimed
(reminders/multicast.py); such a batch is always claimed whole, so every attempt at it is
the same request under the same retry key. LINE rows of a clinic whose monthly quota ran
out (`clinic.line_paused_until`) are not claimed until the pause ends (reminders/quota.py).
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
from backend.models import Channel, Clinic, OutboxMessage, OutboxStatus
from reminders import multicast, quota

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
    clinic_id: int
    channel: Channel
    recipient: str
    payload: dict[str, Any]
    retry_key: str
    attempts: int
    claimed_at: datetime
    # Set for the rows of one LINE multicast: the request's X-Line-Retry-Key.
    batch_key: str | None = None


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


def claim(
    store: Store,
    *,
    channels: list[Channel],
    now: datetime,
    limit: int,
    lease: timedelta = LEASE,
) -> list[Job]:
    """Mark up to `limit` due rows (and the whole of any multicast batch among them) as
    `sending` by this drain and return them."""
    if not channels:
        return []
    with store.transaction() as session:
        _give_up_interrupted(session, now - lease)
        candidates = session.execute(
            select(OutboxMessage.id, OutboxMessage.batch_key)
            .where(OutboxMessage.channel.in_(channels), _due(now, lease), _not_paused(now))
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
            # PostgreSQL: rows another drain is claiming right now are skipped, not waited on.
            .with_for_update(skip_locked=True)
        ).all()
        rows = _rows(session, _take_all(session, candidates, now, lease))
        multicast.form(session, rows)
        return [_job(row) for row in rows]


def _due(now: datetime, lease: timedelta = LEASE) -> Any:
    """Pending and due, or a LINE row claimed by a worker whose lease ran out."""
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now),
        and_(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at <= now - lease,
            OutboxMessage.channel.in_(RESENDABLE),
        ),
    )


def _not_paused(now: datetime) -> Any:
    """Not a LINE row of a clinic whose monthly LINE quota is used up."""
    paused = select(Clinic.id).where(Clinic.line_paused_until > now)
    return or_(OutboxMessage.channel != Channel.LINE, OutboxMessage.clinic_id.not_in(paused))


def _take_all(session: Session, candidates: Any, now: datetime, lease: timedelta) -> list[int]:
    singles = [row_id for row_id, batch_key in candidates if batch_key is None]
    taken = _take(session, singles, now, lease)
    for batch_key in dict.fromkeys(key for _, key in candidates if key is not None):
        taken += multicast.take(session, batch_key, due=_due(now, lease), now=now)
    return taken


def _give_up_interrupted(session: Session, stale: datetime) -> None:
    """A crash while sending an SMS or email leaves it unknowable whether it went out:
    mark it uncertain for staff rather than risk sending it twice."""
    _rowcount(
        session,
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at <= stale,
            OutboxMessage.channel.not_in(RESENDABLE),
        )
        .values(status=OutboxStatus.UNCERTAIN, last_error=INTERRUPTED),
    )


def _take(session: Session, ids: list[int], now: datetime, lease: timedelta) -> list[int]:
    # Conditional on still being due: of two drains racing for a row, the second's
    # UPDATE re-reads it after the first commits and matches nothing (both databases).
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), _due(now, lease))
        .values(status=OutboxStatus.SENDING, claimed_at=now)
        .returning(OutboxMessage.id)
    )
    options = {"synchronize_session": False}
    return list(session.scalars(statement, execution_options=options)) if ids else []


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
        clinic_id=row.clinic_id,
        channel=row.channel,
        recipient=row.recipient,
        payload=dict(row.payload),
        retry_key=row.retry_key,
        attempts=row.attempts,
        claimed_at=row.claimed_at,
        batch_key=row.batch_key,
    )


def settle(store: Store, results: list[tuple[Job, Result]], *, now: datetime) -> Drained:
    """Record, in one transaction, what sending did to each row: sent, back to pending
    after a backoff, or failed."""
    drained = Drained(claimed=len(results))
    if not results:
        return drained
    # Rows settled alike (most are: sent, from one claim) are one UPDATE each group.
    groups: dict[tuple[Any, ...], list[tuple[Job, Result]]] = {}
    for job, result in results:
        key = (job.claimed_at, *sorted(_values(job, result, now).items()))
        groups.setdefault(key, []).append((job, result))
    with store.transaction() as session:
        for alike in groups.values():
            _settle_alike(session, alike, now, drained)
        for clinic_id in quota.out_of_quota(results):
            quota.pause_line(session, clinic_id=clinic_id, now=now)
    return drained


def _settle_alike(
    session: Session, alike: list[tuple[Job, Result]], now: datetime, drained: Drained
) -> None:
    job, result = alike[0]
    values = _values(job, result, now)
    settled = set(session.scalars(_settled([job for job, _ in alike], values)))
    for job, result in alike:
        if job.id in settled:
            _count(drained, result, values["status"])
        else:
            log.warning("outbox row %d was claimed again before it was settled", job.id)
            drained.lost.append(job.id)


def _settled(jobs: list[Job], values: dict[str, Any]) -> Any:
    # Only while the claim is still ours: past the lease another drain may own the row.
    return (
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_([job.id for job in jobs]),
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at == jobs[0].claimed_at,
        )
        .values(**values)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
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
