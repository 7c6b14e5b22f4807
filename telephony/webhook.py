"""Twilio Voice webhooks: verify, translate the form into an event, one transaction, TwiML.

| route | Twilio posts | answer |
|---|---|---|
| `POST /twilio/voice` | a call comes in | the greeting |
| `POST /twilio/voice/turn?n=N` | a Gather's answer (speech, keys or silence) | the next turn |
| `POST /twilio/voice/dialed?n=N` | how ringing the staff phones ended | the next turn |
| `POST /twilio/status` | the call ended | 204, empty |
| `POST /twilio/fallback` | the primary URL failed | an apology, without the database |

Each is a plain `async (Request) -> Response` function, served as a hot route (`HOT`).

A wrong or missing X-Twilio-Signature is 403 and stores nothing (DESIGN rule 7). A voice
turn that cannot be handled is rolled back and answered 200 with safe TwiML, so the
caller hears an apology rather than Twilio's application error. After a new step the
outbox is drained (the app's `kick`), as after a LINE webhook.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.background import BackgroundTask
from starlette.datastructures import MultiDict

from backend.api import deps
from backend.api.serial import SerialWrites
from backend.conversation.model import CallStarted, Dialed, Event, Keys, Silence, Text
from backend.settings import Settings
from telephony import clinics, signature, turns, twiml

log = logging.getLogger(__name__)

router = APIRouter()

# Call statuses that end a call; status callbacks for others (ringing, in-progress, when
# subscribed to) are acknowledged and ignored.
ENDED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
ANSWERED = frozenset({"completed", "answered"})
MAX_TURN = 10_000
# ASCII digits only: str.isdecimal() also accepts full-width and other scripts' digits.
DIGITS = re.compile(r"[0-9]{1,9}")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# What Twilio puts in From for a withheld number: ANONYMOUS, RESTRICTED, UNKNOWN,
# UNAVAILABLE and BLANK spelled on a keypad.
WITHHELD = frozenset({"+266696687", "+7378742833", "+8656696", "+86282452253", "+2562533"})
# Answered when even the fallback fails: no settings, no cache, no database.
_LAST_RESORT = twiml.fallback("", clinic_name=None, has_line=None)


@router.post(twiml.VOICE_PATH, include_in_schema=False)
async def voice(request: Request) -> Response:
    """A call comes in: record it and answer with the attendant's greeting."""
    form = await _verified(request, twiml.VOICE_PATH)
    if isinstance(form, Response):
        return form
    return await _step(request, form, turn=0, kind="call", event=CallStarted(caller(form)))


@router.post(twiml.TURN_PATH, include_in_schema=False)
async def turn(request: Request) -> Response:
    """A Gather's answer: words, keys, or silence."""
    return await _numbered(request, twiml.TURN_PATH, "turn", gathered)


@router.post(twiml.DIALED_PATH, include_in_schema=False)
async def dialed(request: Request) -> Response:
    """How ringing the staff phones ended: answered, or back to the attendant."""
    return await _numbered(request, twiml.DIALED_PATH, "dialed", dial_outcome)


@router.post(twiml.STATUS_PATH, include_in_schema=False)
async def status(request: Request) -> Response:
    """The call ended: tell the attendant how, and for how long it lasted."""
    form = await _verified(request, twiml.STATUS_PATH)
    if isinstance(form, Response):
        return form
    call_sid, call_status = form.get("CallSid", ""), form.get("CallStatus", "")
    if not call_sid:
        return _refusal(400, "CallSid is missing")
    if call_status not in ENDED:
        return Response(status_code=204)
    try:
        queued = await _serial(request).run(
            turns.end,
            request.app.state.store,
            call_sid=call_sid,
            called=form.get("To", ""),
            caller=caller(form),
            status=call_status,
            duration_seconds=seconds(form.get("CallDuration")),
            form=dict(form),
            settings=_settings(request),
            now=_now(request),
            left=_left(request),
        )
    except Exception as error:
        # Not a 2xx: nothing was committed, Twilio's debugger shows the failure, and a
        # retry (if Twilio makes one) is safe: the inbox dedupes it.
        log.error("Twilio status callback not recorded (%s)", type(error).__name__)
        log.debug("Twilio status callback failure", exc_info=True)
        return Response(status_code=503)
    # The outbox is woken only for what the callback queued: most calls end with nothing.
    return Response(status_code=204, background=deps.kick_after(request) if queued else None)


@router.post(twiml.FALLBACK_PATH, include_in_schema=False)
async def fallback(request: Request) -> Response:
    """Twilio's fallback URL: an apology and LINE, with no database access at all."""
    try:
        form = await _verified(request, twiml.FALLBACK_PATH)
        if isinstance(form, Response):
            return form
        log.error("Twilio used the fallback URL (error %s)", form.get("ErrorCode", "unknown"))
        known = clinics.known(form.get("To", ""))
        return _twiml(
            twiml.fallback(
                _settings(request).twilio.voice,
                clinic_name=known.name if known else None,
                has_line=known.has_line if known else None,
            )
        )
    except Exception as error:
        log.error("Twilio fallback failed (%s)", type(error).__name__)
        return _twiml(_LAST_RESORT)


