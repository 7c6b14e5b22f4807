"""What the set-up file holds: one pydantic model per section, each checking its own values
(times as HH:MM, ranges that end after they start, amounts of 0 or more, known kinds).

Pure: no database. Errors raised here carry an optional `at` in their context, a key below
the error's location, which `reading` adds to the place it names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from backend import kana, patients
from backend.errors import Invalid
from backend.models import PaymentKind, StaffRole

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # 0 = Monday, as the models
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
# Typed in Japanese, a range may use a wave dash; NFKC turns full-width digits, ： and ～.
_RANGE = re.compile(r"\s*(\S+?)\s*[-~〜–—]\s*(\S+)\s*")
KANA_LENGTH = 100  # the staff.kana column
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Range = tuple[time, time]
Span = tuple[int, time, time]  # weekday (0 = Monday), start, end


def _plain(text: str) -> str:
    if _CONTROL.search(text):
        raise PydanticCustomError("control", "must be one line without tabs or control characters")
    return text


def _clock(raw: str) -> time:
    """`HH:MM` (one-digit hours too) as a time of day, or a PydanticCustomError."""
    found = _CLOCK.fullmatch(raw.strip())
    if found is None:
        raise PydanticCustomError("clock", "{text} is not a time as HH:MM", {"text": quoted(raw)})
    hour, minute = int(found[1]), int(found[2])
    if hour > 23 or minute > 59:
        raise PydanticCustomError(
            "clock", "{text} is not a time of day (00:00 to 23:59)", {"text": quoted(raw)}
        )
    return time(hour, minute)


def _parse_clock(value: object) -> time:
    if not isinstance(value, str):
        raise PydanticCustomError("clock", 'must be a time in quotes, like "09:00"')
    return _clock(unicodedata.normalize("NFKC", value))


def _parse_range(value: object) -> Range:
    if not isinstance(value, str):
        raise PydanticCustomError("range", 'must be a range in quotes, like "09:00-12:00"')
    text = unicodedata.normalize("NFKC", value)
    found = _RANGE.fullmatch(text)
    if found is None:
        raise PydanticCustomError(
            "range", "{text} is not a range like 09:00-12:00", {"text": quoted(value)}
        )
    starts, ends = _clock(found[1]), _clock(found[2])
    if ends <= starts:
        raise PydanticCustomError("range", "{text} ends before it starts", {"text": quoted(value)})
    return (starts, ends)


def quoted(text: str) -> str:
    """Text in double quotes, as a message shows what was written."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def range_text(span: Range) -> str:
    """A range as the file writes it: 09:00-12:00."""
    return f"{span[0]:%H:%M}-{span[1]:%H:%M}"


Clock = Annotated[time, BeforeValidator(_parse_clock)]
TimeRange = Annotated[Range, BeforeValidator(_parse_range)]


def _apart(ranges: list[Range]) -> list[Range]:
    for index, span in enumerate(ranges):
        for other in ranges[:index]:
            if span[0] < other[1] and other[0] < span[1]:
                raise PydanticCustomError(
                    "overlap",
                    '"{range}" overlaps "{other}"',
                    {"at": index, "range": range_text(span), "other": range_text(other)},
                )
    return ranges


# One day's ranges, none overlapping another (touching is fine: 12:00-15:00, 15:00-20:00).
Day = Annotated[list[TimeRange], AfterValidator(_apart)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_plain),
]
BedName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    AfterValidator(_plain),
]


