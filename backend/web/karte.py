"""The カルテ pages: 患者さがし (/patients), one patient's カルテ (/patients/{id}) and its
edit form. Every view and every change of a カルテ is audited under the actor `dashboard`,
and so is each patient a search list shows (a READ, detail "search list").

The composition root calls `karte.install(app)` after `pages.install(app)`, whose guards
(signed in, CSRF) and page rendering these routes share.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from backend import audit, patients
from backend.api import deps
from backend.errors import Invalid, NotFound
from backend.models import Clinic
from backend.web import (
    answers,
    auth,
    booking_pages,
    clinics,
    cookies,
    desk,
    form_text,
    karte_booking,
    karte_form,
    karte_identity,
    karte_merge,
    karte_new,
    karte_search,
    karte_view,
    pages,
    record_pages,
)

router = APIRouter(include_in_schema=False)
ACTOR = answers.ACTOR
NOTICES = {
    "updated": "カルテを更新しました。",
    "created": "カルテを作成しました。続けて予約を入れられます。",
    "visit_recorded": "来院を記録しました。続けて次回のご予約を入れられます。",
    "visit_refused": (
        "来院を記録できませんでした。統合済みのカルテか、選んだメニュー・担当が"
        "今は使われていません。"
    ),
    "booked": "ご予約を入れました（確定）。患者さまへ確認のお知らせを送ります。",
    "slot_taken": "その時間はたった今埋まりました。ほかの時間をお選びください。",
    "moved": "ご予約の日時を変更しました。患者さまへ新しい日時のお知らせを送ります。",
    "cancelled": "ご予約をキャンセルしました。患者さまへお知らせを送ります。",
    "booking_gone": "このご予約はすでに変更・キャンセルされているか、時間が過ぎています。",
}
LISTED = "search list"  # the audit detail of a patient shown in the search list
QUERY_LENGTH = 100


def install(app: FastAPI) -> None:
    """Add the カルテ pages, booking on them, and each visit's 施術録 page."""
    app.include_router(router)
    app.include_router(booking_pages.router)
    app.include_router(record_pages.router)


@router.get("/patients")
def search_page(request: Request, store: deps.StoreDep, now: deps.NowDep, q: str = "") -> Response:
    """患者さがし: by name, kana or phone digits; without a query, the latest visitors."""
    web_session = auth.signed_in(request, now)
    query = q.strip()[:QUERY_LENGTH]
    # A transaction, not a reader: the list's entries in the audit log must be committed.
    with store.transaction() as session:
        clinic = clinics.chosen(session, request)
        found = karte_search.find(session, clinic=clinic, query=query) if clinic else None
        if clinic is not None and found is not None:
            audit.listed(
                session,
                clinic_id=clinic.id,
                patient_ids=[hit.id for hit in found.hits],
                actor=ACTOR,
                now=now,
                detail=LISTED,
            )
    shown = karte_search.SHOWN
    return pages.render(
        request, "patients.html", web_session, found=found, query=query, shown=shown
    )


@router.get("/patients/new")
def new_karte_page(request: Request, store: deps.StoreDep, now: deps.NowDep) -> Response:
    """新しいカルテ: the empty form."""
    web_session = auth.signed_in(request, now)
    with store.reader() as session:
        clinic = clinics.chosen(session, request)
        page = karte_new.blank(session, clinic=clinic, now=now) if clinic else None
    return _new_page(request, web_session, page, {})


@router.post("/patients/new")
def create_karte(
    request: Request,
    form: Annotated[karte_form.KarteForm, Form()],
    store: deps.StoreDep,
    now: deps.NowDep,
) -> Response:
    """Register the patient and open their カルテ with 予約を入れる unfolded; a refused form
    (or a phone number to ask about) comes back with the input kept."""
    web_session = auth.signed_in(request, now)
    auth.check_form(web_session, form.csrf)
    with store.transaction() as session:
        clinic = clinics.chosen(session, request)
        if clinic is None:
            return _new_page(request, web_session, None, {}, status_code=422)
        made = karte_new.create(session, clinic=clinic, form=form, now=now)
    if made.patient_id is None:
        return _new_page(request, web_session, made.page, made.errors, status_code=422)
    location = f"/patients/{made.patient_id}?notice=created&book=1"
    return RedirectResponse(location, status_code=303)