# Served as hot routes (backend.api.hot), ahead of FastAPI's middleware and routing: a
# caller waits on every one of them, and those layers cost as much as a simple turn's
# parsing and signature check. The router keeps them too (a GET still answers 405).
HOT = {
    twiml.VOICE_PATH: voice,
    twiml.TURN_PATH: turn,
    twiml.DIALED_PATH: dialed,
    twiml.STATUS_PATH: status,
    twiml.FALLBACK_PATH: fallback,
}


def caller(form: MultiDict) -> str:
    """The caller's number in E.164, or "" when it is withheld or not a phone number."""
    number: str = form.get("From", "").strip()
    if number in WITHHELD or not E164.fullmatch(number):
        return ""
    return number


def gathered(form: MultiDict) -> Event:
    """A Gather's answer as an event: keys, else words, else silence."""
    digits = form.get("Digits", "").strip()
    if digits:
        return Keys(digits)
    speech = form.get("SpeechResult", "").strip()
    if speech:
        return Text(speech)
    return Silence()


def dial_outcome(form: MultiDict) -> Event:
    """Whether a staff phone picked up (no-answer, busy, failed, canceled: nobody did)."""
    return Dialed(answered=form.get("DialCallStatus", "") in ANSWERED)


def turn_number(values: list[str]) -> int | None:
    """The one turn number of a step's URL; None unless it is a number from 1 to MAX_TURN."""
    if len(values) != 1 or not DIGITS.fullmatch(values[0]):
        return None
    number = int(values[0])
    return number if 1 <= number <= MAX_TURN else None


def seconds(value: str | None) -> int | None:
    """CallDuration as whole seconds; None when missing or not a number."""
    if value is None or not DIGITS.fullmatch(value.strip()):
        return None
    return int(value)


async def _numbered(
    request: Request, path: str, kind: str, translate: Callable[[MultiDict], Event]
) -> Response:
    form = await _verified(request, path)
    if isinstance(form, Response):
        return form
    number = turn_number(request.query_params.getlist("n"))
    if number is None:
        return _refusal(400, "the turn number n is missing or invalid")
    return await _step(request, form, turn=number, kind=kind, event=translate(form))


async def _step(
    request: Request, form: MultiDict, *, turn: int, kind: str, event: Event
) -> Response:
    call_sid = form.get("CallSid", "")
    if not call_sid:
        return _refusal(400, "CallSid is missing")
    settings = _settings(request)
    step = turns.Step(
        call_sid=call_sid,
        turn=turn,
        kind=kind,
        caller=caller(form),
        called=form.get("To", ""),
        event=event,
        form=dict(form),
    )
    try:
        answer = await _serial(request).run(
            turns.answer,
            request.app.state.store,
            step,
            settings=settings,
            now=_now(request),
            left=_left(request),
        )
    except Exception as error:
        # Rolled back. The type only: exception texts can carry what the caller said.
        log.error("Twilio %s %s:%d failed (%s)", kind, call_sid, turn, type(error).__name__)
        log.debug("Twilio turn failure", exc_info=True)
        return _twiml(twiml.apology(settings.twilio.voice))
    return _twiml(answer.twiml, background=deps.kick_after(request) if answer.queued else None)


async def _verified(request: Request, path: str) -> MultiDict | Response:
    """The form, when the request carries Twilio's signature of it; else the refusal."""
    try:
        form = signature.read_form(await request.body())
    except signature.Malformed as error:
        log.warning("Twilio webhook refused: malformed body (%s)", error)
        return _refusal(400, "malformed form body")
    settings = _settings(request)
    url = signature.public_url(settings, request, path)
    given = request.headers.get(signature.SIGNATURE_HEADER, "")
    if not signature.is_valid(settings, url, form, given):
        log.warning("Twilio webhook refused: missing or wrong X-Twilio-Signature (%s)", path)
        return _refusal(403, "invalid signature")
    return form


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _serial(request: Request) -> SerialWrites:
    writes: SerialWrites = request.app.state.serial_writes
    return writes


def _left(request: Request) -> turns.Left:
    """What the app's last turns of calls left (made on the first call, on the event loop)."""
    left: turns.Left | None = getattr(request.app.state, "phone_turns_left", None)
    if left is None:
        left = request.app.state.phone_turns_left = turns.Left()
    return left


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock()
    return now


def _twiml(document: str, background: BackgroundTask | None = None) -> Response:
    return Response(document, media_type="text/xml", background=background)


def _refusal(status_code: int, detail: str) -> Response:
    return PlainTextResponse(detail, status_code=status_code)
