"""What the staff performers share: running a performer in a savepoint, refusals as Result
data (naming who handled a request), the staff-only guard, and bookings as JSON-friendly
data in the clinic's zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.conversation.model import Effect, Facts, Result
from backend.dialogue.runner import Performer
from backend.errors import DomainError
from backend.models import Booking, Clinic, Staff
from backend.savepoint import savepoint

Body = Callable[[Session, Facts, Mapping[str, Any]], dict[str, Any]]


class NotStaff(DomainError):
    """Only a linked staff member may answer requests."""

    code = "not_staff"
    status = 403


def performer(name: str, body: Body) -> Performer:
    """Run `body` in a savepoint; a DomainError becomes a refusal naming its code."""

    def perform(session: Session, facts: Facts, effect: Effect) -> Result:
        try:
            with savepoint(session):
                data = body(session, facts, effect.args)
        except DomainError as error:
            return Result(name, ok=False, data=_refusal(session, facts, effect.args, error))
        return Result(name, data=data)

    return perform


def require_staff(facts: Facts) -> None:
    # The tables refuse first; this keeps the ledger safe from a table that forgot to.
    if not facts.actor.startswith("staff:"):
        raise NotStaff("only linked staff may see and answer requests")


def booking_data(item: Booking, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": item.id,
        "start": item.starts_at.astimezone(zone).isoformat(),
        "patient": item.patient.name,
        "course": item.course.name,
        "staff": item.staff.name if item.staff else None,
        "status": item.status.value,
        "awaiting": item.awaiting.value if item.awaiting else None,
    }


def _refusal(
    session: Session, facts: Facts, args: Mapping[str, Any], error: DomainError
) -> dict[str, Any]:
    data: dict[str, Any] = {"code": error.code, "message": error.message}
    data |= {key: _plain(value) for key, value in error.context.items()}
    if "booking_id" in args:
        data["booking_id"] = args["booking_id"]
        found = session.get(Booking, int(str(args["booking_id"])))
        if found is not None and found.clinic_id == facts.clinic.id:
            data["booking"] = booking_data(found, zone(session, facts))
    # Named here, not only from facts.staff: that lists practitioners, and reception
    # staff answer requests too.
    data["handled_by_name"] = staff_name(session, data.get("handled_by"))
    return data


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def staff_name(session: Session, actor: object) -> str | None:
    if not isinstance(actor, str) or not actor.startswith("staff:"):
        return None
    staff_id = actor.removeprefix("staff:")
    member = session.get(Staff, int(staff_id)) if staff_id.isdigit() else None
    return member.name if member else None


def clinic(session: Session, facts: Facts) -> Clinic:
    found = session.get(Clinic, facts.clinic.id)
    assert found is not None
    return found


def zone(session: Session, facts: Facts) -> ZoneInfo:
    return ZoneInfo(clinic(session, facts).timezone)
