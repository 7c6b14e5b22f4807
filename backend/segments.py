"""Segments: which patients a campaign or a postal DM goes to, as one SQL query.

A segment narrows a clinic's patients by their last visit (a date range in the clinic's
zone), how many visits they had, a course or staff member they were treated with, their
media (来院経路), tags (all of them), birthday month, and the channel they can be reached
on for marketing. Merged duplicates are never in a segment. A clinic may hold tens of
thousands of patients, so everything is filtered and counted in the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import ColumnElement, Select, and_, case, exists, extract, func, or_, select
from sqlalchemy.orm import Session

from backend.errors import Invalid
from backend.models import Clinic, Course, Media, Patient, PatientTag, Staff, Visit

MAX_VISITS = 100_000
# Japanese mobile numbers (070/080/090) in E.164: +81, the prefix without its 0, eight more
# digits. messaging.is_mobile (phonenumbers) says the same of every such number.
MOBILE_PREFIXES = ("+8170", "+8180", "+8190")
MOBILE_LENGTH = 13


def _printable(value: str) -> str:
    # PostgreSQL refuses NUL in text; no name or tag holds a control character.
    if any(ord(char) < 32 for char in value):
        raise ValueError("control characters are not allowed")
    return value


Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_printable),
]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    AfterValidator(_printable),
]
Count = Annotated[int, Field(ge=0, le=MAX_VISITS)]
SelectT = TypeVar("SelectT", bound=Select[Any])


class Reach(StrEnum):
    """A channel a patient can be reached on for marketing (post: a DM to their address)."""

    LINE = "line"
    SMS = "sms"
    EMAIL = "email"
    POST = "post"


class Segment(BaseModel):
    """Who a campaign goes to; every field left out matches everyone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    last_visit_from: date | None = Field(None, description="last visit on or after this day")
    last_visit_to: date | None = Field(None, description="last visit on or before this day")
    min_visits: Count | None = None
    max_visits: Count | None = None
    course: Label | None = Field(None, description="treated with this course (name)")
    media: Label | None = Field(None, description="came through this media (name)")
    staff: Label | None = Field(None, description="treated by this staff member (name)")
    tags: list[Tag] = Field(default_factory=list, max_length=20, description="has every tag")
    birth_month: int | None = Field(None, ge=1, le=12)
    channel: Reach | None = Field(None, description="reachable on this channel for marketing")

    @field_validator("last_visit_from", "last_visit_to")
    @classmethod
    def _sane_day(cls, day: date | None) -> date | None:
        if day is not None and not 1900 <= day.year <= 2200:
            raise ValueError("year must be between 1900 and 2200")
        return day

    @field_validator("last_visit_to")
    @classmethod
    def _after_from(cls, day: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("last_visit_from")
        if day is not None and start is not None and day < start:
            raise ValueError("must not be before last_visit_from")
        return day

    @field_validator("max_visits")
    @classmethod
    def _above_min(cls, number: int | None, info: ValidationInfo) -> int | None:
        least = info.data.get("min_visits")
        if number is not None and least is not None and number < least:
            raise ValueError("must not be less than min_visits")
        return number


@dataclass(frozen=True)
class Counts:
    """How many patients a segment matches, and on which channel each would get marketing."""

    total: int
    line: int
    sms: int
    email: int
    unreachable: int
    post: int


def parse(data: dict[str, Any]) -> Segment:
    """A segment from stored or typed-in values; Invalid names the first wrong field."""
    try:
        return Segment.model_validate(data)
    except ValueError as error:
        raise Invalid(_first_problem(error), field=_first_field(error)) from error


def _first_problem(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if errors is None:
        return str(error)
    first = errors()[0]
    return f"segment: {first['msg']}"


def _first_field(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if errors is None:
        return "segment"
    location = [str(part) for part in errors()[0]["loc"]]
    return ".".join(["segment", *location])


def line_ok() -> ColumnElement[bool]:
    return and_(Patient.line_user_id.is_not(None), Patient.line_reachable, Patient.consent_line)


def sms_ok() -> ColumnElement[bool]:
    mobile = or_(*(Patient.phone.startswith(prefix) for prefix in MOBILE_PREFIXES))
    length = func.length(Patient.phone) == MOBILE_LENGTH
    return and_(mobile, length, Patient.consent_sms, ~Patient.sms_opted_out)


def email_ok() -> ColumnElement[bool]:
    return and_(Patient.email.is_not(None), Patient.email != "", Patient.consent_email)


def post_ok() -> ColumnElement[bool]:
    return and_(
        Patient.consent_post,
        Patient.postal_code.is_not(None),
        Patient.postal_code != "",
        Patient.address.is_not(None),
        Patient.address != "",
    )


REACHABLE = {Reach.LINE: line_ok, Reach.SMS: sms_ok, Reach.EMAIL: email_ok, Reach.POST: post_ok}


def patients(session: Session, *, clinic: Clinic, segment: Segment) -> Select[Patient]:
    """The segment's patients in id order, as a query to run or page through."""
    return _filtered(select(Patient), session, clinic=clinic, segment=segment).order_by(Patient.id)


def iterate(
    session: Session, *, clinic: Clinic, segment: Segment, batch: int = 500
) -> Iterator[Patient]:
    """The segment's patients, loaded `batch` at a time (keyset pages, any database)."""
    after = 0
    query = patients(session, clinic=clinic, segment=segment)
    while True:
        page = list(session.scalars(query.where(Patient.id > after).limit(batch)))
        yield from page
        if len(page) < batch:
            return
        after = page[-1].id


def count(session: Session, *, clinic: Clinic, segment: Segment) -> Counts:
    """How many patients match, split by the channel marketing would use (LINE → SMS →
    email, as messaging.send chooses), and how many could get a postal DM."""
    route = case(
        (line_ok(), Reach.LINE.value),
        (sms_ok(), Reach.SMS.value),
        (email_ok(), Reach.EMAIL.value),
        else_="none",
    ).label("route")
    postal = func.sum(case((post_ok(), 1), else_=0))
    query = select(route, func.count(), postal).group_by(route)
    rows = session.execute(_filtered(query, session, clinic=clinic, segment=segment)).all()
    by_route = {name: (number, int(post or 0)) for name, number, post in rows}
    return Counts(
        total=sum(number for number, _ in by_route.values()),
        line=by_route.get(Reach.LINE.value, (0, 0))[0],
        sms=by_route.get(Reach.SMS.value, (0, 0))[0],
        email=by_route.get(Reach.EMAIL.value, (0, 0))[0],
        unreachable=by_route.get("none", (0, 0))[0],
        post=sum(post for _, post in by_route.values()),
    )


def _filtered(query: SelectT, session: Session, *, clinic: Clinic, segment: Segment) -> SelectT:
    conditions = [Patient.clinic_id == clinic.id, Patient.merged_into_id.is_(None)]
    conditions += _visit_conditions(session, clinic=clinic, segment=segment)
    conditions += _patient_conditions(session, clinic=clinic, segment=segment)
    return query.where(*conditions)


def _visit_conditions(
    session: Session, *, clinic: Clinic, segment: Segment
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    zone = ZoneInfo(clinic.timezone)
    last = select(func.max(Visit.visited_at)).where(Visit.patient_id == Patient.id)
    number = select(func.count(Visit.id)).where(Visit.patient_id == Patient.id)
    if segment.last_visit_from:
        conditions.append(last.scalar_subquery() >= _midnight(segment.last_visit_from, zone))
    if segment.last_visit_to:
        end = _midnight(segment.last_visit_to + timedelta(days=1), zone)
        conditions.append(last.scalar_subquery() < end)
    if segment.min_visits:
        conditions.append(number.scalar_subquery() >= segment.min_visits)
    if segment.max_visits is not None:
        conditions.append(number.scalar_subquery() <= segment.max_visits)
    if segment.course:
        course_ids = _ids(session, Course, clinic, segment.course, "course")
        conditions.append(_treated(Visit.course_id.in_(course_ids)))
    if segment.staff:
        staff_ids = _ids(session, Staff, clinic, segment.staff, "staff")
        conditions.append(_treated(Visit.staff_id.in_(staff_ids)))
    return conditions


def _patient_conditions(
    session: Session, *, clinic: Clinic, segment: Segment
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if segment.media:
        conditions.append(
            Patient.media_id.in_(_ids(session, Media, clinic, segment.media, "media"))
        )
    for tag in dict.fromkeys(segment.tags):
        conditions.append(
            exists().where(PatientTag.patient_id == Patient.id, PatientTag.tag == tag)
        )
    if segment.birth_month:
        conditions.append(extract("month", Patient.birth_on) == segment.birth_month)
    if segment.channel:
        conditions.append(REACHABLE[segment.channel]())
    return conditions


def _treated(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(Visit.patient_id == Patient.id, condition)


def _ids(session: Session, model: Any, clinic: Clinic, name: str, field: str) -> list[int]:
    """The ids of the clinic's rows with this name; Invalid names the field when none."""
    found = list(
        session.scalars(select(model.id).where(model.clinic_id == clinic.id, model.name == name))
    )
    if not found:
        raise Invalid(f"no {field} named 「{name}」 in this clinic", field=f"segment.{field}")
    return found


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
