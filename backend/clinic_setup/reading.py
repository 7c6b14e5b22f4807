"""Reading a set-up file: TOML, then each section and each item on its own, then the names
and dates given twice, so that one mistake hides no other. Every problem is one line naming
its place: `courses[2].price_yen: must be 0 or more`.

A closed day before today is refused too (`closed_days[0].date: 2025-12-29 is in the
past`): the file manages the closed days from today on and past ones are kept as history,
so a past date could only be ignored, and a file that silently means less than it says
is worse than one to tidy once a year."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from backend.clinic_setup.spec import (
    WEEKDAYS,
    BedSpec,
    ClinicSpec,
    ClosedDaySpec,
    CourseSpec,
    MediaSpec,
    Setup,
    StaffSpec,
    Week,
    quoted,
)

SECTIONS = ("clinic", "hours", "closed_days", "courses", "staff", "beds", "media")
DEFAULT_ZONE = "Asia/Tokyo"  # a new clinic's, as the clinic table's default


class Problems(Exception):
    """What is wrong with a set-up file, one `place: message` line each."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def read(text: str, *, now: datetime, zone: str = DEFAULT_ZONE) -> Setup:
    """The set-up a file's text describes, or Problems naming every mistake found. Closed
    days before `now`'s day are refused, in the file's zone, or `zone` (the clinic's) when
    the file names none."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Problems([f"not TOML: {error}"]) from error
    return _Reader().setup(data, now=now, zone=zone)


M = TypeVar("M", bound=BaseModel)


class _Reader:
    """Validates section by section and item by item, so one mistake hides no other."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def setup(self, data: dict[str, Any], *, now: datetime, zone: str) -> Setup:
        self.lines.extend(
            f"{key}: unknown section (use {', '.join(SECTIONS)})"
            for key in data
            if key not in SECTIONS
        )
        clinic = self.one(ClinicSpec, data.get("clinic"), "clinic")
        hours = self.one(Week, data.get("hours"), "hours")
        closed = self.many(ClosedDaySpec, data.get("closed_days", []), "closed_days")
        named = clinic.timezone if clinic is not None else None
        today = now.astimezone(ZoneInfo(named or zone)).date()
        self.lines.extend(
            f"closed_days[{index}].date: {day.on.isoformat()} is in the past"
            " (past closed days are kept as they are: delete it from the file)"
            for index, day in closed
            if day.on < today
        )
        courses = self.many(CourseSpec, data.get("courses", []), "courses")
        staff = self.many(StaffSpec, data.get("staff", []), "staff")
        beds = self.many(BedSpec, data.get("beds", []), "beds")
        media = self.one(MediaSpec, data.get("media", {}), "media")
        self.lines.extend(_twice(closed, "closed_days", ".date", lambda day: day.on.isoformat()))
        self.lines.extend(_twice(courses, "courses", ".name", lambda course: course.name))
        self.lines.extend(_twice(staff, "staff", ".name", lambda member: member.name))
        self.lines.extend(_twice(beds, "beds", ".name", lambda bed: bed.name))
        if media is not None:
            self.lines.extend(_twice(list(enumerate(media.names)), "media.names", "", str))
        if self.lines or clinic is None or hours is None or media is None:
            raise Problems(self.lines)
        return Setup(
            clinic=clinic,
            hours=hours,
            closed_days=[item for _index, item in closed],
            courses=[item for _index, item in courses],
            staff=[item for _index, item in staff],
            beds=[item for _index, item in beds],
            media=list(media.names),
        )

    def one(self, model: type[M], raw: object, place: str) -> M | None:
        if raw is None:
            self.lines.append(f"{place}: missing (a [{place}] table)")
            return None
        try:
            return model.model_validate(raw)
        except ValidationError as error:
            self.lines.extend(_line(place, detail) for detail in error.errors())
            return None

    def many(self, model: type[M], raw: object, place: str) -> list[tuple[int, M]]:
        if not isinstance(raw, list):
            self.lines.append(f"{place}: must be a list of tables ([[{place}]])")
            return []
        found = [
            (index, self.one(model, item, f"{place}[{index}]")) for index, item in enumerate(raw)
        ]
        return [(index, item) for index, item in found if item is not None]


T = TypeVar("T")


def _twice(
    items: Sequence[tuple[int, T]], place: str, field: str, key: Callable[[T], str]
) -> Iterable[str]:
    """A line for each item whose key an earlier item has (`field`: ".name", or "")."""
    first: dict[str, int] = {}
    for index, item in items:
        value = key(item)
        if value in first:
            yield f"{place}[{index}]{field}: {quoted(value)} is also {place}[{first[value]}]"
        else:
            first[value] = index


_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda _ctx: "missing",
    "extra_forbidden": lambda _ctx: "unknown key",
    "greater_than_equal": lambda ctx: f"must be {ctx['ge']} or more",
    "less_than_equal": lambda ctx: f"must be {ctx['le']} or less",
    "string_too_short": lambda _ctx: "must not be empty",
    "string_too_long": lambda ctx: f"must be at most {ctx['max_length']} characters",
    "string_type": lambda _ctx: "must be text in quotes",
    "int_type": lambda _ctx: "must be a whole number (no quotes)",
    "bool_type": lambda _ctx: "must be true or false (no quotes)",
    "list_type": lambda _ctx: "must be a list in brackets: [...]",
    "model_type": lambda _ctx: "must be a table",
    "enum": lambda ctx: f"must be one of {ctx['expected']}",
}


def _line(place: str, detail: ErrorDetails) -> str:
    """`place.loc: message` for one pydantic error, in the file's words."""
    context: dict[str, Any] = dict(detail.get("ctx") or {})
    loc = [*detail["loc"], *([context["at"]] if "at" in context else [])]
    where = place + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    kind = detail["type"]
    if kind == "extra_forbidden" and (place == "hours" or loc[-2:-1] == ["shifts"]):
        message = f"unknown weekday: use {', '.join(WEEKDAYS)}"
    elif kind in _MESSAGES:
        message = _MESSAGES[kind](context)
    elif kind.startswith(("date", "datetime")):
        message = "must be a date like 2026-12-29"
    else:
        message = detail["msg"]
    return f"{where}: {message}"
