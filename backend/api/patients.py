"""Patients (カルテ): register, find, open and change. Opening and changing are audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from backend import audit, patients
from backend.api import schemas
from backend.api.deps import ActorDep, NowDep, StoreDep
from backend.api.types import Id, ShortText

router = APIRouter(
    prefix="/patients",
    tags=["patients"],
    responses=schemas.ERRORS,
)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a patient")
def create_patient(
    body: schemas.PatientCreate, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.PatientOut:
    """Create a カルテ. The phone number is stored in E.164 (+81…)."""
    with store.transaction() as session:
        patient = patients.create(
            session, actor=actor, now=now, **body.model_dump(exclude_unset=True)
        )
        return schemas.render_local(schemas.PatientOut, session, patient)


@router.get("", summary="Find patients")
def search_patients(
    clinic_id: Id,
    store: StoreDep,
    now: NowDep,
    actor: ActorDep,
    *,
    q: Annotated[ShortText, Query(description="name, kana (either script) or phone digits")] = "",
    limit: Annotated[int, Query(ge=1, le=patients.MAX_SEARCH)] = 20,
) -> list[schemas.PatientSummaryOut]:
    """Patients of a clinic matching `q`, in kana order; merged duplicates are left out.
    Each patient listed is written to the audit log (a READ, detail "search")."""
    # A transaction, not a reader: the audit entries of the list must be committed.
    with store.transaction() as session:
        found = patients.search(session, clinic_id=clinic_id, query=q, limit=limit)
        audit.listed(
            session,
            clinic_id=clinic_id,
            patient_ids=[patient.id for patient in found],
            actor=actor,
            now=now,
            detail="search",
        )
        return [schemas.render(schemas.PatientSummaryOut, patient) for patient in found]


@router.get("/{patient_id}", summary="Open a patient's カルテ")
def get_patient(
    patient_id: Id, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.PatientOut:
    """The whole カルテ; the read is written to the audit log."""
    # A transaction, not a reader: the audit entry of the read must be committed.
    with store.transaction() as session:
        patient = patients.get(session, patient_id=patient_id, actor=actor, now=now)
        return schemas.render_local(schemas.PatientOut, session, patient)


@router.patch("/{patient_id}", summary="Change a patient's カルテ")
def update_patient(
    patient_id: Id,
    body: schemas.PatientUpdate,
    store: StoreDep,
    now: NowDep,
    actor: ActorDep,
) -> schemas.PatientOut:
    """Change the fields sent (null clears one, `tags` replaces all labels); audited with
    the names of the fields that changed."""
    with store.transaction() as session:
        patient = patients.update(
            session,
            patient_id=patient_id,
            actor=actor,
            now=now,
            **body.model_dump(exclude_unset=True),
        )
        return schemas.render_local(schemas.PatientOut, session, patient)
