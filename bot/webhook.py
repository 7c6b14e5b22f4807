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
from collections.abc import Sequence
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Connection, bindparam, select
from starlette.background import BackgroundTask

from backend import inbox
from backend.api import deps
from backend.models import Clinic
from backend.settings import Settings
from bot import events, recording

log = logging.getLogger(__name__)

SOURCE = "line"


class NoClinic(LookupError):
    """The LINE channel has no clinic to belong to (none configured, or none at all)."""


MAX_BODY_BYTES = 1 << 20  # LINE's deliveries are a few kilobytes; refuse what is not one


async def webhook(request: Request) -> Response:
    """Take one webhook delivery from LINE (a hot route: `backend.api.hot`)."""
    settings: Settings = request.app.state.settings
    secret = settings.line.channel_secret.get_secret_value()
    body = await _body(request)
    if body is None:
        log.warning("LINE webhook refused: body over %s bytes", MAX_BODY_BYTES)
        return _refusal(413, "the body is too large", "too_large")
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


async def _body(request: Request) -> bytes | None:
    """The request's body, or None once it grows past `MAX_BODY_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def signature_is_valid(secret: str, body: bytes, signature: str) -> bool:
    """Whether `signature` is LINE's base64 HMAC-SHA256 of the raw body under `secret`."""
    # An empty secret is a key anyone can sign with.
    if not secret:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.encode())


async def _take(request: Request, received: list[events.Received], settings: Settings) -> Response:
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
    return Response(_EMPTY, media_type="application/json", background=_kick(request, recorded))


_EMPTY = b"{}"


def _kick(request: Request, recorded: int) -> BackgroundTask | None:
    return deps.kick_after(request) if recorded else None


_recorders = threading.Lock()


def _recorder(app: FastAPI, settings: Settings) -> recording.Recorder:
    """The app's writer of deliveries, made on first use (closed with the app)."""
    with _recorders:
        found: recording.Recorder | None = getattr(app.state, "line_recorder", None)
        if found is None:
            found = recording.Recorder(app.state.store, Writer(settings.line.clinic_id))
            app.state.line_recorder = found
    return found


class Writer:
    """Records deliveries for the channel's clinic. The clinic is looked up on the first
    write and then kept: clinics are never deleted, and a query per webhook to find the
    same id again cost as much as recording its event."""

    def __init__(self, configured: int | None) -> None:
        self.configured = configured
        self.clinic_id: int | None = None

    def __call__(
        self, connection: Connection, deliveries: Sequence[recording.Delivery]
    ) -> list[int]:
        if self.clinic_id is None:
            self.clinic_id = _clinic_id(connection, self.configured)
        return record(connection, deliveries, self.clinic_id)


def record(
    connection: Connection, deliveries: Sequence[recording.Delivery], clinic_id: int
) -> list[int]:
    """Record the events of some deliveries in one statement; for each delivery, how many of
    its events were new (a redelivered event is already in the inbox and is skipped)."""
    rows = [
        inbox.NewEvent(external_id=item.event_id, kind=item.kind, payload=item.raw, received_at=now)
        for received, now in deliveries
        for item in received
    ]
    new = inbox.record_many(connection, source=SOURCE, rows=rows, clinic_id=clinic_id)
    counts = []
    for received, _ in deliveries:
        mine = [item.event_id for item in received if item.event_id in new]
        new.difference_update(mine)  # an event sent twice in one batch is new once
        counts.append(len(mine))
    return counts


# A plain statement: run once per app, on the writer's connection.
_CLINICS = Clinic.__table__
_FIRST_CLINIC = select(_CLINICS.c.id).order_by(_CLINICS.c.id).limit(1)
_CLINIC = select(_CLINICS.c.id).where(_CLINICS.c.id == bindparam("clinic_id"))


def _clinic_id(connection: Connection, configured: int | None) -> int:
    """The configured clinic, else the first one."""
    if configured is None:
        clinic_id = connection.execute(_FIRST_CLINIC).scalar()
    else:
        clinic_id = connection.execute(_CLINIC, {"clinic_id": configured}).scalar()
    if clinic_id is None:
        raise NoClinic("no clinic for the LINE channel (UKETSUKE_LINE_CLINIC_ID)")
    return int(clinic_id)


def _refusal(status: int, detail: str, code: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status)
