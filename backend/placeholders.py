"""Campaign templates: plain text with `{patient_name}` `{clinic_name}` `{clinic_phone}`.

Parsing and filling in are the message rules' (backend.message_rules), so a campaign and a
reminder read the same way: `{{` and `}}` are literal braces, only whole names are allowed
(no `{a.b}`, `{a[0]}`, conversions or format specs). A placeholder a campaign cannot fill
is refused when it is saved, so a typo never reaches a patient as 「{patinet_name}」.
"""

from __future__ import annotations

import functools

from backend import message_rules
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
    for name in message_rules.placeholders(template):
        if name not in NAMES:
            known = ", ".join(f"{{{known}}}" for known in NAMES)
            raise Invalid(f"unknown placeholder {{{name}}}; use {known}", field=field)


def render(template: str, *, clinic: Clinic, patient: Patient) -> str:
    """The template filled in for one patient (check it first)."""
    values = {
        "patient_name": patient.name,
        "clinic_name": clinic.name,
        "clinic_phone": _dialed(clinic.phone),
    }
    return message_rules.render(template, values)


@functools.lru_cache(maxsize=64)
def _dialed(phone: str | None) -> str:
    # Parsing a number costs more than the rest of a message; a campaign renders thousands.
    return words.phone(phone)
