"""Which clinic a call belongs to, and what the fallback may say about it without a database.

Every call looks its clinic up (one small query); the name and whether it has LINE are
then remembered per called number, in this process, for the fallback URL, which must
answer when the database cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from backend.bounded import Bounded
from backend.models import Clinic
from backend.plain import Plain


class NoClinic(LookupError):
    """The phone line has no clinic to belong to (none configured, or none at all)."""


@dataclass(frozen=True)
class Known:
    """What the fallback may say: the clinic's name and whether it can be added on LINE."""

    name: str
    has_line: bool


@dataclass(frozen=True)
class Resolved:
    """The clinic a call belongs to, and its config token (what its facts are cached by)."""

    id: int
    config_token: str


# Plain statements on the session's connection: every step of every call runs one.
_CLINICS = Clinic.__table__
_COLUMNS = (_CLINICS.c.id, _CLINICS.c.name, _CLINICS.c.line_add_url, _CLINICS.c.config_token)
_FIRST = Plain(select(*_COLUMNS).order_by(_CLINICS.c.id).limit(1))
_BY_ID = Plain(select(*_COLUMNS).where(_CLINICS.c.id == bindparam("clinic_id")))

KNOWN_SIZE = 64
_known: Bounded[str, Known] = Bounded(KNOWN_SIZE)


def resolve(session: Session, *, configured: int | None, called: str) -> int:
    """The configured clinic, else the first one; remembered for the fallback."""
    return resolved(session, configured=configured, called=called).id


def resolved(session: Session, *, configured: int | None, called: str) -> Resolved:
    """`resolve`, with the clinic's config token read in the same statement: a turn's
    facts then need no query of their own to know they are current."""
    connection = session.connection()
    if configured is None:
        row = _FIRST.first(connection)
    else:
        row = _BY_ID.first(connection, {"clinic_id": configured})
    if row is None:
        raise NoClinic("no clinic for the phone line (UKETSUKE_TWILIO_CLINIC_ID)")
    remember(called, Known(name=row.name, has_line=bool(row.line_add_url)))
    return Resolved(int(row.id), row.config_token)


def remember(called: str, known: Known) -> None:
    """Note what a call to `called` found out about its clinic."""
    _known.put(called, known)


def known(called: str) -> Known | None:
    """What an earlier call to `called` found out; else, when this process has only ever
    seen one clinic, that one; else nothing."""
    found = _known.peek(called)
    if found is None:
        seen = _known.values()
        if len(set(seen)) == 1:
            found = seen[0]
    return found


def forget() -> None:
    """Forget every remembered clinic (tests)."""
    _known.clear()
