"""Rows for bookings with their status history, the visits of completed ones and the
amendments that later closed a case, written in chunks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from backend.db import Database
from backend.models import (
    Booking,
    BookingChange,
    BookingStatus,
    Outcome,
    Source,
    Visit,
    VisitAmendment,
)
from backend.seed import timing
from backend.seed.clinic import ClinicPlan
from backend.seed.drafts import BookingDraft
from backend.seed.writer import Progress, bulk, chunks, insert_ids, report

BOOKING_CHUNK = 2_000
BOOKING_STAGE = "予約・来院を書き込み"


def booking_row(draft: BookingDraft, plan: ClinicPlan, patient_ids: list[int]) -> dict[str, Any]:
    """The booking table row of a draft."""
    course_id, course = plan.courses[draft.course]
    cancelled = draft.status == BookingStatus.CANCELLED
    return {
        "clinic_id": plan.clinic_id,
        "patient_id": patient_ids[draft.patient],
        "course_id": course_id,
        "staff_id": draft.staff_id,
        "nominated": draft.nominated,
        "bed_id": draft.bed_id,
        "starts_at": draft.starts_at,
        "staff_ends_at": draft.starts_at + timedelta(minutes=course.staff_minutes),
        "ends_at": draft.starts_at + timedelta(minutes=course.minutes),
        "source": draft.source,
        "status": draft.status,
        "awaiting": draft.awaiting,
        "hold_until": draft.hold_until,
        "cancelled_by": draft.cancelled_by,
        "cancelled_at": draft.finished_at if cancelled else None,
        "note": draft.note,
        "created_at": draft.created_at,
        "updated_at": draft.updated_at,
    }


def change_rows(draft: BookingDraft, booking_id: int) -> list[dict[str, Any]]:
    """The status history of a booking: made, answered, then how it ended."""
    first = BookingStatus.CONFIRMED if draft.source == Source.STAFF else BookingStatus.REQUESTED
    steps: list[tuple[BookingStatus | None, BookingStatus, str, datetime, str | None]]
    steps = [(None, first, draft.actor, draft.created_at, None)]
    status = first
    if first == BookingStatus.REQUESTED and draft.confirmed_at is not None:
        assert draft.confirmed_by is not None
        steps.append(
            (status, BookingStatus.CONFIRMED, draft.confirmed_by, draft.confirmed_at, None)
        )
        status = BookingStatus.CONFIRMED
    if draft.finished_at is not None:
        assert draft.finished_by is not None
        steps.append((status, draft.status, draft.finished_by, draft.finished_at, draft.reason))
    return [
        {"booking_id": booking_id, "from_status": old, "to_status": new, "actor": actor}
        | {"starts_at": draft.starts_at, "reason": reason, "at": at}
        for old, new, actor, at, reason in steps
    ]


def visit_row(
    draft: BookingDraft, plan: ClinicPlan, booking_id: int, patient_id: int
) -> dict[str, Any]:
    """The visit (施術録 entry) of a completed booking."""
    visit = draft.visit
    assert visit is not None
    assert draft.finished_at is not None
    course_id, course = plan.courses[draft.course]
    return {
        "clinic_id": plan.clinic_id,
        "patient_id": patient_id,
        "booking_id": booking_id,
        "staff_id": draft.staff_id,
        "course_id": course_id,
        "visited_at": draft.starts_at,
        "staff_minutes": course.staff_minutes,
        "machine_minutes": course.machine_minutes,
        **visit.record,
        "outcome": visit.outcome,
        "completed_on": visit.completed_on,
        "copay_yen": visit.copay_yen,
        "claim_yen": visit.claim_yen,
        "self_pay_yen": visit.self_pay_yen,
        "ticket_yen": visit.ticket_yen,
        "created_at": draft.finished_at,
        "updated_at": _closed_at(draft, plan) or draft.finished_at,
    }


def _closed_at(draft: BookingDraft, plan: ClinicPlan) -> datetime | None:
    """When a 中止 was written on the entry, a month after the visit (an amendment)."""
    visit = draft.visit
    if visit is None or visit.outcome != Outcome.DISCONTINUED or visit.completed_on is None:
        return None
    return timing.at_hour(visit.completed_on, 10, plan.zone)


def amendment_row(draft: BookingDraft, plan: ClinicPlan, visit_id: int) -> dict[str, Any] | None:
    """The amendment that closed a case as 中止 after the patient stopped coming."""
    at = _closed_at(draft, plan)
    if at is None or draft.visit is None or draft.visit.completed_on is None:
        return None
    return {
        "visit_id": visit_id,
        "actor": draft.finished_by,
        "reason": "来院が途絶えたため転帰を中止とする",
        "changes": {
            "outcome": {"old": Outcome.CONTINUING.value, "new": Outcome.DISCONTINUED.value},
            "completed_on": {"old": None, "new": draft.visit.completed_on.isoformat()},
        },
        "at": at,
    }


def write_bookings(
    database: Database,
    plan: ClinicPlan,
    bookings: list[BookingDraft],
    patient_ids: list[int],
    progress: Progress | None,
) -> int:
    """Write bookings with their status history, visits and amendments; return changes."""
    written = changes = 0
    report(progress, BOOKING_STAGE, 0, len(bookings))
    for chunk in chunks(bookings, BOOKING_CHUNK):
        with database.transaction() as session:
            changes += _write_chunk(session, plan, chunk, patient_ids)
        written += len(chunk)
        report(progress, BOOKING_STAGE, written, len(bookings))
    return changes


def _write_chunk(
    session: Session, plan: ClinicPlan, chunk: Sequence[BookingDraft], patient_ids: list[int]
) -> int:
    rows = [booking_row(draft, plan, patient_ids) for draft in chunk]
    booking_ids = insert_ids(session, Booking, rows)
    pairs = list(zip(booking_ids, chunk, strict=True))
    changes = [row for booking_id, draft in pairs for row in change_rows(draft, booking_id)]
    bulk(session, BookingChange, changes)
    completed = [(booking_id, draft) for booking_id, draft in pairs if draft.visit is not None]
    if not completed:
        return len(changes)
    visit_rows = [
        visit_row(draft, plan, booking_id, patient_ids[draft.patient])
        for booking_id, draft in completed
    ]
    visit_ids = insert_ids(session, Visit, visit_rows)
    amendments = [
        row
        for visit_id, (_booking_id, draft) in zip(visit_ids, completed, strict=True)
        if (row := amendment_row(draft, plan, visit_id)) is not None
    ]
    bulk(session, VisitAmendment, amendments)
    return len(changes)
