"""Handle the LINE events the webhook recorded: oldest first, a few at a time in one
transaction, each event in a savepoint of its own with its answers queued in the outbox
(backend.inbox explains the taking).

A transaction per event cost about 0.8 ms of CPU of the 2 ms an event takes (beginning,
committing and the session around them); a savepoint costs a fraction of that. The
transactions stay short (`CHUNK` events, `CHUNK_SECONDS`) so the webhook's own writes,
which share SQLite's single writer, never wait long behind them.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from backend import inbox, outbox
from backend.api.deps import Store
from backend.dialogue import line
from bot import events

log = logging.getLogger(__name__)

SOURCE = "line"
BATCH = 100
CHUNK = 16  # events in one transaction at most
CHUNK_SECONDS = 0.005  # and no more events once a transaction has run this long


def process(
    store: Store,
    *,
    clock: Callable[[], datetime],
    limit: int = BATCH,
    make_way: Callable[[], bool] = lambda: True,
) -> int:
    """Handle up to `limit` pending LINE events; return how many were handled. `make_way`
    is called before each transaction (the web process waits there, briefly, while
    webhooks are being taken); when it answers False, webhooks are still pouring in and
    the transaction takes one event only, so the webhooks' writes wait for little."""
    with store.reader() as session:
        waiting = inbox.pending(session, source=SOURCE, limit=limit)
    handled = 0
    rows = deque(waiting)
    while rows:
        chunk = CHUNK if make_way() else 1
        with store.transaction() as session:
            ends = time.monotonic() + CHUNK_SECONDS
            for _ in range(chunk):
                handled += _one(session, rows.popleft(), clock())
                if not rows or time.monotonic() > ends:
                    break
    return handled


def _one(session: Session, row: Row[Any], now: datetime) -> bool:
    """Handle one event in a savepoint; a failure rolls back only this event's work and
    counts the attempt, so a poison event stops and never holds back the others."""
    try:
        with session.begin_nested():
            return handle(
                session,
                event_id=row.id,
                clinic_id=row.clinic_id,
                payload=row.payload,
                now=now,
                reply_until=row.received_at + outbox.REPLY_TOKEN_LIFETIME,
            )
    except Exception as error:
        # Exception texts can carry patients' words: only the type is kept and logged.
        reason = type(error).__name__
        log.error("LINE event %s could not be handled (%s)", row.id, reason)
        log.debug("LINE event failure", exc_info=True)
        if inbox.failed(session, event_id=row.id, error=reason, now=now):
            log.error("LINE event %s given up after %s attempts", row.id, inbox.MAX_ATTEMPTS)
        return False


def handle(
    session: Session,
    *,
    event_id: int,
    clinic_id: int | None,
    payload: dict[str, Any],
    now: datetime,
    reply_until: datetime,
) -> bool:
    """Take one event and let the dialogue answer it; False when another handler took it."""
    if clinic_id is None or not inbox.take(session, event_id=event_id, now=now):
        return False
    translated = events.translate(payload)
    if translated is not None:
        line.handle(
            session,
            clinic_id=clinic_id,
            source=translated.source,
            event=translated.event,
            now=now,
            reply_token=translated.reply_token,
            reply_until=reply_until,
        )
    return True
