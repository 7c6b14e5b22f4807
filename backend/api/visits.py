"""Visits (来院・施術録): record a walk-in, read, and amend. Every call is audited."""

from __future__ import annotations

from fastapi import APIRouter, status

from backend import visits
from backend.api import schemas
from backend.api.deps import ActorDep, NowDep, StoreDep
from backend.api.types import Id

router = APIRouter(
    prefix="/visits",
    tags=["visits"],
    responses=schemas.ERRORS,
)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Record a walk-in visit")
def create_visit(
    body: schemas.VisitCreate, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.VisitDetailOut:
    """A visit without a booking. Minutes and payments left out default from the course;
    a booked visit is created by completing its booking instead."""
    with store.transaction() as session:
        visit = visits.record(session, actor=actor, now=now, **body.arguments())
        return schemas.render_local(schemas.VisitDetailOut, session, visit)


@router.get("", summary="List a patient's visits")
def list_visits(
    patient_id: Id, store: StoreDep, now: NowDep, actor: ActorDep
) -> list[schemas.VisitOut]:
    """Every visit of the patient, newest first; the read is audited."""
    # A transaction, not a reader: the audit entry of the read must be committed.
    with store.transaction() as session:
        found = visits.list_for_patient(session, patient_id=patient_id, actor=actor, now=now)
        zone = schemas.clinic_zone(session, found[0].clinic_id) if found else None
        return [schemas.render(schemas.VisitOut, visit, zone) for visit in found]


@router.get("/{visit_id}", summary="Show a visit with its amendments")
def get_visit(
    visit_id: Id, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.VisitDetailOut:
    """The 施術録 entry and every amendment, oldest first; the read is audited."""
    # A transaction, not a reader: the audit entry of the read must be committed.
    with store.transaction() as session:
        visit = visits.get(session, visit_id=visit_id, actor=actor, now=now)
        return schemas.render_local(schemas.VisitDetailOut, session, visit)


@router.patch("/{visit_id}", summary="Amend a visit")
def amend_visit(
    visit_id: Id, body: schemas.VisitAmend, store: StoreDep, now: NowDep, actor: ActorDep
) -> schemas.VisitDetailOut:
    """Change 施術録 or payment fields with a reason. The earlier values stay in the
    amendment history; nothing is silently rewritten."""
    with store.transaction() as session:
        visit = visits.amend(
            session, visit_id=visit_id, actor=actor, now=now, reason=body.reason, **body.changes()
        )
        return schemas.render_local(schemas.VisitDetailOut, session, visit)
