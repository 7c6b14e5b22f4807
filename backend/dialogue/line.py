"""LINE conversations: who is talking (patient, staff member, staff group), which table
answers, and the replies queued for the LINE sender with the event's reply token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from backend import outbox
from backend.conversation import patient, staff
from backend.conversation.engine import Table
from backend.conversation.model import Event, Facts, PatientInfo
from backend.dialogue import facts, patient_effects, runner, staff_effects
from backend.models import Patient

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
    reply_until: datetime | None = None,
) -> None:
    """Answer one LINE event: run the right conversation and queue its replies (with the
    reply token, usable until `reply_until`: about a minute after LINE sent the event)."""
    table, subject, load = _route(session, clinic_id, source, now, event)
    replies, _ = runner.converse(
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
            reply_until=reply_until,
        )


def _route(
    session: Session, clinic_id: int, source: Source, now: datetime, event: Event
) -> tuple[Table, str, runner.FactsLoader]:
    """Pick the table: the staff group, another group (only link codes count there), a
    linked staff member's 1:1 chat (or anyone's 1:1 staff link code), or a patient."""
    known = facts.clinic_facts(session, clinic_id)
    member = known.staff_by_line.get(source.user_id or "")
    actor = f"staff:{member}" if member else ""
    user_id = source.user_id or ""
    subject = f"{source.group_id}:{user_id or '-'}" if source.group_id else user_id
    # The first load reuses the clinic's facts just read; after an effect (which may have
    # changed them: a staff link) they are read again.
    unchanged = [known]

    def staff_facts() -> Facts:
        return facts.load(
            session,
            clinic_id=clinic_id,
            now=now,
            actor=actor,
            subject=subject,
            known=unchanged.pop() if unchanged else None,
        )

    if source.group_id is not None:
        table = staff.GROUP if source.group_id == known.staff_group_id else staff.OTHER_GROUP
        return table, subject, staff_facts
    if member is not None or staff.is_link_code(event):
        return staff.DIRECT, subject, staff_facts

    def patient_facts() -> Facts:
        patient = _patient(session, clinic_id, user_id)
        return facts.load(
            session,
            clinic_id=clinic_id,
            now=now,
            patient=patient,
            subject=subject,
            known=unchanged.pop() if unchanged else None,
        )

    return patient.TABLE, user_id, patient_facts


_PATIENTS = Patient.__table__
_PATIENT = select(_PATIENTS.c.id, _PATIENTS.c.name).where(
    _PATIENTS.c.clinic_id == bindparam("clinic_id"),
    _PATIENTS.c.line_user_id == bindparam("user_id"),
    _PATIENTS.c.merged_into_id.is_(None),
)


def _patient(session: Session, clinic_id: int, user_id: str) -> PatientInfo | None:
    # A plain statement (no autoflush): converse flushes after every effect.
    params = {"clinic_id": clinic_id, "user_id": user_id}
    row = session.connection().execute(_PATIENT, params).first()
    return PatientInfo(row.id, row.name) if row else None
