"""The dashboard's pages: sign-in, today, requests, KPIs. Routes read the clock once, open
the transaction, call the backend and render a template; a POST answers with a redirect
(so a reload never posts twice) carrying a notice code, never free text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from backend import calls
from backend.api import deps
from backend.errors import DomainError, NotFound
from backend.models import Clinic
from backend.web import alerts, answers, auth, clinics, cookies, dashboard, desk, media, today

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

NOTICES = {
    "approved": "承認しました。患者さまへ予約確定のお知らせを送ります。",
    "declined": "お断りしました。患者さまへ別の日時のご案内を送ります。",
    "gone": "このご予約はすでに対応済みか、保留期限が過ぎています。一覧を更新しました。",
    "signed_out": "ログアウトしました。",
    "call_done": "折り返しの電話を対応済みにしました。",
    "call_gone": "この電話はすでに対応済みです。",
    "spend_saved": "広告費を保存しました。",
    "clinic_gone": "その院は見つかりませんでした。表示する院は変わっていません。",
    "arrived": "来院を記録しました。施術録と会計は患者カルテに残ります。",
    "no_show": "無断キャンセルとして記録しました。",
    "not_started": "予約の時間になってから記録できます。",
    "desk_gone": "このご予約はすでに記録済みか、キャンセルされています。一覧を更新しました。",
}
BACK_TO = {"today": "/", "requests": "/bookings/requests"}  # fixed targets: no open redirect
Token = Annotated[str, Form(max_length=100)]
Amount = Annotated[str, Form(max_length=30)]


def install(app: FastAPI) -> None:
    """Add the pages, their static files and the redirects for signed-out browsers."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(auth.SignInRequired, _to_login)
    app.add_exception_handler(auth.FormRefused, _form_refused)


@router.get("/login")
def login_page(request: Request, now: deps.NowDep) -> Response:
    """The sign-in form; a signed-in browser goes straight to today."""
    current = auth.session_of(request, now)
    if current is not None and current.signed_in:
        return RedirectResponse("/", status_code=303)
    anonymous = current or cookies.fresh(signed_in=False, now=now)
    return _render(request, "login.html", anonymous, notice=_notice(request))


@router.post("/login")
def sign_in(
    request: Request,
    now: deps.NowDep,
    password: Annotated[str, Form(max_length=200)] = "",
    csrf: Token = "",
) -> Response:
    """Check the clinic's password; a wrong one gets one message that gives nothing away."""
    current = auth.session_of(request, now)
    auth.check_form(current, csrf)
    assert current is not None
    if not auth.password_matches(auth.settings_of(request), password):
        error = "パスワードが正しくありません。もう一度入力してください。"
        return _render(request, "login.html", current, error=error, status_code=401)
    response = RedirectResponse("/", status_code=303)
    auth.keep(response, request, cookies.fresh(signed_in=True, now=now))
    return response


@router.post("/logout")
def sign_out(request: Request, now: deps.NowDep, csrf: Token = "") -> Response:
    """Forget the session."""
    auth.check_form(auth.signed_in(request, now), csrf)
    response = RedirectResponse("/login?notice=signed_out", status_code=303)
    auth.forget(response)
    return response


@router.get("/")
def today_page(request: Request, store: deps.StoreDep, now: deps.NowDep) -> Response:
    """Today's bookings and the requests waiting for an answer."""
    web_session = auth.signed_in(request, now)
    return _today(request, web_session, store, now, notice=_notice(request))


def _today(
    request: Request,
    web_session: cookies.WebSession,
    store: deps.Store,
    now: datetime,
    **context: Any,
) -> Response:
    with store.reader() as session:
        clinic = clinics.chosen(session, request)
        found: dict[str, Any] = {"clinic": None}
        if clinic is not None:
            day = today.local_day(clinic, now)
            found = {
                "clinic": clinic.name,
                "day": today.day_label(day),
                "bookings": today.bookings_on(session, clinic=clinic, day=day, now=now),
                "takings": today.takings(session, clinic=clinic, day=day),
                "walk_ins": today.walk_ins(session, clinic=clinic, day=day),
                "requests": today.waiting_requests(session, clinic=clinic, now=now),
                "alerts": alerts.alerts(session, clinic=clinic, now=now),
                "calls": alerts.owed_calls(session, clinic=clinic, now=now),
            }
    return _render(request, "today.html", web_session, **found, **context)