def _new_page(
    request: Request,
    web_session: cookies.WebSession,
    page: karte_new.Blank | None,
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    context = {
        "karte": page,
        "errors": errors,
        "note_labels": karte_form.NOTE_LABELS,
        "consent_labels": karte_form.CONSENT_LABELS,
        "likelihoods": karte_form.LIKELIHOOD_CHOICES,
        "genders": karte_identity.GENDER_CHOICES,
    }
    return pages.render(
        request, "patient_new.html", web_session, status_code=status_code, **context
    )


@router.get("/patients/{patient_id}")
def karte_page(
    request: Request, patient_id: str, store: deps.StoreDep, now: deps.NowDep
) -> Response:
    """One patient's カルテ, upcoming bookings and 施術録; the view is audited."""
    web_session = auth.signed_in(request, now)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    params = request.query_params
    asked = karte_booking.Asked(
        day=params.get("day", "")[:QUERY_LENGTH],
        course=params.get("course", "")[:QUERY_LENGTH],
        staff=params.get("staff", "")[:QUERY_LENGTH],
        opened=params.get("book") == "1",
        move=params.get("move", "")[:QUERY_LENGTH],
    )
    return _show(
        request,
        web_session,
        form_text.number(patient_id),
        store=store,
        now=now,
        notice=notice,
        asked=asked,
    )


@router.post("/patients/{patient_id}/visits")
def walk_in(
    request: Request,
    patient_id: str,
    *,
    store: deps.StoreDep,
    now: deps.NowDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    course: Annotated[str, Form(max_length=12)] = "",
    staff: Annotated[str, Form(max_length=12)] = "",
    copay: Annotated[str, Form(max_length=30)] = "",
    self_pay: Annotated[str, Form(max_length=30)] = "",
    ticket: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """来院を記録する (飛び込み): a visit without a booking, now, with what was paid; then the
    カルテ with 予約を入れる unfolded for the next visit. A wrong amount comes back with the
    form open and nothing recorded."""
    web_session = auth.signed_in(request, now)
    auth.check_form(web_session, csrf)
    number = form_text.number(patient_id)
    entry, paid = desk.read(None, {"copay": copay, "self_pay": self_pay, "ticket": ticket})
    if paid is None:
        return _show(
            request, web_session, number, store=store, now=now, walk_in=entry, status_code=422
        )
    ran = booking_pages.on_patient(
        request,
        store,
        number,
        lambda session, clinic, patient: desk.walk_in(
            session,
            clinic_id=clinic.id,
            patient_id=patient.id,
            course=course,
            staff=staff,
            paid=paid,
            now=now,
        ),
    )
    if ran.missing:
        return RedirectResponse("/patients", status_code=303)
    if ran.refused is not None:
        return RedirectResponse(f"/patients/{number}?notice=visit_refused", status_code=303)
    location = f"/patients/{number}?notice=visit_recorded&book=1#book-heading"
    return RedirectResponse(location, status_code=303)


@router.post("/patients/{patient_id}")
def save_karte(
    request: Request,
    patient_id: str,
    form: Annotated[karte_form.KarteForm, Form()],
    store: deps.StoreDep,
    now: deps.NowDep,
) -> Response:
    """Change identity, contact, notes, tags and consents through `patients.update`
    (audited), then back to the カルテ with a notice; a refused form comes back with the
    input kept."""
    web_session = auth.signed_in(request, now)
    auth.check_form(web_session, form.csrf)
    number = form_text.number(patient_id)
    errors: dict[str, str] = {}
    if number is not None:
        try:
            with store.transaction() as session:
                form, errors = _save(session, clinics.chosen(session, request), number, form, now)
        except Invalid as exc:
            errors = karte_form.refused(exc)
        except NotFound:
            number = None
    if number is not None and not errors:
        return RedirectResponse(f"/patients/{number}?notice=updated", status_code=303)
    return _show(
        request,
        web_session,
        number,
        store=store,
        now=now,
        form=form,
        errors=errors,
        status_code=422,
    )


def _save(
    session: Session,
    clinic: Clinic | None,
    patient_id: int,
    form: karte_form.KarteForm,
    now: datetime,
) -> tuple[karte_form.KarteForm, dict[str, str]]:
    """Merge the form with a change saved meanwhile (karte_merge), check it against the
    clinic's day and media, and save it; the form to show again and the refusals by field
    (none when saved)."""
    if clinic is None:
        raise NotFound("no clinic yet")
    patient = karte_view.in_clinic(session, clinic=clinic, patient_id=patient_id)
    if karte_form.version(patient) != form.version:
        merged = karte_merge.merge(form, karte_form.filled(patient))
        form = merged.form
        if merged.conflicts:
            conflicts = dict.fromkeys(merged.conflicts, karte_merge.BOTH_CHANGED)
            return form, {"form": karte_form.STALE_ERROR} | conflicts
    offered = karte_identity.choices(session, clinic=clinic, patient=patient, now=now)
    checked = karte_form.check(form, offered)
    if checked.errors:
        return form, checked.errors
    changes = karte_identity.verified(checked.changes, patient, confirmed=form.name_verified)
    patients.update(session, patient_id=patient.id, actor=ACTOR, now=now, **changes)
    return form, {}


def _show(
    request: Request,
    web_session: cookies.WebSession,
    patient_id: int | None,
    *,
    store: deps.Store,
    now: datetime,
    notice: str | None = None,
    form: karte_form.KarteForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    asked: karte_booking.Asked | None = None,
    walk_in: desk.Entry | None = None,
) -> Response:
    errors = errors or {}
    try:
        # A transaction, not a reader: the audit entries of the view must be committed.
        with store.transaction() as session:
            clinic = clinics.chosen(session, request)
            if clinic is None or patient_id is None:
                raise NotFound("no such カルテ")
            karte = karte_view.open_karte(
                session, clinic=clinic, patient_id=patient_id, actor=ACTOR, now=now
            )
            patient = karte_view.in_clinic(session, clinic=clinic, patient_id=patient_id)
            booking_offer = karte_booking.offer(
                session,
                clinic=clinic,
                patient=patient,
                asked=asked or karte_booking.Asked(),
                now=now,
            )
    except NotFound:
        return pages.render(request, "patient_missing.html", web_session, status_code=404)
    if form is not None:
        karte = dataclasses.replace(karte, form=form)
    context = {
        "karte": karte,
        "offer": booking_offer,
        "walk_in": walk_in,
        "errors": errors,
        "notice": notice,
        "form_open": bool(errors),
        "note_labels": karte_form.NOTE_LABELS,
        "consent_labels": karte_form.CONSENT_LABELS,
        "likelihoods": karte_form.LIKELIHOOD_CHOICES,
        "genders": karte_identity.GENDER_CHOICES,
    }
    return pages.render(request, "patient.html", web_session, status_code=status_code, **context)
