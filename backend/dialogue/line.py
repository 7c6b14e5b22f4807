"""LINE conversations: who is talking (patient, staff member, staff group), which table
answers, and the replies queued for the LINE sender with the event's reply token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import outbox
from backend.conversation import patient, staff
from backend.conversation.engine import Table
from backend.conversation.model import Event, Facts
from backend.dialogue import facts, patient_effects, runner, staff_effects
from backend.models import Clinic, Patient, Staff

CHANNEL = "line"
PERFORMERS: dict[str, runner.Performer] = {
    **patient_effects.PERFORMERS,
    **staff_effects.PERFORMERS,
}


@dataclass(frozen=True)
class Source:
    """Where a LINE event came from: a user in a 1:1 chat, or a user in a group."""

    user_id: str | None
    group_id: str | None = None


def handle(
    session: Session,
    *,
    clinic_id: int,
    source: Source,
    event: Event,
    now: datetime,
    reply_token: str | None = None,
) -> None:
    """Answer one LINE event: run the right conversation and queue its replies."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise LookupError(f"clinic {clinic_id} not found")
    table, subject, load = _route(session, clinic, source, now, event)
    replies = runner.converse(
        session,
        clinic_id=clinic_id,
        channel=CHANNEL,
        subject=subject,
        event=event,
        now=now,
        table=table,
        facts=load,
        performers=PERFORMERS,
    )
    recipient = source.group_id or source.user_id
    if recipient is not None:
        outbox.line_replies(
            session,
            clinic_id=clinic_id,
            to=recipient,
            replies=replies,
            purpose=f"chat:{table.name}",
            now=now,
            reply_token=reply_token,
        )


def _route(
    session: Session, clinic: Clinic, source: Source, now: datetime, event: Event
) -> tuple[Table, str, runner.FactsLoader]:
    """Pick the table: the staff group, another group (only link codes count there), a
    linked staff member's 1:1 chat (or anyone's 1:1 staff link code), or a patient."""
    member = _staff_member(session, clinic.id, source.user_id)
    actor = f"staff:{member.id}" if member else ""
    user_id = source.user_id or ""
    subject = f"{source.group_id}:{user_id or '-'}" if source.group_id else user_id

    def staff_facts() -> Facts:
        return facts.load(session, clinic_id=clinic.id, now=now, actor=actor, subject=subject)

    if source.group_id is not None:
        table = staff.GROUP if source.group_id == clinic.line_staff_group_id else staff.OTHER_GROUP
        return table, subject, staff_facts
    if member is not None or staff.is_link_code(event):
        return staff.DIRECT, subject, staff_facts

    def patient_facts() -> Facts:
        patient_id = _patient_id(session, clinic.id, user_id)
        return facts.load(
            session, clinic_id=clinic.id, now=now, patient_id=patient_id, subject=subject
        )

    return patient.TABLE, user_id, patient_facts


def _staff_member(session: Session, clinic_id: int, user_id: str | None) -> Staff | None:
    if user_id is None:
        return None
    return session.scalar(
        select(Staff).where(
            Staff.clinic_id == clinic_id, Staff.line_user_id == user_id, Staff.active.is_(True)
        )
    )


def _patient_id(session: Session, clinic_id: int, user_id: str) -> int | None:
    return session.scalar(
        select(Patient.id).where(
            Patient.clinic_id == clinic_id,
            Patient.line_user_id == user_id,
            Patient.merged_into_id.is_(None),
        )
    )
