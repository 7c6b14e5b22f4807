"""What 患者さがし shows: patients found by name, kana or phone digits (or, without a
query, the latest visitors) with their last visit and number of visits.

The list shows no notes and no health data and, as the API's search, is not audited; the
カルテ it links to is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import patients
from backend.conversation import words
from backend.models import Clinic, Patient, Visit
from backend.web import today

SHOWN = 50  # hits per search: a name or a phone number narrows a longer list better than pages


@dataclass(frozen=True)
class Hit:
    """One patient in the search list."""

    id: int
    name: str
    kana: str
    phone: str
    last_visit: str
    visits: int


@dataclass(frozen=True)
class Found:
    """A search's hits; `more` when the list was cut at SHOWN."""

    hits: list[Hit]
    more: bool


def find(session: Session, *, clinic: Clinic, query: str) -> Found:
    """Patients matching `query` (name, kana, phone digits); without one, the most
    recently visited. At most SHOWN, merged duplicates left out."""
    query = query.strip()
    if query:
        found = patients.search(session, clinic_id=clinic.id, query=query, limit=SHOWN + 1)
        ids = [patient.id for patient in found]
    else:
        ids = _recently_visited(session, clinic, SHOWN + 1)
        found = _in_order(session, ids)
    stats = _visit_stats(session, ids[:SHOWN])
    zone = ZoneInfo(clinic.timezone)
    hits = [_hit(patient, stats.get(patient.id), zone) for patient in found[:SHOWN]]
    return Found(hits=hits, more=len(found) > SHOWN)


def _recently_visited(session: Session, clinic: Clinic, limit: int) -> list[int]:
    """Patients by their last visit, newest first; those never seen after them, newest first."""
    last = func.max(Visit.visited_at)
    query = (
        select(Patient.id)
        .outerjoin(Visit, Visit.patient_id == Patient.id)
        .where(Patient.clinic_id == clinic.id, Patient.merged_into_id.is_(None))
        .group_by(Patient.id)
        .order_by(last.is_(None), last.desc(), Patient.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _in_order(session: Session, ids: list[int]) -> list[Patient]:
    by_id = {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(ids)))}
    return [by_id[patient_id] for patient_id in ids]


def _visit_stats(session: Session, ids: list[int]) -> dict[int, tuple[datetime, int]]:
    if not ids:
        return {}
    query = (
        select(Visit.patient_id, func.max(Visit.visited_at), func.count())
        .where(Visit.patient_id.in_(ids))
        .group_by(Visit.patient_id)
    )
    return {patient_id: (last, count) for patient_id, last, count in session.execute(query)}


def _hit(patient: Patient, stats: tuple[datetime, int] | None, zone: ZoneInfo) -> Hit:
    last_visit, count = "", 0
    if stats is not None:
        last_visit = today.day_label(stats[0].astimezone(zone).date())
        count = stats[1]
    return Hit(
        id=patient.id,
        name=patient.name,
        kana=patient.kana or "",
        phone=words.phone(patient.phone),
        last_visit=last_visit,
        visits=count,
    )
