"""`POST /line/webhook`: verify the signature, parse, record every event in the inbox,
commit, answer 200 (DESIGN rules 1, 2 and 7).

The events are handled right after the answer, as LINE recommends, by the `kick` the
composition root puts on `app.state` (bot.inbound, then the outbox drain), so a burst of
events never keeps LINE waiting and the request never waits on LINE either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from backend import inbox
from backend.api import deps
from backend.models import Clinic
from backend.settings import Settings
from bot import events, recording

log = logging.getLogger(__name__)

router = APIRouter()

SOURCE = "line"


class NoClinic(LookupError):
    """The LINE channel has no clinic to belong to (none configured, or none at all)."""


@router.post("/line/webhook", include_in_schema=False)
async def webhook(request: Request) -> JSONResponse:
    """Take one webhook delivery from LINE."""
    settings: Settings = request.app.state.settings
    secret = settings.line.channel_secret.get_secret_value()
    body = await request.body()
    if not secret:
        log.error("LINE webhook refused: UKETSUKE_LINE_CHANNEL_SECRET is not configured")
        return _refusal(401, "the webhook is not configured", "unauthorized")
    if not signature_is_valid(secret, body, request.headers.get("x-line-signature", "")):
        log.warning("LINE webhook refused: missing or wrong X-Line-Signature")
        return _refusal(401, "invalid signature", "unauthorized")
    try:
        received = events.parse(body)
    except events.Malformed as error:
        # The reason is an exception name only: the body may hold what patients wrote.
        log.warning("LINE webhook refused: malformed body (%s)", error)
        return _refusal(400, "malformed webhook body", "bad_request")
    return await _take(request, received, settings)


def signature_is_valid(secret: str, body: bytes, signature: str) -> bool:
    """Whether `signature` is LINE's base64 HMAC-SHA256 of the raw body under `secret`."""
    # An empty secret is a key anyone can sign with.
    if not secret:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.encode())


async def _take(
    request: Request, received: list[events.Received], settings: Settings
) -> JSONResponse:
    """Record the events off the event loop; handle and answer them after the response."""
    now: datetime = request.app.state.clock()
    try:
        recorded = await _recorder(request.app, settings).record(received, now=now)
    except Exception as error:
        # Not a 2xx: nothing was committed and LINE may deliver the events again. Exception
        # texts can carry database parameters, that is patients' words: log the type only.
        log.error("LINE webhook: events could not be recorded (%s)", type(error).__name__)
        log.debug("LINE webhook failure", exc_info=True)
        return _refusal(503, "the events could not be recorded now", "unavailable")
    return JSONResponse({}, background=deps.kick_after(request) if recorded else None)


_recorders = threading.Lock()


def _recorder(app: FastAPI, settings: Settings) -> recording.Recorder:
    """The app's writer of deliveries, made on first use (closed with the app)."""
    with _recorders:
        found: recording.Recorder | None = getattr(app.state, "line_recorder", None)
        if found is None:
            clinic_id = settings.line.clinic_id
            found = recording.Recorder(
                app.state.store,
                lambda session, received, now: record(session, received, now, clinic_id),
            )
            app.state.line_recorder = found
    return found


def record(
    session: Session, received: list[events.Received], now: datetime, clinic_id: int | None
) -> int:
    """Record every event of one delivery; count the new ones (a redelivered event is
    already in the inbox and is skipped)."""
    if not received:
        return 0
    clinic = _clinic_id(session, clinic_id)
    new = [
        inbox.record(
            session,
            source=SOURCE,
            external_id=item.event_id,
            kind=item.kind,
            payload=item.raw,
            now=now,
            clinic_id=clinic,
        )
        for item in received
    ]
    return sum(1 for event_id in new if event_id is not None)


# Plain statements on the session's connection: every webhook runs one, and the ORM's
# statement handling would cost more than the query.
_CLINICS = Clinic.__table__
_FIRST_CLINIC = select(_CLINICS.c.id).order_by(_CLINICS.c.id).limit(1)
_CLINIC = select(_CLINICS.c.id).where(_CLINICS.c.id == bindparam("clinic_id"))


def _clinic_id(session: Session, configured: int | None) -> int:
    """The configured clinic, else the first one."""
    connection = session.connection()
    if configured is None:
        clinic_id = connection.execute(_FIRST_CLINIC).scalar()
    else:
        clinic_id = connection.execute(_CLINIC, {"clinic_id": configured}).scalar()
    if clinic_id is None:
        raise NoClinic("no clinic for the LINE channel (UKETSUKE_LINE_CLINIC_ID)")
    return int(clinic_id)


def _refusal(status: int, detail: str, code: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status)
