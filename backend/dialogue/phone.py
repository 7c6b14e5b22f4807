"""Phone calls: the attendant's conversation for one call, and what happens when it ends.

Placeholder until the phone flows land; the signatures are the contract with telephony/.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from backend.conversation.model import Event, Hangup, Reply, Say

CHANNEL = "phone"


def handle(
    session: Session,
    *,
    clinic_id: int,
    call_sid: str,
    caller: str,
    event: Event,
    now: datetime,
) -> tuple[Reply, ...]:
    """Answer one turn of a call: what to say, and what to listen for (or transfer, hang up).

    `caller` is the caller's number as Twilio gives it (E.164, or "" when withheld)."""
    return (Say("お電話ありがとうございます。"), Hangup())


def call_ended(
    session: Session,
    *,
    clinic_id: int,
    call_sid: str,
    status: str,
    duration_seconds: int | None,
    now: datetime,
) -> None:
    """Twilio's status callback: record how the call ended; a call that ended before the
    caller got anywhere is a missed or abandoned call (staff alert, text-back SMS)."""
