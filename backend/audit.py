"""The audit log of カルテ and 施術録 access: who read or changed which record, and when.

Health data is 要配慮個人情報, so an entry names the fields touched and never their values.

Use it as `from backend import audit` then `audit.record(session, ...)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from backend.models import AuditAction, AuditLog
from backend.plain import Plain

DETAIL_LENGTH = 500


# Built once and run on the session's connection: every カルテ read and change writes an
# entry nobody reads back in the transaction, and an ORM object with its own flush costs
# more than the insert.
_INSERT = insert(cast(Table, AuditLog.__table__))
_INSERT_ONE = Plain(_INSERT)


def record(
    session: Session,
    *,
    clinic_id: int,
    patient_id: int | None,
    actor: str,
    action: AuditAction,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Write one audit entry in the caller's transaction, after its pending changes (the
    patient it names may have just been added)."""
    session.flush()
    values = {
        "clinic_id": clinic_id,
        "patient_id": patient_id,
        "actor": actor,
        "action": action,
        "detail": _fit(detail),
        "at": now,
    }
    _INSERT_ONE.execute(session.connection(), values)


def listed(
    session: Session,
    *,
    clinic_id: int,
    patient_ids: Iterable[int],
    actor: str,
    now: datetime,
    detail: str,
) -> None:
    """Write a READ entry for each patient a list showed (a search's names, phones and
    visits are read from their カルテ too), in one statement."""
    values = [
        {
            "clinic_id": clinic_id,
            "patient_id": patient_id,
            "actor": actor,
            "action": AuditAction.READ,
            "detail": _fit(detail),
            "at": now,
        }
        for patient_id in patient_ids
    ]
    if values:
        session.connection().execute(_INSERT, values)


def fields(names: Iterable[str], *, subject: str | None = None) -> str:
    """Describe which fields were touched, e.g. "visit 12: fields injury_part, treatment"."""
    listed = ", ".join(sorted(names)) or "none"
    text = f"fields {listed}"
    return f"{subject}: {text}" if subject else text


def _fit(detail: str | None) -> str | None:
    if detail is None or len(detail) <= DETAIL_LENGTH:
        return detail
    return detail[: DETAIL_LENGTH - 1] + "…"
