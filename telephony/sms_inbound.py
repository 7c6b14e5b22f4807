"""Twilio's incoming-SMS webhook: a patient's reply to the clinic's SMS.

`POST /twilio/sms` (the number's "A message comes in" URL) verifies X-Twilio-Signature
like the voice webhooks, hands the reply to backend.sms_replies in one transaction (「停止」
stops SMS to that number, 「再開」 restarts it) and answers with TwiML `<Message>` in
Japanese. A wrong signature is 403 and stores nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict
from twilio.twiml.messaging_response import MessagingResponse

from backend import sms_replies
from backend.api.deps import Store
from backend.settings import Settings
from telephony import signature

log = logging.getLogger(__name__)

SMS_PATH = "/twilio/sms"
router = APIRouter()


@router.post(SMS_PATH, include_in_schema=False)
async def incoming_sms(request: Request) -> Response:
    """A reply came in: act on 停止 / 再開 and answer it."""
    form = await _verified(request)
    if isinstance(form, Response):
        return form
    message_sid = form.get("MessageSid", "") or form.get("SmsSid", "")
    if not message_sid:
        return PlainTextResponse("MessageSid is missing", status_code=400)
    try:
        text = await run_in_threadpool(
            _handle,
            request.app.state.store,
            message_sid=message_sid,
            phone=form.get("From", "").strip(),
            body=form.get("Body", ""),
            now=request.app.state.clock(),
        )
    except Exception as error:
        # Nothing was committed; Twilio's debugger shows the failure. The type only: the
        # text of the error may carry what the patient wrote.
        log.error("incoming SMS %s not handled (%s)", message_sid, type(error).__name__)
        return Response(status_code=503)
    return Response(message(text), media_type="text/xml")


def message(text: str) -> str:
    """TwiML answering the SMS with `text`."""
    response = MessagingResponse()
    response.message(text)
    return str(response)


def _handle(store: Store, *, message_sid: str, phone: str, body: str, now: datetime) -> str:
    with store.transaction() as session:
        return sms_replies.handle(session, message_sid=message_sid, phone=phone, text=body, now=now)


async def _verified(request: Request) -> MultiDict | Response:
    try:
        form = signature.read_form(await request.body())
    except signature.Malformed as error:
        log.warning("incoming SMS refused: malformed body (%s)", error)
        return PlainTextResponse("malformed form body", status_code=400)
    settings: Settings = request.app.state.settings
    url = signature.public_url(settings, request, SMS_PATH)
    given = request.headers.get(signature.SIGNATURE_HEADER, "")
    if not signature.is_valid(settings, url, form, given):
        log.warning("incoming SMS refused: missing or wrong X-Twilio-Signature")
        return PlainTextResponse("invalid signature", status_code=403)
    return form
