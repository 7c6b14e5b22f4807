"""Everything that leaves the process is first a row here, written in the same transaction
as the change that causes it (DESIGN rule 3); a worker sends it after commit.

LINE payloads hold channel-neutral replies (see backend.conversation.codec) that the LINE
sender renders, plus an optional reply token to answer with while it is fresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.conversation import codec
from backend.conversation.model import Reply
from backend.models import Channel, MessageKind, OutboxMessage, OutboxStatus
from backend.plain import Plain

# LINE reply tokens last about a minute; answer well inside it or fall back to push.
REPLY_TOKEN_LIFETIME = timedelta(seconds=50)
# Marks a session that queued a row (Session.info is the session's own scratch space).
_QUEUED = "uketsuke.outbox.queued"


@dataclass(frozen=True)
class Sent:
    """The provider accepted the message (LINE: or had already, under the same retry key)."""

    message_id: str = ""


@dataclass(frozen=True)
class Retry:
    """Not sent, and safe to try again later (unavailable, slow, or asked us to slow down)."""

    reason: str
    # LINE's monthly message quota is used up: retrying soon cannot help.
    quota: bool = False


@dataclass(frozen=True)
class Failed:
    """Refused for good (or the channel is not set up); `reason` says why, for staff."""

    reason: str


@dataclass(frozen=True)
class Uncertain:
    """It may or may not have gone out, and the provider has no idempotency (SMS, email):
    never retried blindly; staff decide."""

    reason: str


# How one attempt to send a row went, whatever the channel.
Outcome = Sent | Retry | Failed | Uncertain


def _insert(dialect: Any) -> Any:
    # A business key seen before (a rule firing twice) inserts nothing, and says so.
    return Plain(
        dialect.insert(OutboxMessage)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.id)
    )


# Built once: every answer of every conversation is one of these.
_INSERTS = {"postgresql": _insert(postgresql), "sqlite": _insert(sqlite)}


def enqueue(
    session: Session,
    *,
    clinic_id: int,
    channel: Channel,
    recipient: str,
    payload: dict[str, Any],
    purpose: str,
    now: datetime,
    idempotency_key: str | None = None,
    kind: MessageKind = MessageKind.TRANSACTIONAL,
    due_at: datetime | None = None,
    patient_id: int | None = None,
) -> int | None:
    """Queue a message and return its id; None when a message with the same idempotency
    key already exists."""
    retry_key = str(uuid4())
    values = {
        "clinic_id": clinic_id,
        "patient_id": patient_id,
        "channel": channel,
        "recipient": recipient,
        "kind": kind,
        "purpose": purpose,
        "payload": payload,
        "due_at": due_at or now,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "idempotency_key": idempotency_key or f"{purpose}:{retry_key}",
        "retry_key": retry_key,
        "created_at": now,
    }
    # Pending ORM changes (the patient just registered) must reach the database first.
    session.flush()
    connection = session.connection()
    row_id: int | None = _INSERTS[connection.dialect.name].scalar(connection, values)
    if row_id is not None:
        session.info[_QUEUED] = True
    return row_id


def take_queued(session: Session) -> bool:
    """Whether messages were queued in `session` since the last call: an edge that has
    nothing to send need not wake the sender."""
    return bool(session.info.pop(_QUEUED, False))


def line_replies(
    session: Session,
    *,
    clinic_id: int,
    to: str,
    replies: tuple[Reply, ...] | list[Reply],
    purpose: str,
    now: datetime,
    reply_token: str | None = None,
    reply_until: datetime | None = None,
    idempotency_key: str | None = None,
    kind: MessageKind = MessageKind.TRANSACTIONAL,
    patient_id: int | None = None,
    due_at: datetime | None = None,
) -> int | None:
    """Queue replies for a LINE user or group, answering with `reply_token` while fresh
    (until `reply_until`, by default a little under a minute from now)."""
    if not replies:
        return None
    payload: dict[str, Any] = {"replies": codec.dump(replies)}
    if reply_token:
        payload["reply_token"] = reply_token
        payload["reply_until"] = (reply_until or now + REPLY_TOKEN_LIFETIME).isoformat()
    return enqueue(
        session,
        clinic_id=clinic_id,
        channel=Channel.LINE,
        recipient=to,
        payload=payload,
        purpose=purpose,
        now=now,
        idempotency_key=idempotency_key,
        kind=kind,
        due_at=due_at,
        patient_id=patient_id,
    )
