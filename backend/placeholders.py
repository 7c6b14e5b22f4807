"""Templates staff write for patients: plain text with a few named placeholders.

`{patient_name}` `{clinic_name}` `{clinic_phone}` are filled in; `{{` and `}}` are literal
braces. Anything else in braces is refused when the template is saved, so a typo never
reaches a patient as 「{patinet_name}」. Only whole names are allowed (no `{a.b}`,
`{a[0]}`, conversions or format specs), which keeps `str.format` from reaching attributes.
"""

from __future__ import annotations

import functools
from string import Formatter

from backend.conversation import words
from backend.errors import Invalid
from backend.models import Clinic, Patient

NAMES = ("patient_name", "clinic_name", "clinic_phone")
MAX_LENGTH = 1000


def check(template: str, *, field: str = "template") -> None:
    """Refuse an empty or overlong template, unknown placeholders and unbalanced braces."""
    if not template.strip():
        raise Invalid("the template is empty", field=field)
    if len(template) > MAX_LENGTH:
        raise Invalid(f"the template is longer than {MAX_LENGTH} characters", field=field)
    for name in used(template, field=field):
        if name not in NAMES:
            known = ", ".join(f"{{{known}}}" for known in NAMES)
            raise Invalid(f"unknown placeholder {{{name}}}; use {known}", field=field)


def used(template: str, *, field: str = "template") -> list[str]:
    """The placeholder names in `template`, in order."""
    try:
        parts = list(Formatter().parse(template))
    except ValueError as error:
        raise Invalid(f"unbalanced braces: {error}", field=field) from error
    names = []
    for _text, name, spec, conversion in parts:
        if name is None:
            continue
        if spec or conversion:
            raise Invalid(f"placeholder {{{name}}} may not have a format", field=field)
        names.append(name)
    return names


def render(template: str, *, clinic: Clinic, patient: Patient) -> str:
    """The template filled in for one patient (check it first)."""
    values = {
        "patient_name": patient.name,
        "clinic_name": clinic.name,
        "clinic_phone": _dialed(clinic.phone),
    }
    return template.format_map(values)


@functools.lru_cache(maxsize=64)
def _dialed(phone: str | None) -> str:
    # Parsing a number costs more than the rest of a message; a campaign renders thousands.
    return words.phone(phone)
