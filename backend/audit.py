"""The audit log of カルテ and 施術録 access: who read or changed which record, and when.

Health data is 要配慮個人情報, so an entry names the fields touched and never their values.

Use it as `from backend import audit` then `audit.record(session, ...)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from backend.models import AuditAction, AuditLog

DETAIL_LENGTH = 500


def record(
    session: Session,
    *,
    clinic_id: int,
    patient_id: int | None,
    actor: str,
    action: AuditAction,
    now: datetime,
    detail: str | None = None,
) -> AuditLog:
    """Write one audit entry in the caller's transaction."""
    entry = AuditLog(
        clinic_id=clinic_id,
        patient_id=patient_id,
        actor=actor,
        action=action,
        detail=_fit(detail),
        at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def fields(names: Iterable[str], *, subject: str | None = None) -> str:
    """Describe which fields were touched, e.g. "visit 12: fields injury_part, treatment"."""
    listed = ", ".join(sorted(names)) or "none"
    text = f"fields {listed}"
    return f"{subject}: {text}" if subject else text


def _fit(detail: str | None) -> str | None:
    if detail is None or len(detail) <= DETAIL_LENGTH:
        return detail
    return detail[: DETAIL_LENGTH - 1] + "…"
