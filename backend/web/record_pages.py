"""The 施術録 page of one visit (/patients/{id}/visits/{visit_id}): read it (audited), write
or correct it with a reason (`karte_record`). Installed by `karte.install`, sharing the
dashboard's guards and page rendering."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from backend.api import deps
from backend.errors import DomainError, NotFound
from backend.web import auth, clinics, cookies, form_text, karte_record, pages

router = APIRouter(include_in_schema=False)
NOTICES = {
    "saved": "施術録を保存しました。変更前の内容は訂正の履歴に残ります。",
    "unchanged": "変更はありませんでした。",
}


@router.get("/patients/{patient_id}/visits/{visit_id}")
def record_page(
    request: Request, patient_id: str, visit_id: str, store: deps.StoreDep, now: deps.NowDep
) -> Response:
    """The entry, its form and its history of corrections."""
    web_session = auth.signed_in(request, now)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    ids = _ids(patient_id, visit_id)
    return _show(request, web_session, store, now, ids, notice=notice)


@router.post("/patients/{patient_id}/visits/{visit_id}")
def save_record(
    request: Request,
    patient_id: str,
    visit_id: str,
    *,
    form: Annotated[karte_record.RecordForm, Form()],
    store: deps.StoreDep,
    now: deps.NowDep,
) -> Response:
    """Amend the entry (the reason is kept with the earlier values); a refused form comes
    back with what was typed."""
    web_session = auth.signed_in(request, now)
    auth.check_form(web_session, form.csrf)
    ids = _ids(patient_id, visit_id)
    try:
        with store.transaction() as session:
            clinic = clinics.chosen(session, request)
            if clinic is None or ids is None:
                raise NotFound("no such visit")
            changed, errors = karte_record.save(
                session, clinic=clinic, patient_id=ids[0], visit_id=ids[1], form=form, now=now
            )
    except NotFound:
        return pages.render(request, "patient_missing.html", web_session, status_code=404)
    except DomainError:
        changed, errors = False, {"form": karte_record.REFUSED_ERROR}
    if errors or ids is None:
        return _show(request, web_session, store, now, ids, form=form, errors=errors)
    notice = "saved" if changed else "unchanged"
    location = f"/patients/{ids[0]}/visits/{ids[1]}?notice={notice}"
    return RedirectResponse(location, status_code=303)


def _show(
    request: Request,
    web_session: cookies.WebSession,
    store: deps.Store,
    now: datetime,
    ids: tuple[int, int] | None,
    *,
    notice: str | None = None,
    form: karte_record.RecordForm | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    try:
        # A transaction, not a reader: the audit entry of the view must be committed.
        with store.transaction() as session:
            clinic = clinics.chosen(session, request)
            if clinic is None or ids is None:
                raise NotFound("no such visit")
            record = karte_record.open_record(
                session, clinic=clinic, patient_id=ids[0], visit_id=ids[1], now=now, form=form
            )
    except NotFound:
        return pages.render(request, "patient_missing.html", web_session, status_code=404)
    context = {
        "record": record,
        "errors": errors or {},
        "notice": notice,
        "labels": karte_record.LABELS,
        "outcomes": karte_record.OUTCOME_CHOICES,
    }
    status_code = 422 if errors else 200
    return pages.render(request, "record.html", web_session, status_code=status_code, **context)


def _ids(patient_id: str, visit_id: str) -> tuple[int, int] | None:
    """The two ids of the path, or None when either cannot be one."""
    patient, visit = form_text.number(patient_id), form_text.number(visit_id)
    return (patient, visit) if patient is not None and visit is not None else None
