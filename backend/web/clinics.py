"""Which clinic the dashboard shows. One deployment may serve several (DESIGN glossary:
院 / 店舗); the browser keeps its choice in a cookie of its own, so the reception PC of
each branch opens on its branch, and every page and form works on that clinic.

The cookie is only a preference: it names a clinic id, which every signed-in browser may
see anyway (the dashboard has one password). An id that is not a clinic, or no cookie,
means the first clinic, as before there was a choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Clinic

COOKIE = "uketsuke_clinic"
MAX_AGE_SECONDS = 400 * 24 * 3600  # browsers keep a cookie at most about this long
# Where the chooser may send the browser back to: the page's section, never a free URL.
SECTIONS = ("/bookings/requests", "/patients", "/dashboard", "/media")


@dataclass(frozen=True)
class Choice:
    """The clinics to choose among (id, name) and the one shown."""

    clinics: tuple[tuple[int, str], ...]
    current: int


def number(text: str) -> int | None:
    """A clinic id as a cookie or a form gives it: ASCII digits, short enough to be one."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def wanted(request: Request) -> int | None:
    """The clinic id the browser's cookie names, if it is a number."""
    return number(request.cookies.get(COOKIE, ""))


def chosen(session: Session, request: Request) -> Clinic | None:
    """The clinic the browser chose, else the first one; None when there is none yet."""
    number = wanted(request)
    if number is not None:
        found = session.get(Clinic, number)
        if found is not None:
            return found
    return session.scalars(select(Clinic).order_by(Clinic.id).limit(1)).first()


def choice(session: Session, request: Request) -> Choice | None:
    """What the header's chooser offers; None with a single clinic (nothing to choose)."""
    rows = tuple(
        (int(clinic_id), str(name))
        for clinic_id, name in session.execute(
            select(Clinic.id, Clinic.name).order_by(Clinic.id).limit(100)
        )
    )
    if len(rows) < 2:
        return None
    number = wanted(request)
    current = number if number in {clinic_id for clinic_id, _ in rows} else rows[0][0]
    return Choice(rows, current)


def keep(response: Response, request: Request, clinic_id: int) -> None:
    """Remember the choice in the browser (HttpOnly, SameSite=Lax, Secure behind https)."""
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        str(clinic_id),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        path="/",
    )


def back_to(path: str) -> str:
    """The section of `path` to return to after choosing (a patient of the clinic left
    behind is not the new one's: back to the search)."""
    return next((section for section in SECTIONS if path.startswith(section)), "/")
