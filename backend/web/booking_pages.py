"""予約を入れる, 日時を変更 and キャンセル on a カルテ (`karte_booking`), and the helper every
step on a カルテ runs through: the chosen clinic's patient, one transaction, a missing
patient told apart from the domain's refusal. Installed by `karte.install`; the notices
these routes redirect with are shown by the カルテ page (`karte.NOTICES`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from backend.api import deps
from backend.errors import DomainError, IllegalTransition, NotFound
from backend.models import Clinic, Patient
from backend.web import auth, clinics, form_text, karte_booking, karte_view

router = APIRouter(include_in_schema=False)


@router.post("/patients/{patient_id}/bookings")
def book(
    request: Request,
    patient_id: str,
    *,
    store: deps.StoreDep,
    now: deps.NowDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    course: Annotated[str, Form(max_length=12)] = "",
    staff: Annotated[str, Form(max_length=12)] = "",
    start: Annotated[str, Form(max_length=40)] = "",
    day: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """予約を入れる: book a free time the カルテ offered, confirmed, and tell the patient;
    a time taken meanwhile goes back to the same day's times with a notice."""
    auth.check_form(auth.signed_in(request, now), csrf)
    number = form_text.number(patient_id)
    ran = on_patient(
        request,
        store,
        number,
        lambda session, clinic, patient: karte_booking.book(
            session,
            clinic=clinic,
            patient=patient,
            course=course,
            staff=staff,
            start=start,
            now=now,
        ),
    )
    if ran.missing:
        return RedirectResponse("/patients", status_code=303)
    if ran.refused is not None:
        again = urlencode({"day": day, "course": course, "staff": staff, "notice": "slot_taken"})
        return RedirectResponse(f"/patients/{number}?{again}#book-heading", status_code=303)
    return RedirectResponse(f"/patients/{number}?notice=booked#bookings-heading", status_code=303)


@router.post("/patients/{patient_id}/bookings/{booking_id}/move")
def move_booking(
    request: Request,
    patient_id: str,
    booking_id: str,
    *,
    store: deps.StoreDep,
    now: deps.NowDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    start: Annotated[str, Form(max_length=40)] = "",
    day: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """日時を変更: move an upcoming booking to a free time the カルテ offered and tell the
    patient; a time taken meanwhile goes back to the same day's times."""
    auth.check_form(auth.signed_in(request, now), csrf)
    number, moved = form_text.number(patient_id), form_text.number(booking_id) or 0
    ran = on_patient(
        request,
        store,
        number,
        lambda session, _clinic, patient: karte_booking.move(
            session, patient=patient, booking_id=moved, start=start, now=now
        ),
    )
    if ran.missing:
        return RedirectResponse("/patients", status_code=303)
    if isinstance(ran.refused, IllegalTransition):
        return RedirectResponse(f"/patients/{number}?notice=booking_gone", status_code=303)
    if ran.refused is not None:
        again = urlencode({"day": day, "move": moved, "notice": "slot_taken"})
        return RedirectResponse(f"/patients/{number}?{again}#book-heading", status_code=303)
    return RedirectResponse(f"/patients/{number}?notice=moved#bookings-heading", status_code=303)


@router.post("/patients/{patient_id}/bookings/{booking_id}/cancel")
def cancel_booking(
    request: Request,
    patient_id: str,
    booking_id: str,
    *,
    store: deps.StoreDep,
    now: deps.NowDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    why: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """キャンセル from the desk (no deadline), with who wanted it; the patient is told."""
    auth.check_form(auth.signed_in(request, now), csrf)
    number, cancelled = form_text.number(patient_id), form_text.number(booking_id) or 0
    ran = on_patient(
        request,
        store,
        number,
        lambda session, _clinic, patient: karte_booking.cancel(
            session, patient=patient, booking_id=cancelled, why=why, now=now
        ),
    )
    if ran.missing:
        return RedirectResponse("/patients", status_code=303)
    notice = "cancelled" if ran.refused is None else "booking_gone"
    return RedirectResponse(f"/patients/{number}?notice={notice}#bookings-heading", status_code=303)


@dataclass(frozen=True)
class Ran:
    """How a step on a カルテ went: the patient was not found, or the domain refused it."""

    missing: bool = False
    refused: DomainError | None = None


def on_patient(
    request: Request,
    store: deps.Store,
    number: int | None,
    step: Callable[[Session, Clinic, Patient], object],
) -> Ran:
    """Run `step` on the chosen clinic's patient `number` in one transaction, committed
    unless the domain refuses it."""
    try:
        with store.transaction() as session:
            found = _patient_of(session, request, number)
            if found is None:
                return Ran(missing=True)
            step(session, *found)
    except DomainError as refused:
        return Ran(refused=refused)
    return Ran()


def _patient_of(
    session: Session, request: Request, number: int | None
) -> tuple[Clinic, Patient] | None:
    """The chosen clinic and its patient `number` (merged or not), or None."""
    clinic = clinics.chosen(session, request)
    if clinic is None or number is None:
        return None
    try:
        return clinic, karte_view.in_clinic(session, clinic=clinic, patient_id=number)
    except NotFound:
        return None
