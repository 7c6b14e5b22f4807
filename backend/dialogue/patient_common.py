"""What the patient performers share: registering a performer, refusals as Result data,
finding the clinic, patient and booking an effect is about, and reading and writing the
values effects carry (ids, dates, ISO 8601 times in the clinic's zone).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.booking.schedule import ClinicRules
from backend.conversation.model import Effect, Facts, Result
from backend.dialogue.runner import Performer
from backend.errors import DomainError, Invalid, NotFound
from backend.models import Booking, Clinic, Patient

ACTOR = "patient:line"

Body = Callable[[Session, Facts, Mapping[str, Any]], Mapping[str, Any] | Result]


def registry(performers: dict[str, Performer]) -> Callable[[str], Callable[[Body], Body]]:
    """A decorator `performs(name)` that adds a performer of effect `name` to `performers`."""

    def performs(name: str) -> Callable[[Body], Body]:
        """Register `body` as the performer of effect `name`; refusals become failed Results."""

        def register(body: Body) -> Body:
            def perform(session: Session, facts: Facts, effect: Effect) -> Result:
                try:
                    found = body(session, facts, effect.args)
                except DomainError as err:
                    return Result(name, ok=False, data=refusal(err))
                return found if isinstance(found, Result) else Result(name, ok=True, data=found)

            performers[name] = perform
            return body

        return register

    return performs


def refusal(err: DomainError) -> dict[str, Any]:
    plain = (str, int, float, bool, type(None))
    context = {key: value for key, value in err.context.items() if isinstance(value, plain)}
    return {**context, "code": err.code}


# Looking things up


def clinic(session: Session, facts: Facts) -> Clinic:
    found = session.get(Clinic, facts.clinic.id)
    if found is None:
        raise NotFound("clinic not found", field="clinic_id")
    return found


def zone(found: ClinicRules) -> ZoneInfo:
    return ZoneInfo(found.timezone)


def patient(session: Session, facts: Facts) -> Patient:
    found = session.get(Patient, facts.patient.id) if facts.patient else None
    if found is None:
        raise NotFound("this LINE user is not registered", field="patient_id")
    return found


def own_booking(session: Session, facts: Facts, booking_id: object) -> Booking:
    """The patient's own booking; anyone else's is "not found", never "forbidden"."""
    found = session.get(Booking, booking_id) if isinstance(booking_id, int) else None
    mine = facts.patient is not None and found is not None and found.patient_id == facts.patient.id
    if found is None or not mine or found.clinic_id != facts.clinic.id:
        raise NotFound("booking not found", field="booking_id")
    return found


def chosen(args: Mapping[str, Any]) -> tuple[int, int | None]:
    """The course and the nominee (None: no nomination) an effect is for."""
    course_id, staff_id = args.get("course_id"), args.get("staff_id")
    if not isinstance(course_id, int) or not isinstance(staff_id, int | None):
        raise Invalid("course_id and staff_id must be ids", field="course_id")
    return course_id, staff_id


def parse_start(value: object) -> datetime:
    try:
        found = datetime.fromisoformat(str(value))
    except ValueError:
        raise Invalid("not a start time", field="start") from None
    if found.tzinfo is None:
        raise Invalid("the start needs a zone", field="start")
    return found


def parse_date(value: object, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid("not a date", field=field) from None


def iso(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat()


def nominee(found: Booking) -> int | None:
    return found.staff_id if found.nominated else None


def summary(found: Booking, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": found.id,
        "start": iso(found.starts_at, zone),
        "course": found.course.name,
        "staff": found.staff.name if found.nominated and found.staff else "",
        "status": found.status.value,
        "awaiting": found.awaiting.value if found.awaiting else None,
    }
