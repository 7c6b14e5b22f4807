"""Visits (来院・施術録): walk-ins recorded without a booking, reads, and amendments.

A 施術録 entry is amended, never silently rewritten: every amendment keeps the earlier and
the new value of each field it touches, with who, when and why. Reads and changes are
audited like the カルテ (the entry is health data, 要配慮個人情報).

Use it as `from backend import visits` then `visits.record(session, ...)`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import audit, patients
from backend import payments as payments_module
from backend.booking import availability
from backend.errors import Invalid, NotFound
from backend.models import (
    PAYMENT_FIELDS,
    RECORD_FIELDS,
    AuditAction,
    Outcome,
    Patient,
    Visit,
    VisitAmendment,
)

AMENDABLE = frozenset((*RECORD_FIELDS, *PAYMENT_FIELDS))
REASON_LENGTH = 200
# Clocks at the front desk run a little ahead of the server; a visit "now" is still now.
CLOCK_SKEW = timedelta(minutes=5)


def record(
    session: Session,
    *,
    clinic_id: int,
    patient_id: int,
    actor: str,
    now: datetime,
    visited_at: datetime | None = None,
    staff_id: int | None = None,
    course_id: int | None = None,
    staff_minutes: int | None = None,
    machine_minutes: int | None = None,
    payments: payments_module.Payments | None = None,
    **fields: Any,
) -> Visit:
    """Record a visit without a booking (a walk-in). Minutes and payments left out default
    from the course; `fields` are the 施術録 fields (injury_on, treatment, outcome, ...)."""
    _check_names(fields, frozenset(RECORD_FIELDS))
    clinic = availability.get_clinic(session, clinic_id)
    patient = patients.in_clinic(session, clinic_id=clinic.id, patient_id=patient_id)
    course = availability.get_course(session, clinic, course_id) if course_id is not None else None
    if staff_id is not None:
        availability.get_staff(session, clinic, staff_id)
    moment = _visited_at(visited_at, now)
    visit = Visit(
        clinic_id=clinic.id,
        patient_id=patient.id,
        staff_id=staff_id,
        course_id=course.id if course else None,
        visited_at=moment,
        staff_minutes=_default(staff_minutes, course.staff_minutes if course else 0),
        machine_minutes=_default(machine_minutes, course.machine_minutes if course else 0),
        created_at=now,
        updated_at=now,
        **payments_module.charges(course, payments or payments_module.Payments()),
        **_record_values(fields),
    )
    session.add(visit)
    patients.note_first_visit(clinic, patient, visited_at=moment)
    session.flush()
    _audit(session, visit, AuditAction.CREATE, actor=actor, now=now, touched=fields)
    return visit


def amend(
    session: Session, *, visit_id: int, actor: str, now: datetime, reason: str, **changes: Any
) -> Visit:
    """Change 施術録 or payment fields, keeping the old and new value of each in an amendment.

    Fields given with their current value are not changes; if nothing changes, no amendment
    is written.
    """
    _check_names(changes, AMENDABLE)
    reason = _reason(reason)
    visit = _find(session, visit_id)
    values = _record_values(changes)
    diff = {
        name: {"old": _plain(getattr(visit, name)), "new": _plain(value)}
        for name, value in values.items()
        if getattr(visit, name) != value
    }
    for name in diff:
        setattr(visit, name, values[name])
    if diff:
        visit.updated_at = now
        session.add(VisitAmendment(visit=visit, actor=actor, reason=reason, changes=diff, at=now))
    session.flush()
    _audit(session, visit, AuditAction.UPDATE, actor=actor, now=now, touched=diff)
    return visit


def get(session: Session, *, visit_id: int, actor: str, now: datetime) -> Visit:
    """Open one 施術録 entry; the read is audited."""
    visit = _find(session, visit_id)
    _audit(session, visit, AuditAction.READ, actor=actor, now=now)
    return visit


def list_for_patient(
    session: Session, *, patient_id: int, actor: str, now: datetime
) -> list[Visit]:
    """Every visit of a patient, newest first; the read is audited."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id} not found", field="patient_id")
    found = session.scalars(
        select(Visit)
        .where(Visit.patient_id == patient.id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
    ).all()
    audit.record(
        session,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        actor=actor,
        action=AuditAction.READ,
        now=now,
        detail=f"visits ({len(found)})",
    )
    return list(found)


def _check_names(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(fields.keys() - allowed)
    if unknown:
        raise Invalid(f"field {unknown[0]} cannot be set here", field=unknown[0])


def _find(session: Session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found", field="visit_id")
    return visit


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("an amendment needs a reason", field="reason")
    if len(reason) > REASON_LENGTH:
        raise Invalid(f"a reason has at most {REASON_LENGTH} characters", field="reason")
    return reason


def _visited_at(visited_at: datetime | None, now: datetime) -> datetime:
    if visited_at is None:
        return now
    if visited_at.tzinfo is None:
        raise Invalid("visited_at needs a timezone", field="visited_at")
    if visited_at > now + CLOCK_SKEW:
        raise Invalid("a visit cannot be recorded before it happens", field="visited_at")
    return visited_at


def _default(value: int | None, fallback: int) -> int:
    return fallback if value is None else value


def _record_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Check the values of 施術録 and payment fields: an outcome and amounts always exist."""
    values = dict(fields)
    for name in sorted(values.keys() & {"outcome", *PAYMENT_FIELDS}):
        if values[name] is None:
            raise Invalid(f"{name} cannot be empty", field=name)
    if "outcome" in values:
        try:
            values["outcome"] = Outcome(values["outcome"])
        except ValueError as exc:
            raise Invalid(f"unknown outcome {values['outcome']!r}", field="outcome") from exc
    for name in sorted(values.keys() & set(PAYMENT_FIELDS)):
        if values[name] < 0:
            raise Invalid(f"{name} cannot be negative", field=name)
    return values


def _plain(value: Any) -> Any:
    """A value as JSON keeps it in an amendment: dates as ISO strings, enums by value."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _audit(
    session: Session,
    visit: Visit,
    action: AuditAction,
    *,
    actor: str,
    now: datetime,
    touched: dict[str, Any] | None = None,
) -> None:
    subject = f"visit {visit.id}"
    audit.record(
        session,
        clinic_id=visit.clinic_id,
        patient_id=visit.patient_id,
        actor=actor,
        action=action,
        now=now,
        detail=subject if touched is None else audit.fields(touched, subject=subject),
    )