@router.get("/bookings/requests")
def requests_page(request: Request, store: deps.StoreDep, now: deps.NowDep) -> Response:
    """Every request waiting for staff, soonest first."""
    web_session = auth.signed_in(request, now)
    with store.reader() as session:
        clinic = clinics.chosen(session, request)
        found = today.waiting_requests(session, clinic=clinic, now=now) if clinic else []
    return _render(request, "requests.html", web_session, requests=found, notice=_notice(request))


@router.post("/bookings/{booking_id}/approve")
def approve(
    request: Request,
    booking_id: int,
    *,
    store: deps.StoreDep,
    now: deps.NowDep,
    csrf: Token = "",
    back: Token = "today",
) -> Response:
    """承認: confirm the request and queue the patient's message, in one transaction."""
    return _answer(request, answers.approve, booking_id, store=store, now=now, csrf=csrf, back=back)


@router.post("/bookings/{booking_id}/decline")
def decline(
    request: Request,
    booking_id: int,
    *,
    store: deps.StoreDep,
    now: deps.NowDep,
    csrf: Token = "",
    back: Token = "today",
) -> Response:
    """お断り: decline the request and queue the patient's message, in one transaction."""
    return _answer(request, answers.decline, booking_id, store=store, now=now, csrf=csrf, back=back)


@router.post("/bookings/{booking_id}/arrived")
def arrived(
    request: Request,
    booking_id: int,
    *,
    store: deps.StoreDep,
    now: deps.NowDep,
    csrf: Token = "",
    copay: Amount = "",
    self_pay: Amount = "",
    ticket: Amount = "",
) -> Response:
    """来院: the booking is completed and its visit recorded with what was paid at the desk;
    a wrong amount shows the page again with the form open and nothing recorded."""
    web_session = auth.signed_in(request, now)
    auth.check_form(web_session, csrf)
    typed = {"copay": copay, "self_pay": self_pay, "ticket": ticket}
    entry, paid = desk.read(booking_id, typed)
    if paid is None:
        return _today(request, web_session, store, now, checkin=entry, status_code=422)
    return _at_desk(request, store, desk.arrived, booking_id=booking_id, paid=paid, now=now)


@router.post("/bookings/{booking_id}/no-show")
def no_show(
    request: Request, booking_id: int, *, store: deps.StoreDep, now: deps.NowDep, csrf: Token = ""
) -> Response:
    """無断キャンセル: the patient of a booking that has started did not come."""
    auth.check_form(auth.signed_in(request, now), csrf)
    return _at_desk(request, store, desk.no_show, booking_id=booking_id, now=now)


@router.post("/calls/{call_id}/done")
def call_done(
    request: Request, call_id: int, *, store: deps.StoreDep, now: deps.NowDep, csrf: Token = ""
) -> Response:
    """対応済みにする: the caller has been called back (the first mark stays)."""
    auth.check_form(auth.signed_in(request, now), csrf)
    try:
        with store.transaction() as session:
            clinic = clinics.chosen(session, request)
            if clinic is None:
                raise NotFound("no clinic yet")
            first = calls.follow_up(session, clinic_id=clinic.id, call_id=call_id, now=now)
    except DomainError:
        first = False
    return RedirectResponse(f"/?notice={'call_done' if first else 'call_gone'}", status_code=303)


@router.post("/clinic")
def choose_clinic(
    request: Request,
    *,
    store: deps.StoreDep,
    now: deps.NowDep,
    clinic_id: Annotated[str, Form(max_length=12)] = "",
    csrf: Token = "",
    back: Annotated[str, Form(max_length=200)] = "/",
) -> Response:
    """Show another clinic of this deployment: remembered by the browser, back to the same
    section of the dashboard."""
    auth.check_form(auth.signed_in(request, now), csrf)
    number = clinics.number(clinic_id)
    with store.reader() as session:
        found = session.get(Clinic, number) if number is not None else None
    if found is None:
        return RedirectResponse(f"{clinics.back_to(back)}?notice=clinic_gone", status_code=303)
    response = RedirectResponse(clinics.back_to(back), status_code=303)
    clinics.keep(response, request, found.id)
    return response


@router.get("/dashboard")
def dashboard_page(request: Request, store: deps.StoreDep, now: deps.NowDep) -> Response:
    """This month's headline numbers and twelve months of charts, each with its table."""
    web_session = auth.signed_in(request, now)
    with store.reader() as session:
        clinic = clinics.chosen(session, request)
        found = dashboard.page(session, clinic=clinic, now=now) if clinic else None
    return _render(request, "dashboard.html", web_session, page=found)


