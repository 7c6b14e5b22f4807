"""Messages to patients: through which channel, when, and whether at all.

Every message to a patient — a confirmation, a reminder, a campaign — goes through `send`:
it picks the first channel the patient can be reached on (LINE, then SMS, then email),
checks consent for marketing, holds marketing (and, if the clinic wants, everything) until
quiet hours end, caps marketing per patient, and queues one outbox row whose idempotency
key makes a rule that fires twice a no-op. No health information belongs in any body
(DESIGN rule 6); callers write only times, menus and the clinic's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import outbox
from backend.conversation import codec, words
from backend.conversation.model import Card, Carousel, Reply, Say
from backend.models import Channel, Clinic, MessageKind, OutboxMessage, OutboxStatus, Patient

# What still counts against the marketing cap: sent, on its way, or possibly sent.
_COUNTED = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.UNCERTAIN)
SMS_OPT_OUT = "配信停止は「停止」と返信"


def opt_out_line(clinic: Clinic, channel: Channel) -> str:
    """How to stop advertising by SMS or email (特定電子メール法): by reply, or by phone
    for senders a patient cannot reply to (an alphanumeric SMS sender ID)."""
    phone = f"{words.phone(clinic.phone)}" if clinic.phone else ""
    if channel == Channel.SMS:
        return f"{SMS_OPT_OUT}、またはお電話（{phone}）で" if phone else SMS_OPT_OUT
    by_phone = f"またはお電話（{phone}）で" if phone else ""
    return f"配信停止をご希望の方は、このメールへのご返信{by_phone}お知らせください。"


@dataclass(frozen=True)
class Route:
    """A channel and the address on it."""

    channel: Channel
    recipient: str


def routes(patient: Patient, *, kind: MessageKind) -> list[Route]:
    """The channels `patient` can be reached on for `kind`, in order of preference."""
    marketing = kind == MessageKind.MARKETING
    line = bool(patient.line_user_id) and patient.line_reachable
    sms = is_mobile(patient.phone) and not patient.sms_opted_out
    candidates = [
        (line, patient.consent_line, Route(Channel.LINE, patient.line_user_id or "")),
        (sms, patient.consent_sms, Route(Channel.SMS, patient.phone or "")),
        (bool(patient.email), patient.consent_email, Route(Channel.EMAIL, patient.email or "")),
    ]
    # Transactional messages follow the booking; marketing needs consent on that channel.
    return [route for ok, consent, route in candidates if ok and (consent or not marketing)]


def is_mobile(phone: str | None) -> bool:
    """Whether an E.164 number is a Japanese mobile (070/080/090), which can take SMS."""
    if not phone:
        return False
    try:
        number = phonenumbers.parse(phone, "JP")
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    return number.country_code == 81 and kind == phonenumbers.PhoneNumberType.MOBILE


def after_quiet_hours(clinic: Clinic, *, at: datetime, kind: MessageKind) -> datetime:
    """`at`, or the end of the clinic's quiet hours when `at` falls inside them and the
    message must wait (marketing always; transactional if the clinic chose so)."""
    if kind == MessageKind.TRANSACTIONAL and not clinic.quiet_hours_transactional:
        return at
    zone = ZoneInfo(clinic.timezone)
    local = at.astimezone(zone)
    if not _quiet(local.time(), clinic.quiet_start, clinic.quiet_end):
        return at
    day = local.date() if local.time() < clinic.quiet_end else local.date() + timedelta(days=1)
    return datetime.combine(day, clinic.quiet_end, tzinfo=zone)


def _quiet(now: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end  # the window crosses midnight (21:00–9:00)


def capped(session: Session, *, clinic: Clinic, patient_id: int, at: datetime) -> bool:
    """Whether the patient already has marketing within the clinic's interval of `at`."""
    interval = timedelta(days=clinic.marketing_interval_days)
    count = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.patient_id == patient_id,
            OutboxMessage.kind == MessageKind.MARKETING,
            OutboxMessage.status.in_(_COUNTED),
            OutboxMessage.due_at > at - interval,
            OutboxMessage.due_at < at + interval,
        )
    )
    return bool(count)


def plain(replies: tuple[Reply, ...] | list[Reply]) -> str:
    """Replies as plain text for SMS and email: words and card rows, no buttons."""
    parts: list[str] = []
    for reply in replies:
        if isinstance(reply, Say):
            parts.append(reply.text)
        elif isinstance(reply, Card):
            parts.append(_card_text(reply))
        elif isinstance(reply, Carousel):
            parts.extend(_card_text(card) for card in reply.cards)
    return "\n".join(part for part in parts if part)


def _card_text(card: Card) -> str:
    rows = [f"{label}: {value}" if label else value for label, value in card.rows]
    return "\n".join([f"【{card.title}】", *rows, *([card.note] if card.note else [])])


def send(
    session: Session,
    *,
    clinic: Clinic,
    patient: Patient,
    replies: tuple[Reply, ...] | list[Reply],
    purpose: str,
    idempotency_key: str,
    now: datetime,
    kind: MessageKind = MessageKind.TRANSACTIONAL,
    due_at: datetime | None = None,
    subject: str | None = None,
) -> int | None:
    """Queue a message to the patient on their best channel; None when they cannot or must
    not be reached (no channel, no consent, marketing cap), or it was queued before."""
    found = routes(patient, kind=kind)
    if not found:
        return None
    due = after_quiet_hours(clinic, at=due_at or now, kind=kind)
    if kind == MessageKind.MARKETING and capped(
        session, clinic=clinic, patient_id=patient.id, at=due
    ):
        return None
    route = found[0]
    return outbox.enqueue(
        session,
        clinic_id=clinic.id,
        channel=route.channel,
        recipient=route.recipient,
        payload=_payload(clinic, route.channel, replies, kind=kind, subject=subject),
        purpose=purpose,
        now=now,
        idempotency_key=idempotency_key,
        kind=kind,
        due_at=due,
        patient_id=patient.id,
    )


def _payload(
    clinic: Clinic,
    channel: Channel,
    replies: tuple[Reply, ...] | list[Reply],
    *,
    kind: MessageKind,
    subject: str | None,
) -> dict[str, object]:
    if channel == Channel.LINE:
        return {"replies": codec.dump(replies)}
    text = plain(replies)
    if kind == MessageKind.MARKETING:
        # Advertising by SMS or email must say how to stop it (特定電子メール法).
        text = f"{text}\n{opt_out_line(clinic, channel)}"
    if channel == Channel.SMS:
        return {"text": text}
    return {"subject": subject or clinic.name, "body": text}
