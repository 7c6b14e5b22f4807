"""Replies to the clinic's SMS: 「停止」 stops SMS to that number, 「再開」 restarts it.

SMS advertising must say how to refuse it (特定電子メール法); messaging.SMS_OPT_OUT tells
patients to reply 「停止」. A reply is recorded once by its MessageSid, then every patient
with that number (in every clinic of the deployment: one number, one person's wish) is
marked sms_opted_out, which stops SMS of every kind, and loses SMS marketing consent.
Anything else gets a short pointer to the phone or LINE: nobody reads these replies.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import audit, inbox
from backend.conversation import words
from backend.models import AuditAction, Clinic, Patient

SOURCE = "twilio-sms"
ACTOR = "sms"


class Intent(StrEnum):
    STOP = "stop"
    START = "start"
    OTHER = "other"


STOP_WORDS = frozenset({"停止", "配信停止", "ていし", "STOP", "STOPALL", "UNSUBSCRIBE"})
START_WORDS = frozenset({"再開", "配信再開", "さいかい", "START", "UNSTOP"})
# Spaces and the punctuation people add around a one-word answer: 「停止。」 『停止』 停止!
_NOISE = re.compile(r"[\s。、．，.,!！?？「」『』\"'”“]+")

STOPPED = (
    "配信停止を承りました。今後このお電話番号にはSMSをお送りいたしません。"
    "再開をご希望の際は「再開」とご返信ください。"
)
STARTED = "SMSの配信を再開いたしました。配信停止をご希望の際は「停止」とご返信ください。"
UNREAD = "このSMSは送信専用のため、ご返信にはお答えできません。"


def intent(text: str) -> Intent:
    """What a reply asks for; full-width letters, case and spacing do not matter."""
    word = _NOISE.sub("", unicodedata.normalize("NFKC", text)).upper()
    if word in STOP_WORDS:
        return Intent.STOP
    if word in START_WORDS:
        return Intent.START
    return Intent.OTHER


def handle(session: Session, *, message_sid: str, phone: str, text: str, now: datetime) -> str:
    """Act on one SMS reply (once per MessageSid) and return the answer to send back."""
    wish = intent(text)
    # The body is not kept: a reply may say why the patient comes (health information).
    new = inbox.record(
        session,
        source=SOURCE,
        external_id=message_sid,
        kind=f"sms_{wish.value}",
        payload={"from": phone, "intent": wish.value},
        now=now,
    )
    if new is not None:
        inbox.take(session, event_id=new, now=now)
        if wish != Intent.OTHER:
            set_opted_out(session, phone=phone, opted_out=wish == Intent.STOP, now=now)
    return answer(session, phone=phone, wish=wish)


def set_opted_out(session: Session, *, phone: str, opted_out: bool, now: datetime) -> int:
    """Stop (or restart) SMS to every patient with this number; returns how many changed."""
    changed = 0
    for patient in _with_phone(session, phone):
        if patient.sms_opted_out == opted_out and patient.consent_sms != opted_out:
            continue
        patient.sms_opted_out = opted_out
        patient.consent_sms = not opted_out
        patient.consent_updated_at = now
        patient.updated_at = now
        audit.record(
            session,
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            actor=ACTOR,
            action=AuditAction.UPDATE,
            now=now,
            detail=audit.fields(["consent_sms", "sms_opted_out"], subject="SMS reply"),
        )
        changed += 1
    session.flush()
    return changed


def answer(session: Session, *, phone: str, wish: Intent) -> str:
    """The reply: a confirmation, or where to reach the clinic instead."""
    if wish == Intent.STOP:
        return STOPPED
    if wish == Intent.START:
        return STARTED
    clinic = _clinic_of(session, phone)
    if clinic is None or not clinic.phone:
        return f"{UNREAD}ご予約・お問い合わせはお電話またはLINEでお願いいたします。"
    return (
        f"{UNREAD}ご予約・お問い合わせは{clinic.name}（{words.phone(clinic.phone)}）"
        "へのお電話、またはLINEでお願いいたします。"
    )


def _with_phone(session: Session, phone: str) -> list[Patient]:
    if not phone:
        return []
    return list(session.scalars(select(Patient).where(Patient.phone == phone)))


def _clinic_of(session: Session, phone: str) -> Clinic | None:
    """The clinic of the patients with this number, when there is exactly one."""
    clinic_ids = {patient.clinic_id for patient in _with_phone(session, phone)}
    return session.get(Clinic, clinic_ids.pop()) if len(clinic_ids) == 1 else None
