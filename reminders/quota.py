"""LINE's monthly message quota: when LINE answers that it is used up, the clinic's LINE
sending pauses until the month turns (in the clinic's zone), instead of burning retries.

The alert cannot go through LINE, which is what ran out: it is an ERROR in the log, once
per pause, a line at the top of `uketsuke outbox list`, and a warning on the dashboard.
While paused, the clinic's LINE rows stay pending and are not claimed
(reminders/claims.py); `resume_line`, one of the worker's steps, lifts a pause whose time
has come.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from backend import outbox
from backend.api.deps import Store
from backend.models import Channel, Clinic

if TYPE_CHECKING:
    from reminders.claims import Job

log = logging.getLogger(__name__)


def next_month(now: datetime, zone: str) -> datetime:
    """The first moment of the month after `now`'s, in `zone`, as UTC."""
    local = now.astimezone(ZoneInfo(zone))
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def pause_line(session: Session, *, clinic_id: int, now: datetime) -> datetime | None:
    """Pause the clinic's LINE sending until next month; alert (once) when this starts a
    pause. Returns the end of a new pause, None when one was already on."""
    zone = session.scalar(select(Clinic.timezone).where(Clinic.id == clinic_id))
    if zone is None:
        return None
    until = next_month(now, zone)
    statement = (
        update(Clinic)
        .where(
            Clinic.id == clinic_id,
            or_(Clinic.line_paused_until.is_(None), Clinic.line_paused_until <= now),
        )
        .values(line_paused_until=until)
    )
    result = cast("CursorResult[Any]", session.execute(statement))
    if result.rowcount != 1:
        return None
    log.error(
        "LINE monthly message quota reached for clinic %d: LINE sending paused until %s; "
        "raise the plan in LINE Official Account Manager, or wait (see `uketsuke outbox list`)",
        clinic_id,
        until.isoformat(),
    )
    return until


def out_of_quota(results: Sequence[tuple[Job, object]]) -> set[int]:
    """Clinics whose LINE channel answered that the month's message quota is used up."""
    return {
        job.clinic_id
        for job, result in results
        if isinstance(result, outbox.Retry) and result.quota and job.channel == Channel.LINE
    }


def resume_line(store: Store, now: datetime) -> list[int]:
    """Lift the LINE pauses that have run out; the clinics whose sending resumes."""
    with store.transaction() as session:
        resumed = list(
            session.scalars(
                update(Clinic)
                .where(Clinic.line_paused_until <= now)
                .values(line_paused_until=None)
                .returning(Clinic.id),
                execution_options={"synchronize_session": False},
            )
        )
    for clinic_id in resumed:
        log.info("LINE sending resumed for clinic %d", clinic_id)
    return resumed


def paused(session: Session, *, now: datetime) -> list[tuple[str, datetime]]:
    """Clinics whose LINE sending is paused now: name and until when."""
    rows = session.execute(
        select(Clinic.name, Clinic.line_paused_until)
        .where(Clinic.line_paused_until > now)
        .order_by(Clinic.id)
    )
    return [(name, until) for name, until in rows if until is not None]
