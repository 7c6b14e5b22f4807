"""Signing staff in and out of the dashboard, and the guards every page and form uses:
signed in (else off to /login) and the form's CSRF token matching the session's."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from fastapi import Request, Response

from backend.settings import Settings
from backend.web import cookies
from backend.web.cookies import WebSession


class SignInRequired(Exception):
    """The page needs a signed-in browser; the app answers with a redirect to /login."""


class FormRefused(Exception):
    """A POST whose CSRF token is missing or does not match the session's."""


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def now_of(request: Request) -> datetime:
    """Read the app's clock, once per request, at the edge."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def session_of(request: Request, now: datetime) -> WebSession | None:
    """The browser's session cookie, if it is genuine and fresh."""
    value = request.cookies.get(cookies.NAME)
    if not value:
        return None
    key = settings_of(request).secret_key.get_secret_value()
    return cookies.load(value, key=key, now=now)


def signed_in(request: Request, now: datetime) -> WebSession:
    """The signed-in session, or SignInRequired."""
    found = session_of(request, now)
    if found is None or not found.signed_in:
        raise SignInRequired
    return found


def check_form(web_session: WebSession | None, token: str) -> None:
    """Refuse a form whose token is not the session's (another site posting on our behalf)."""
    if web_session is None or not secrets.compare_digest(token.encode(), web_session.csrf.encode()):
        raise FormRefused


def password_matches(settings: Settings, given: str) -> bool:
    """Whether `given` is the clinic's dashboard password (compared in constant time)."""
    expected = settings.dashboard_password.get_secret_value().encode()
    # An empty configured password would let an empty form in.
    return bool(expected) and secrets.compare_digest(given.encode(), expected)


def keep(response: Response, request: Request, web_session: WebSession) -> None:
    """Set the session cookie: signed, HttpOnly, SameSite=Lax, Secure behind https."""
    settings = settings_of(request)
    response.set_cookie(
        cookies.NAME,
        cookies.dump(web_session, key=settings.secret_key.get_secret_value()),
        max_age=int(cookies.MAX_AGE.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        path="/",
    )


def forget(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(cookies.NAME, path="/", httponly=True, samesite="lax")
