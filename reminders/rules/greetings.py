"""Greetings (marketing): the birthday message on the day, and seasonal greetings such as
暑中見舞い and 年末年始の診療案内 on the clinic's set dates. Both are sent on the day only:
a greeting days late is not a greeting."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, extract, or_, select
from sqlalchemy.orm import Session

from backend import message_rules
from backend.models import Clinic, MessageRule, Patient, Visit
from reminders import templates
from reminders.rules import common

# Seasonal greetings go to patients seen within this long, not to everyone ever treated.
RECENT = timedelta(days=365)


def _born_on(day: date) -> object:
    same = and_(
        extract("month", Patient.birth_on) == day.month, extract("day", Patient.birth_on) == day.day
    )
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        # Those born on 29 February are greeted on the 28th in other years.
        leap = and_(extract("month", Patient.birth_on) == 2, extract("day", Patient.birth_on) == 29)
        return or_(same, leap)
    return same


def birthday(session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime) -> int:
    """Patients whose birthday is today, from the send time."""
    if not common.reached(clinic, rule, now):
        return 0
    day = common.today(clinic, now)
    query = select(Patient).where(
        common.live(clinic),
        common.consented(),
        _born_on(day),  # type: ignore[arg-type]
    )
    messages = [
        common.Message(
            patient,
            f"rule:birthday:{patient.id}:{day.year}",
            templates.patient_values(clinic, patient),
        )
        for patient in session.scalars(query)
    ]
    return common.deliver(session, clinic=clinic, rule=rule, messages=messages, now=now)


def seasonal(session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime) -> int:
    """On each set date (`dates`: MM-DD and a greeting), the greeting to recent patients."""
    if not common.reached(clinic, rule, now):
        return 0
    day = common.today(clinic, now)
    todays = [
        item
        for item in message_rules.param(rule, "dates") or []
        if isinstance(item, dict) and item.get("on") == day.strftime("%m-%d")
    ]
    if not todays:
        return 0
    seen = exists().where(Visit.patient_id == Patient.id, Visit.visited_at >= now - RECENT)
    patients = session.scalars(
        select(Patient).where(common.live(clinic), common.consented(), seen).order_by(Patient.id)
    ).all()
    messages = [
        common.Message(
            patient,
            f"rule:seasonal:{item['on']}:{day.year}:{patient.id}",
            {
                **templates.patient_values(clinic, patient),
                "greeting": str(item.get("greeting", "")),
            },
        )
        for item in todays
        for patient in patients
    ]
    return common.deliver(session, clinic=clinic, rule=rule, messages=messages, now=now)
