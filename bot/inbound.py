"""Handle the LINE events the webhook recorded: oldest first, each in its own transaction
with its answers queued in the outbox (backend.inbox explains the taking)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from backend import inbox, outbox
from backend.api.deps import Store
from backend.dialogue import line
from bot import events

log = logging.getLogger(__name__)

SOURCE = "line"
BATCH = 100


def process(store: Store, *, clock: Callable[[], datetime], limit: int = BATCH) -> int:
    """Handle up to `limit` pending LINE events; return how many were handled."""
    with store.reader() as session:
        waiting = inbox.pending(session, source=SOURCE, limit=limit)
    handled = 0
    for row in waiting:
        event_id, now = row.id, clock()
        try:
            handled += handle(
                store,
                event_id=event_id,
                clinic_id=row.clinic_id,
                payload=row.payload,
                now=now,
                reply_until=row.received_at + outbox.REPLY_TOKEN_LIFETIME,
            )
        except Exception as error:
            # Its transaction was rolled back; count the attempt so a poison event stops.
            # Exception texts can carry patients' words: only the type is kept and logged.
            reason = type(error).__name__
            log.error("LINE event %s could not be handled (%s)", event_id, reason)
            log.debug("LINE event failure", exc_info=True)
            with store.transaction() as session:
                if inbox.failed(session, event_id=event_id, error=reason, now=now):
                    log.error(
                        "LINE event %s given up after %s attempts", event_id, inbox.MAX_ATTEMPTS
                    )
    return handled


def handle(
    store: Store,
    *,
    event_id: int,
    clinic_id: int | None,
    payload: dict[str, Any],
    now: datetime,
    reply_until: datetime,
) -> bool:
    """Take one event and let the dialogue answer it; False when another handler took it."""
    with store.transaction() as session:
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
