"""A hand-built calendar for the rule tests: one clinic (Tokyo), one practitioner, one bed,
a 7-day-revisit course, patients reachable on the channel a test asks for, and helpers to
run one rule at a fixed time and read what it queued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking, message_rules, visits
from backend.conversation import codec
from backend.conversation.model import Say
from backend.models import (
    Booking,
    Clinic,
    Course,
    MessageRule,
    OutboxMessage,
    Patient,
    RuleKind,
    Source,
)
from reminders import rules
from tests.factories import NOW, make_bed, make_clinic, make_course, make_patient, make_staff

LINE_USER = "U0000000000000000000000000000rules"


@dataclass
class World:
    session: Session
    clinic: Clinic
    course: Course

    def patient(self, channel: str = "line", *, consent: bool = True, **overrides: Any) -> Patient:
        """A patient reachable on `channel` only: "line", "sms" (a mobile), "email"."""
        values: dict[str, Any] = {
            "phone": "+81312340000",  # a landline: no SMS
            "consent_line": consent,
            "consent_sms": consent,
            "consent_email": consent,
        }
        if channel == "line":
            values["line_user_id"] = overrides.pop("line_user_id", LINE_USER)
        elif channel == "sms":
            values["phone"] = "+819011112222"
        elif channel == "email":
            values["email"] = "hanako@example.com"
        return make_patient(self.session, self.clinic, **(values | overrides))

    def confirmed(self, patient: Patient, starts_at: datetime, *, now: datetime = NOW) -> Booking:
        made = booking.request(
            self.session,
            clinic_id=self.clinic.id,
            patient_id=patient.id,
            course_id=self.course.id,
            starts_at=starts_at,
            now=now,
            source=Source.LINE,
            actor="test",
        )
        return booking.confirm(self.session, booking_id=made.id, actor="staff:test", now=now)

    def visit(self, patient: Patient, at: datetime) -> None:
        visits.record(
            self.session,
            clinic_id=self.clinic.id,
            patient_id=patient.id,
            actor="staff:test",
            now=at,
            visited_at=at,
            course_id=self.course.id,
        )

    def rule(self, kind: RuleKind) -> MessageRule:
        found = message_rules.ensure_rules(self.session, clinic=self.clinic, now=NOW)
        return next(rule for rule in found if rule.kind == kind)

    def run(self, kind: RuleKind, now: datetime) -> int:
        """Run one rule at `now`; how many messages it queued."""
        return rules.RULES[kind](self.session, clinic=self.clinic, rule=self.rule(kind), now=now)

    def queued(self, kind: RuleKind | None = None) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.purpose == f"rule:{kind.value}")
        return list(self.session.scalars(query))


def open_world(session: Session, **clinic: Any) -> World:
    made = make_clinic(session, **clinic)
    make_staff(session, made)
    make_bed(session, made)
    return World(session, made, make_course(session, made, revisit_interval_days=7))


def line_text(row: OutboxMessage) -> str:
    """The text of a LINE row's first reply."""
    first = codec.load(row.payload["replies"])[0]
    assert isinstance(first, Say)
    return first.text


def line_buttons(row: OutboxMessage) -> list[tuple[str, str]]:
    first = codec.load(row.payload["replies"])[0]
    assert isinstance(first, Say)
    return [(choice.label, choice.value) for choice in first.choices]
