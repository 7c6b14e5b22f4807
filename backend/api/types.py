"""Input types that keep bad values out before they reach the database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

MAX_ID = 2_147_483_647

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Yen = Annotated[int, Field(ge=0, le=100_000_000)]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]


def _printable(value: str) -> str:
    # PostgreSQL refuses NUL in text and control characters only corrupt CSV and LINE bodies.
    if any(ord(char) < 32 and char not in "\n\t" for char in value):
        raise ValueError("control characters are not allowed")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_printable),
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_printable)
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=4000), AfterValidator(_printable)
]


def _sane_date(value: date) -> date:
    if not 1900 <= value.year <= 2200:
        raise ValueError("year must be between 1900 and 2200")
    return value


Day = Annotated[date, AfterValidator(_sane_date)]


def _sane_datetime(value: datetime) -> datetime:
    if not 1900 <= value.year <= 2200:
        raise ValueError("year must be between 1900 and 2200")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_sane_datetime)]
