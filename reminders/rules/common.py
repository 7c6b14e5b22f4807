"""What the rules share: the clinic's day and send time, which patients may be written to,
and queueing each message once through backend.messaging."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session, aliased

from backend import message_rules, messaging
from backend.conversation.model import Choice, Say
from backend.models import (
    Booking,
    BookingStatus,
    Clinic,
    MessageKind,
    MessageRule,
    OutboxMessage,
    Patient,
    RuleKind,
)
from reminders import templates

KINDS = {
    RuleKind.DAY_BEFORE: MessageKind.TRANSACTIONAL,
    RuleKind.SAME_DAY: MessageKind.TRANSACTIONAL,
    RuleKind.THANK_YOU: MessageKind.TRANSACTIONAL,
    RuleKind.NO_SHOW: MessageKind.TRANSACTIONAL,
    RuleKind.SECOND_VISIT: MessageKind.MARKETING,
    RuleKind.NEXT_VISIT: MessageKind.MARKETING,
    RuleKind.LAPSED: MessageKind.MARKETING,
    RuleKind.BIRTHDAY: MessageKind.MARKETING,
    RuleKind.SEASONAL: MessageKind.MARKETING,
}
# A day-based rule whose tick was missed still sends for due days this far back (the
# worker was down); older ones are left alone: a nudge a week late is worse than none.
LATE_DAYS = 2
_ACTIVE = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED)


@dataclass(frozen=True)
class Message:
    """One patient message a rule wants queued, with the key of its business fact."""

    patient: Patient
    key: str
    values: dict[str, Any]
    choices: tuple[Choice, ...] = field(default=())


def today(clinic: Clinic, now: datetime) -> date:
    """The clinic's local date at `now`."""
    return now.astimezone(ZoneInfo(clinic.timezone)).date()


def at(clinic: Clinic, day: date, clock: time) -> datetime:
    """A local wall-clock time of the clinic on `day`, as an aware datetime."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(clinic.timezone))


def day_start(clinic: Clinic, day: date) -> datetime:
    """The clinic's local midnight starting `day`."""
    return at(clinic, day, time(0))


def send_time(rule: MessageRule) -> time:
    """The rule's `send_at` parameter (「18:00」) as a time."""
    return time.fromisoformat(str(message_rules.param(rule, "send_at")))


def reached(clinic: Clinic, rule: MessageRule, now: datetime) -> bool:
    """Whether today's send time of the rule has come."""
    return now >= at(clinic, today(clinic, now), send_time(rule))


def local(clinic: Clinic, moment: datetime) -> datetime:
    """A stored UTC time in the clinic's zone."""
    return moment.astimezone(ZoneInfo(clinic.timezone))


def local_day(clinic: Clinic, moment: datetime) -> date:
    """The clinic's local date of a stored UTC time."""
    return local(clinic, moment).date()


def live(clinic: Clinic) -> ColumnElement[bool]:
    """The clinic's patients who are not merged into another record."""
    return (Patient.clinic_id == clinic.id) & Patient.merged_into_id.is_(None)


def consented() -> ColumnElement[bool]:
    """Patients who agreed to marketing on some channel (messaging checks which)."""
    return or_(Patient.consent_line, Patient.consent_sms, Patient.consent_email)


def nothing_booked(now: datetime) -> ColumnElement[bool]:
    """Patients with no requested or confirmed booking ahead."""
    ahead = aliased(Booking)  # an alias: the outer query may select bookings too
    return ~exists().where(
        ahead.patient_id == Patient.id,
        ahead.status.in_(_ACTIVE),
        ahead.starts_at > now,
    )


def unsent(session: Session, keys: Iterable[str]) -> set[str]:
    """The keys no outbox row carries yet: a tick does not re-send what an earlier one did."""
    wanted = set(keys)
    found: set[str] = set()
    chunk = sorted(wanted)
    for start in range(0, len(chunk), 500):
        part = chunk[start : start + 500]
        found.update(
            session.scalars(
                select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(part))
            )
        )
    return wanted - found


def deliver(
    session: Session,
    *,
    clinic: Clinic,
    rule: MessageRule,
    messages: Sequence[Message],
    now: datetime,
) -> int:
    """Queue each message not queued before; return how many were."""
    fresh = unsent(session, (message.key for message in messages))
    queued = 0
    for message in messages:
        if message.key not in fresh:
            continue
        said = Say(templates.text(rule, message.values), message.choices)
        made = messaging.send(
            session,
            clinic=clinic,
            patient=message.patient,
            replies=(said,),
            purpose=f"rule:{rule.kind.value}",
            idempotency_key=message.key,
            now=now,
            kind=KINDS[rule.kind],
        )
        queued += made is not None
    return queued
