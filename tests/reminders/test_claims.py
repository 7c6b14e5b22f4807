"""Claiming and settling in plain statements: what they write is what the ORM writes (the
enums' values, the times), a batch key is written on every member when its batch is formed,
and a batch partly held elsewhere is not taken."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from backend import outbox
from backend.conversation.model import Say
from backend.models import Channel, Clinic, OutboxMessage, OutboxStatus
from reminders import claims, multicast
from tests.conftest import SessionStore
from tests.factories import NOW, make_clinic

CHANNELS = [Channel.LINE, Channel.SMS, Channel.EMAIL]


@pytest.fixture
def clinic(session: Session) -> Clinic:
    return make_clinic(session, hours=False)


def queue(session: Session, clinic: Clinic, n: int, text: str) -> int:
    row_id = outbox.line_replies(
        session, clinic_id=clinic.id, to=f"U{n:032x}", replies=[Say(text)], purpose="t", now=NOW
    )
    assert row_id is not None
    return row_id


def stored(session: Session, row_id: int, *columns: str) -> tuple[Any, ...]:
    """The columns as the database holds them, read without the columns' types."""
    names = ", ".join(columns)
    query = text(f"SELECT {names} FROM outbox_message WHERE id = :id")
    row = session.execute(query, {"id": row_id}).one()
    return tuple(row)


def test_a_batch_key_is_written_on_every_member_when_its_batch_is_formed(
    session: Session, clinic: Clinic
) -> None:
    members = [queue(session, clinic, n, "同じお知らせ") for n in range(3)]
    alone = queue(session, clinic, 9, "別のお知らせ")
    retry_keys = [stored(session, row_id, "retry_key")[0] for row_id in members]

    jobs = claims.claim(SessionStore(session), channels=CHANNELS, now=NOW, limit=10)

    key = multicast.batch_key(retry_keys)
    assert {job.id: job.batch_key for job in jobs} == {**dict.fromkeys(members, key), alone: None}
    assert [stored(session, row_id, "batch_key")[0] for row_id in members] == [key] * 3
    assert stored(session, alone, "batch_key") == (None,)


def test_claimed_and_settled_rows_hold_what_the_orm_would_have_written(
    session: Session, clinic: Clinic
) -> None:
    outcomes = {
        queue(session, clinic, 1, "送信"): outbox.Sent(),
        queue(session, clinic, 2, "再送"): outbox.Retry("LINE 500"),
        queue(session, clinic, 3, "失敗"): outbox.Failed("LINE 400"),
        queue(session, clinic, 4, "不明"): outbox.Uncertain("?"),
    }
    store = SessionStore(session)
    jobs = claims.claim(store, channels=CHANNELS, now=NOW, limit=10)
    # Written through the ORM on a row of its own, for comparison.
    written = session.get(OutboxMessage, queue(session, clinic, 5, "比較"))
    assert written is not None
    written.status = OutboxStatus.SENDING
    written.claimed_at = NOW
    session.flush()

    for job in jobs:
        assert stored(session, job.id, "status", "claimed_at", "channel") == stored(
            session, written.id, "status", "claimed_at", "channel"
        )
    claims.settle(store, [(job, outcomes[job.id]) for job in jobs], now=NOW)

    for job in jobs:
        values = claims._values(job, outcomes[job.id], NOW)
        for name, value in values.items():
            setattr(written, name, value)
        session.flush()
        columns = ("status", *values)
        assert stored(session, job.id, *columns) == stored(session, written.id, *columns)
    statuses = {stored(session, job.id, "status")[0] for job in jobs}
    assert statuses == {"sent", "pending", "failed", "uncertain"}


def test_a_batch_partly_held_elsewhere_is_not_taken(session: Session, clinic: Clinic) -> None:
    members = [queue(session, clinic, n, "同じお知らせ") for n in range(3)]
    store = SessionStore(session)
    assert len(claims.claim(store, channels=CHANNELS, now=NOW, limit=10)) == 3
    # Two come back (a settlement), one is still being sent under a live claim.
    for row_id in members[:2]:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.status, row.claimed_at = OutboxStatus.PENDING, None
    session.flush()

    later = NOW + timedelta(seconds=1)
    assert claims.claim(store, channels=CHANNELS, now=later, limit=10) == []

    session.expire_all()
    assert [stored(session, row_id, "status")[0] for row_id in members] == [
        "pending",
        "pending",
        "sending",
    ]
    # Once the last one's lease ran out, the batch is taken whole again, under its key.
    jobs = claims.claim(store, channels=CHANNELS, now=NOW + claims.LEASE, limit=10)
    assert sorted(job.id for job in jobs) == members
    assert len({job.batch_key for job in jobs}) == 1
