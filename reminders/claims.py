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

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, Update, and_, bindparam, or_, select, update
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


# The statements below are built once and run as plain statements on the session's
# connection: the web process drains after LINE webhooks and phone calls' requests
# (dispatch.Kick), and building them afresh, then loading OutboxMessage objects only to
# copy them into Jobs, cost more than twice the CPU of the rest of a drain of one row.
# Times and enums are bound with their columns' types: stored exactly as the ORM does.
_OUTBOX = cast(Table, OutboxMessage.__table__)
_CLINIC = cast(Table, Clinic.__table__)
_C = _OUTBOX.c
_NOW = bindparam("now", type_=_C.due_at.type)
_STALE = bindparam("stale", type_=_C.claimed_at.type)  # now - lease

# Pending and due, or a LINE row claimed by a worker whose lease ran out.
_DUE = or_(
    and_(_C.status == OutboxStatus.PENDING, _C.due_at <= _NOW),
    and_(_C.status == OutboxStatus.SENDING, _C.claimed_at <= _STALE, _C.channel.in_(RESENDABLE)),
)
# Not a LINE row of a clinic whose monthly LINE quota is used up.
_NOT_PAUSED = or_(
    _C.channel != Channel.LINE,
    _C.clinic_id.not_in(select(_CLINIC.c.id).where(_CLINIC.c.line_paused_until > _NOW)),
)
_CHANNELS = bindparam("channels", expanding=True, type_=_C.channel.type)
_CANDIDATES = (
    select(_C.id, _C.batch_key)
    .where(_C.channel.in_(_CHANNELS), _DUE, _NOT_PAUSED)
    .order_by(_C.due_at, _C.id)
    .limit(bindparam("limit"))
    # PostgreSQL: rows another drain is claiming right now are skipped, not waited on.
    .with_for_update(skip_locked=True)
)
# What a Job is made of, returned by the UPDATEs that take the rows (due_at to sort them).
_JOB = (
    _C.id,
    _C.clinic_id,
    _C.channel,
    _C.recipient,
    _C.payload,
    _C.retry_key,
    _C.attempts,
    _C.claimed_at,
    _C.batch_key,
    _C.due_at,
)
# What taking a row sets, singly or with its batch.
_TAKEN = {"status": OutboxStatus.SENDING, "claimed_at": _NOW}
# Conditional on still being due: of two drains racing for a row, the second's UPDATE
# re-reads it after the first commits and matches nothing (both databases).
_TAKE = (
    update(_OUTBOX)
    .where(_C.id.in_(bindparam("ids", expanding=True)), _DUE)
    .values(_TAKEN)
    .returning(*_JOB)
)
_TAKE_BATCH = multicast.taking(due=_DUE, values=_TAKEN, returning=_JOB)
_GIVE_UP = (
    update(_OUTBOX)
    .where(
        _C.status == OutboxStatus.SENDING,
        _C.claimed_at <= _STALE,
        _C.channel.not_in(RESENDABLE),
    )
    .values(status=OutboxStatus.UNCERTAIN, last_error=INTERRUPTED)
)


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
    due = {"now": now, "stale": now - lease}
    with store.transaction() as session:
        connection = session.connection()
        # A crash while sending an SMS or email leaves it unknowable whether it went out:
        # it is marked uncertain for staff rather than risk sending it twice.
        connection.execute(_GIVE_UP, due)
        candidates = connection.execute(
            _CANDIDATES, {**due, "channels": channels, "limit": limit}
        ).all()
        rows = sorted(_take_all(session, candidates, due), key=lambda row: (row.due_at, row.id))
        batches = multicast.form(connection, rows)
        return [_job(row, batches.get(row.id, row.batch_key)) for row in rows]


def _take_all(session: Session, candidates: Any, due: dict[str, Any]) -> list[Row[Any]]:
    """Take the single candidates in one UPDATE, then each batch among them whole."""
    singles = [row_id for row_id, batch_key in candidates if batch_key is None]
    connection = session.connection()
    taken = list(connection.execute(_TAKE, {**due, "ids": singles})) if singles else []
    for batch_key in dict.fromkeys(key for _, key in candidates if key is not None):
        taken += multicast.take(session, batch_key, statement=_TAKE_BATCH, params=due)
    return taken


def _job(row: Row[Any], batch_key: str | None) -> Job:
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
        batch_key=batch_key,
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
    params = {f"new_{name}": value for name, value in values.items()}
    params |= {"ids": [job.id for job, _ in alike], "claim": job.claimed_at}
    statement = _settling(tuple(sorted(values)))
    settled = set(session.connection().execute(statement, params).scalars())
    for job, result in alike:
        if job.id in settled:
            _count(drained, result, values["status"])
        else:
            log.warning("outbox row %d was claimed again before it was settled", job.id)
            drained.lost.append(job.id)


@functools.cache
def _settling(columns: tuple[str, ...]) -> Update:
    """The UPDATE that settles rows by setting `columns` (each `new_<column>`), built once
    per set of columns: each kind of outcome sets its own, with values of its own."""
    # Only while the claim is still ours: past the lease another drain may own the row.
    return (
        update(_OUTBOX)
        .where(
            _C.id.in_(bindparam("ids", expanding=True)),
            _C.status == OutboxStatus.SENDING,
            _C.claimed_at == bindparam("claim", type_=_C.claimed_at.type),
        )
        .values({name: bindparam(f"new_{name}", type_=_C[name].type) for name in columns})
        .returning(_C.id)
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
