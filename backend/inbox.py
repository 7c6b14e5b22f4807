"""Record every inbound webhook event once, before acting on it (DESIGN rule 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import InboundEvent


def record(
    session: Session,
    *,
    source: str,
    external_id: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    clinic_id: int | None = None,
) -> InboundEvent | None:
    """Store the event and return it; None when (source, external_id) was seen before."""
    if session.scalar(
        select(InboundEvent.id).where(
            InboundEvent.source == source, InboundEvent.external_id == external_id
        )
    ):
        return None
    event = InboundEvent(
        clinic_id=clinic_id,
        source=source,
        external_id=external_id,
        kind=kind,
        payload=payload,
        received_at=now,
    )
    # Two deliveries racing past the check above: the unique constraint decides.
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        return None
    return event


def processed(event: InboundEvent, *, now: datetime) -> None:
    """Mark the event handled."""
    event.processed_at = now
