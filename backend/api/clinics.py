"""Clinics and what pickers need from them: courses, staff and media (read only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api import schemas
from backend.api.deps import StoreDep
from backend.api.types import Id
from backend.booking import availability
from backend.models import Clinic, Course, Media, Staff

router = APIRouter(
    prefix="/clinics",
    tags=["clinics"],
    responses=schemas.ERRORS,
)


@router.get("", summary="List clinics")
def list_clinics(store: StoreDep) -> list[schemas.ClinicOut]:
    """Every clinic (branch) this deployment serves."""
    with store.reader() as session:
        clinics = session.scalars(select(Clinic).order_by(Clinic.id)).all()
        return [schemas.render(schemas.ClinicOut, clinic) for clinic in clinics]


@router.get("/{clinic_id}", summary="Show a clinic with its opening hours")
def get_clinic(clinic_id: Id, store: StoreDep) -> schemas.ClinicDetailOut:
    """The clinic, its booking rules and its weekly opening hours."""
    with store.reader() as session:
        clinic = availability.get_clinic(session, clinic_id)
        return schemas.render(schemas.ClinicDetailOut, clinic)


@router.get("/{clinic_id}/courses", summary="List the clinic's courses")
def list_courses(clinic_id: Id, store: StoreDep) -> list[schemas.CourseOut]:
    """Active courses (コース・メニュー) in menu order."""
    with store.reader() as session:
        courses = _active(session, Course, clinic_id, Course.sort_order, Course.id)
        return [schemas.render(schemas.CourseOut, course) for course in courses]


@router.get("/{clinic_id}/staff", summary="List the clinic's staff")
def list_staff(clinic_id: Id, store: StoreDep) -> list[schemas.StaffOut]:
    """Active staff members, for nominating (指名) and recording visits."""
    with store.reader() as session:
        staff = _active(session, Staff, clinic_id, Staff.id)
        return [schemas.render(schemas.StaffOut, member) for member in staff]


@router.get("/{clinic_id}/media", summary="List the clinic's acquisition media")
def list_media(clinic_id: Id, store: StoreDep) -> list[schemas.MediaOut]:
    """Active media (来院経路・媒体) for the patient form."""
    with store.reader() as session:
        media = _active(session, Media, clinic_id, Media.sort_order, Media.id)
        return [schemas.render(schemas.MediaOut, item) for item in media]


def _active(
    session: Session, model: type[Course | Staff | Media], clinic_id: int, *order: Any
) -> list[Any]:
    """The clinic's active rows of one kind; NotFound when the clinic does not exist."""
    availability.get_clinic(session, clinic_id)
    rows = session.scalars(
        select(model).where(model.clinic_id == clinic_id, model.active.is_(True)).order_by(*order)
    )
    return list(rows)
