"""What the rules say: the placeholder values of a patient or a booking, rendered into a
rule's template (the defaults and the checks are backend/message_rules.py)."""

from __future__ import annotations

from collections.abc import Mapping

from backend import message_rules
from backend.conversation import words
from backend.models import Booking, Clinic, MessageRule, Patient


def patient_values(clinic: Clinic, patient: Patient) -> dict[str, str]:
    """Names and the clinic's phone: what every patient message may say."""
    return {
        "patient_name": patient.name,
        "clinic_name": clinic.name,
        "clinic_phone": words.phone(clinic.phone),
    }


def booking_values(clinic: Clinic, booking: Booking) -> dict[str, str]:
    """The patient's values plus the booking's day, time, menu and staff member."""
    return message_rules.booking_values(clinic, booking)


def text(rule: MessageRule, values: Mapping[str, object]) -> str:
    """The rule's template filled with `values`."""
    return message_rules.render(rule.template, values)
