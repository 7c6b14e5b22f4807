"""Bulk writes of the drafts, committed in chunks so a large seed never holds one huge
transaction. Each bulk insert yields its ids in row order, so later tables can point at
rows written earlier."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from backend.db import Base, Database
from backend.models import (
    AuditAction,
    AuditLog,
    Booking,
    Patient,
    PatientTag,
    Visit,
)
from backend.seed import outcomes
from backend.seed.clinic import ClinicPlan
from backend.seed.drafts import PatientDraft

Progress = Callable[[str, int, int], None]
T = TypeVar("T")
PATIENT_CHUNK = 500
PATIENT_STAGE = "カルテを書き込み"


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def table_of(model: type[Base]) -> Table:
    """The table a model is mapped to."""
    return Base.metadata.tables[model.__tablename__]


def bulk(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert rows with one executemany. Core, not the ORM's bulk mode: that one splits the
    rows into a statement per run of rows whose None columns differ."""
    if rows:
        session.execute(insert(table_of(model)), rows)


def insert_ids(
    session: Session, model: type[Patient | Booking | Visit], rows: list[dict[str, Any]]
) -> list[int]:
    """Insert rows in bulk and return their ids in the order of `rows`.

    The ids are reserved first and written explicitly: INSERT … RETURNING in parameter
    order is one statement per row on SQLite, and on PostgreSQL psycopg spends most of the
    seed parsing the huge multi-row statements it needs.
    """
    ids = _reserve_ids(session, model, len(rows))
    bulk(session, model, [row | {"id": row_id} for row, row_id in zip(rows, ids, strict=True)])
    return ids


def _reserve_ids(session: Session, model: type[Patient | Booking | Visit], count: int) -> list[int]:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Drawn from the table's own sequence, so concurrent writers never collide.
        query = text(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"
        )
        return sorted(session.scalars(query, {"table": model.__tablename__, "count": count}))
    if dialect == "sqlite":
        # The writing transaction began with BEGIN IMMEDIATE and holds the database lock,
        # so the ids after the current maximum are ours.
        first = (session.scalar(select(func.max(model.id))) or 0) + 1
        return list(range(first, first + count))
    raise NotImplementedError(f"seeding does not support {dialect}")


def report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def patient_row(draft: PatientDraft, plan: ClinicPlan, ids: list[int]) -> dict[str, Any]:
    """The patient table row of a draft (ids: the ids of the drafts written before it)."""
    consents = draft.consents
    return {
        "clinic_id": plan.clinic_id,
        "name": draft.name,
        "kana": draft.kana,
        "name_verified": draft.name_verified,
        "gender": draft.gender,
        "birth_on": draft.birth_on,
        "phone": draft.phone,
        "email": draft.email,
        "postal_code": draft.postal_code,
        "address": draft.address,
        "media_id": plan.media[draft.media],
        "referrer": draft.referrer,
        "first_visit_on": draft.first_visit_on,
        "note_family": draft.notes.family,
        "note_job": draft.notes.job,
        "note_hobbies": draft.notes.hobbies,
        "note_likes": draft.notes.likes,
        "note_last_conversation": draft.last_conversation,
        "next_visit_likelihood": draft.likelihood,
        "consent_line": consents.get("line", False),
        "consent_sms": consents.get("sms", False),
        "consent_email": consents.get("email", False),
        "consent_post": consents.get("post", False),
        "consent_updated_at": draft.created_at if any(consents.values()) else None,
        "line_user_id": draft.line_user_id,
        "line_reachable": draft.line_reachable,
        "merged_into_id": None if draft.merged_into is None else ids[draft.merged_into],
        "created_at": draft.created_at,
        "updated_at": draft.updated_at,
    }


def write_patients(
    database: Database,
    plan: ClinicPlan,
    patients: list[PatientDraft],
    progress: Progress | None,
) -> list[int]:
    """Write the patients and their tags; return their ids by draft index.

    Duplicates come last, so the record each was merged into already has an id. Referrers
    are linked afterwards, because a referrer may sit in the same chunk as the referred.
    """
    ids: list[int] = []
    report(progress, PATIENT_STAGE, 0, len(patients))
    originals = [draft for draft in patients if draft.merged_into is None]
    merged = [draft for draft in patients if draft.merged_into is not None]
    for chunk in [*chunks(originals, PATIENT_CHUNK), *chunks(merged, PATIENT_CHUNK)]:
        with database.transaction() as session:
            rows = [patient_row(draft, plan, ids) for draft in chunk]
            new_ids = insert_ids(session, Patient, rows)
            tags = [
                {"patient_id": patient_id, "tag": tag}
                for patient_id, draft in zip(new_ids, chunk, strict=True)
                for tag in sorted(draft.tags)
            ]
            bulk(session, PatientTag, tags)
        ids.extend(new_ids)
        report(progress, PATIENT_STAGE, len(ids), len(patients))
    _link_referrers(database, patients, ids)
    return ids


def _link_referrers(database: Database, patients: list[PatientDraft], ids: list[int]) -> None:
    links = [
        {"id": ids[draft.index], "referrer_patient_id": ids[draft.referrer_index]}
        for draft in patients
        if draft.referrer_index is not None
    ]
    if links:
        with database.transaction() as session:
            session.execute(update(Patient), links)


def write_merges(
    database: Database, plan: ClinicPlan, duplicates: list[PatientDraft], ids: list[int]
) -> None:
    """Audit entries for the merges staff made (fields are never named with values)."""
    rows = [
        {
            "clinic_id": plan.clinic_id,
            "patient_id": ids[draft.index],
            "actor": outcomes.reception(plan),
            "action": AuditAction.MERGE,
            "detail": f"merged into patient {ids[draft.merged_into]}",
            "at": draft.updated_at,
        }
        for draft in duplicates
        if draft.merged_into is not None
    ]
    with database.transaction() as session:
        bulk(session, AuditLog, rows)