class _Section(BaseModel):
    # Strict: TOML has types, so "15" for a number or 1 for true is a mistake to name.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ClinicSpec(_Section):
    """The clinic's own settings; a key left out keeps the clinic's value (or the default)."""

    name: Name
    phone: str | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    timezone: str | None = None
    slot_step_minutes: int | None = Field(default=None, ge=5, le=120)
    lead_time_minutes: int | None = Field(default=None, ge=0, le=60 * 24 * 30)
    horizon_days: int | None = Field(default=None, ge=1, le=400)
    cancel_deadline_minutes: int | None = Field(default=None, ge=0, le=60 * 24 * 30)
    request_hold_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 30)
    auto_approve: bool | None = None
    holidays_closed: bool | None = None
    line_add_url: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
    ) = None
    quiet_start: Clock | None = None
    quiet_end: Clock | None = None
    quiet_hours_transactional: bool | None = None
    marketing_interval_days: int | None = Field(default=None, ge=0, le=365)

    @field_validator("address", "line_add_url")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return _plain(value) if value else None  # "" clears the value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        try:
            return patients.normalize_phone(value)
        except Invalid as refused:
            raise PydanticCustomError(
                "phone", "{text}: {reason}", {"text": quoted(value), "reason": refused.message}
            ) from refused

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as unknown:
            raise PydanticCustomError(
                "zone", "{text} is not a time zone, e.g. Asia/Tokyo", {"text": quoted(value)}
            ) from unknown
        return value

    @field_validator("line_add_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith("https://"):
            raise PydanticCustomError("url", "must start with https://")
        return value


class Week(_Section):
    """Ranges per weekday; a day left out (or `[]`) has none."""

    mon: Day = []
    tue: Day = []
    wed: Day = []
    thu: Day = []
    fri: Day = []
    sat: Day = []
    sun: Day = []

    def days(self) -> list[tuple[int, str, list[Range]]]:
        """(weekday number, key, ranges) for every day, Monday first."""
        return [(number, key, getattr(self, key)) for number, key in enumerate(WEEKDAYS)]

    def spans(self) -> set[Span]:
        """Every (weekday, start, end)."""
        return {(number, *span) for number, _key, ranges in self.days() for span in ranges}


class ClosedDaySpec(_Section):
    on: Annotated[date, Field(strict=False)] = Field(alias="date")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        return _plain(value) if value else None


class CourseSpec(_Section):
    name: Name
    staff_minutes: int = Field(ge=0, le=600)
    machine_minutes: int = Field(default=0, ge=0, le=600)
    price_yen: int = Field(ge=0, le=10_000_000)
    payment: Annotated[PaymentKind, Field(strict=False)]
    insurance_claim_yen: int = Field(default=0, ge=0, le=10_000_000)
    revisit_interval_days: int | None = Field(default=None, ge=1, le=365)
    for_first_visit: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> CourseSpec:
        if self.staff_minutes + self.machine_minutes == 0:
            raise PydanticCustomError("length", "staff_minutes and machine_minutes are both 0")
        if self.insurance_claim_yen and self.payment != PaymentKind.INSURANCE:
            raise PydanticCustomError(
                "claim",
                "only insurance courses have a claim (this one is {payment})",
                {"at": "insurance_claim_yen", "payment": self.payment.value},
            )
        return self


class StaffSpec(_Section):
    name: Name
    kana: Annotated[str, StringConstraints(max_length=KANA_LENGTH)] | None = None
    role: Annotated[StaffRole, Field(strict=False)] = StaffRole.PRACTITIONER
    shifts: Week = Week()

    @field_validator("kana")
    @classmethod
    def _kana(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # フリガナ as the カルテ keeps it: full-width katakana, one space between words.
        reading = kana.normalize(_plain(value))
        if len(reading) > KANA_LENGTH:
            raise PydanticCustomError(
                "kana", "must be at most {most} characters", {"most": KANA_LENGTH}
            )
        return reading or None


class BedSpec(_Section):
    name: BedName
    capacity: int = Field(default=1, ge=1, le=50)


class MediaSpec(_Section):
    names: list[Name] = []


@dataclass(frozen=True)
class Setup:
    """A whole clinic as the file describes it."""

    clinic: ClinicSpec
    hours: Week
    closed_days: list[ClosedDaySpec]
    courses: list[CourseSpec]
    staff: list[StaffSpec]
    beds: list[BedSpec]
    media: list[str]