@router.get("/media")
def media_page(request: Request, store: deps.StoreDep, now: deps.NowDep) -> Response:
    """広告費: each media's spend, new patients and cost per new patient over twelve months."""
    web_session = auth.signed_in(request, now)
    return _media(request, web_session, store, now, media.Entry(), notice=_notice(request))


@router.post("/media/spend")
def save_spend(
    request: Request,
    *,
    store: deps.StoreDep,
    now: deps.NowDep,
    media_id: Annotated[str, Form(max_length=20)] = "",
    month: Annotated[str, Form(max_length=20)] = "",
    yen: Annotated[str, Form(max_length=30)] = "",
    csrf: Token = "",
) -> Response:
    """Set one media's spend for one month; a refused form is shown again with its errors."""
    web_session = auth.signed_in(request, now)
    auth.check_form(web_session, csrf)
    entry = media.Entry(media_id=media_id, month=month, yen=yen)
    with store.transaction() as session:
        clinic = clinics.chosen(session, request)
        if clinic is not None:
            entry = media.save(session, clinic=clinic, entry=entry, now=now)
    if clinic is not None and not entry.errors:
        return RedirectResponse("/media?notice=spend_saved", status_code=303)
    return _media(request, web_session, store, now, entry, status_code=422)


def _media(
    request: Request,
    web_session: cookies.WebSession,
    store: deps.Store,
    now: datetime,
    entry: media.Entry,
    **context: Any,
) -> Response:
    with store.reader() as session:
        clinic = clinics.chosen(session, request)
        found = media.page(session, clinic=clinic, now=now) if clinic else None
    return _render(request, "media.html", web_session, page=found, entry=entry, **context)


def _answer(
    request: Request,
    step: answers.Step,
    booking_id: int,
    *,
    store: deps.Store,
    now: datetime,
    csrf: str,
    back: str,
) -> Response:
    auth.check_form(auth.signed_in(request, now), csrf)
    notice = "approved" if step is answers.approve else "declined"
    try:
        with store.transaction() as session:
            clinic = clinics.chosen(session, request)
            if clinic is None:
                raise NotFound("no clinic yet")
            step(session, clinic_id=clinic.id, booking_id=booking_id, now=now)
    except DomainError:
        notice = "gone"  # answered by someone else, expired, or its slot taken meanwhile
    return RedirectResponse(f"{BACK_TO.get(back, '/')}?notice={notice}", status_code=303)


def _at_desk(
    request: Request, store: deps.Store, step: Callable[..., str], **arguments: Any
) -> Response:
    """Run a desk step on the chosen clinic's booking; back to today with its notice."""
    try:
        with store.transaction() as session:
            clinic = clinics.chosen(session, request)
            notice = (
                "desk_gone" if clinic is None else step(session, clinic_id=clinic.id, **arguments)
            )
    except DomainError:
        notice = "desk_gone"  # recorded from another screen or the API meanwhile
    return RedirectResponse(f"/?notice={notice}", status_code=303)


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


def _render(
    request: Request,
    name: str,
    web_session: cookies.WebSession,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render a page and renew the session cookie; pages with patients' names are never
    cached and never framed (the 承認 buttons must not be clickable from another site)."""
    if "notice" not in context:  # e.g. after choosing a clinic, on any page
        context["notice"] = _notice(request)
    choice = None
    if web_session.signed_in:
        with request.app.state.store.reader() as session:
            choice = clinics.choice(session, request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "csrf": web_session.csrf,
            "signed_in": web_session.signed_in,
            "path": request.url.path,
            "clinic_choice": choice,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
    auth.keep(response, request, web_session)
    return response


def render(
    request: Request,
    name: str,
    web_session: cookies.WebSession,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render a page for the dashboard's other page modules (karte), with the same headers."""
    return _render(request, name, web_session, status_code=status_code, **context)


async def _to_login(_request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


async def _form_refused(request: Request, _exc: Exception) -> Response:
    return HTMLResponse(
        '<!doctype html><html lang="ja"><meta charset="utf-8"><title>操作できませんでした</title>'
        "<p>画面の有効期限が切れたため、操作できませんでした。"
        '<a href="/">ページを開き直して</a>からもう一度お試しください。</p></html>',
        status_code=403,
    )
