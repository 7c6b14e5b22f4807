"""A `spec.Setup` written as the TOML file `apply` reads (`uketsuke clinic show`).

Written by hand: the structure is fixed and small, and the standard library reads TOML but
does not write it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time

from backend.clinic_setup.spec import ClinicSpec, Setup, Week, range_text
from backend.conversation import words

CLINIC_KEYS = (
    "name",
    "phone",
    "address",
    "timezone",
    "slot_step_minutes",
    "lead_time_minutes",
    "horizon_days",
    "cancel_deadline_minutes",
    "request_hold_minutes",
    "auto_approve",
    "holidays_closed",
    "line_add_url",
    "quiet_start",
    "quiet_end",
    "quiet_hours_transactional",
    "marketing_interval_days",
)
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}

Value = str | int | bool | time | date | None


def string(text: str) -> str:
    """A TOML basic string: quotes and backslashes escaped, control characters as escapes."""
    return '"' + "".join(_escaped(char) for char in text) + '"'


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char < " " or char == "\x7f":
        return f"\\u{ord(char):04X}"
    return char


def value(item: Value) -> str:
    """One TOML value; None (an empty optional text) as ""."""
    if item is None:
        return '""'
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, time):
        return string(f"{item:%H:%M}")
    if isinstance(item, date):
        return item.isoformat()
    return string(item)


def array(items: Sequence[str]) -> str:
    """A one-line array of strings."""
    return "[" + ", ".join(string(item) for item in items) + "]"


def dumps(setup: Setup, *, header: Sequence[str] = ()) -> str:
    """The set-up as the file `apply` reads (`current` gives every clinic key)."""
    lines = [f"# {line}" if line else "#" for line in header]
    lines += ["", "[clinic]"] if lines else ["[clinic]"]
    lines += _clinic(setup.clinic)
    lines += ["", "[hours]", *_week(setup.hours)]
    for day in setup.closed_days:
        lines += ["", "[[closed_days]]", f"date = {value(day.on)}"]
        lines += [f"reason = {string(day.reason)}"] if day.reason else []
    for course in setup.courses:
        lines += ["", "[[courses]]"]
        fields = course.model_dump(exclude_none=True).items()
        lines += [f"{key} = {value(item)}" for key, item in fields]
    for member in setup.staff:
        lines += ["", "[[staff]]", f"name = {string(member.name)}"]
        lines += [f"kana = {string(member.kana)}"] if member.kana else []
        lines += [f"role = {string(member.role.value)}"]
        lines += ["", "[staff.shifts]", *_week(member.shifts)] if member.shifts.spans() else []
    for bed in setup.beds:
        lines += ["", "[[beds]]", f"name = {string(bed.name)}", f"capacity = {bed.capacity}"]
    lines += ["", "[media]", "names = [", *(f"  {string(name)}," for name in setup.media), "]"]
    return "\n".join(lines) + "\n"


def _clinic(spec: ClinicSpec) -> list[str]:
    # The number as people in Japan write it (03-1234-5678); apply reads it back as stored.
    shown = spec.model_copy(update={"phone": words.phone(spec.phone) or None})
    # A key a file left out stays out: it means "keep the clinic's value", not "empty".
    given = [key for key in CLINIC_KEYS if key in spec.model_fields_set]
    return [f"{key} = {value(getattr(shown, key))}" for key in given]


def _week(week: Week) -> list[str]:
    return [
        f"{key} = {array([range_text(span) for span in sorted(ranges)])}"
        for _number, key, ranges in week.days()
    ]
