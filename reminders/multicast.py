"""LINE multicast: rows that carry the same message (a campaign, a seasonal greeting) go
out as one request per up to 500 recipients, each row then marked sent.

A batch is formed when its rows are first claimed, inside the claim's transaction, so it
is recorded before anything is sent: every member gets the same `batch_key`, a UUID derived
from the members' own retry keys (sorted), which is the request's `X-Line-Retry-Key`. The
claim always takes a batch whole (reminders/claims.py) and its rows are settled together,
so a retry, or a re-claim after a crash, repeats exactly the same request under the same
key, and LINE answers 409 if it already took it.

Only rows that could not be told apart from a push join a batch: LINE user ids (multicast
takes no groups), no reply token, never tried before (a row pushed once keeps its own key),
and a message that fits one request (at most five bubbles).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import httpx
from sqlalchemy import Connection, Row, Table, Update, bindparam, func, select, update
from sqlalchemy.orm import Session

from backend import outbox
from backend.conversation import codec
from backend.models import Channel, OutboxMessage, OutboxStatus
from bot import client, render

if TYPE_CHECKING:
    from reminders.claims import Job

log = logging.getLogger(__name__)

MULTICAST_PATH = "/v2/bot/message/multicast"
MAX_RECIPIENTS = 500
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
# Fixed, so the key of a batch depends only on its members.
_NAMESPACE = uuid.UUID("6f1d2c4e-8a53-4c1b-9e0f-2b7d5a9c3e41")


def form(connection: Connection, rows: Sequence[Row[Any]]) -> dict[int, str]:
    """Give claimed rows with the same message (per clinic) a shared batch key, 500 at most
    each; the keys given, by row id."""
    groups: dict[tuple[int, str], list[Row[Any]]] = defaultdict(list)
    for row in rows:
        if _eligible(row):
            groups[(row.clinic_id, _digest(row.payload))].append(row)
    keys: dict[int, str] = {}
    for members in groups.values():
        if len(members) < 2 or not _one_request(members[0].payload):
            continue
        members.sort(key=lambda row: row.id)
        for start in range(0, len(members), MAX_RECIPIENTS):
            keys |= _batch(connection, members[start : start + MAX_RECIPIENTS])
    return keys


def _eligible(row: Row[Any]) -> bool:
    return (
        row.channel == Channel.LINE
        and row.batch_key is None
        and row.attempts == 0
        and bool(USER_ID.match(row.recipient))
        and "reply_token" not in row.payload
    )


def _digest(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _one_request(payload: dict[str, Any]) -> bool:
    try:
        return len(render.requests(codec.load(payload["replies"]))) == 1
    except (KeyError, TypeError, ValueError):
        return False


# Plain statements built once, run on the claim's connection: every claim that meets a
# batch runs them, and the claim handles rows, not ORM objects (reminders/claims.py).
_OUTBOX = cast(Table, OutboxMessage.__table__)
_MARK = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(batch_key=bindparam("key"))
)
_UNSETTLED = select(func.count()).where(
    _OUTBOX.c.batch_key == bindparam("batch"),
    _OUTBOX.c.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
)


def _batch(connection: Connection, members: list[Row[Any]]) -> dict[int, str]:
    if len(members) < 2:
        return {}  # a lone row is pushed under its own key
    key = batch_key([row.retry_key for row in members])
    ids = [row.id for row in members]
    connection.execute(_MARK, {"ids": ids, "key": key})
    return dict.fromkeys(ids, key)


def taking(*, due: Any, values: dict[str, Any], returning: Sequence[Any]) -> Update:
    """The UPDATE that takes the `due` rows of one batch (`batch`), setting `values`
    and answering `returning`: built once by the claim, which knows what is due."""
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.batch_key == bindparam("batch"), due)
        .values(values)
        .returning(*returning)
    )


def take(
    session: Session, batch_key: str, *, statement: Update, params: dict[str, Any]
) -> list[Row[Any]]:
    """Claim every unsettled row of a batch that is due (`statement`, from `taking`, with
    `params`), or none of them: a part of a batch sent under the batch's retry key would
    be answered 409 and wrongly count as sent. The rows taken, as `statement` returns them."""
    with session.begin_nested() as savepoint:
        connection = session.connection()
        taken = connection.execute(statement, {**params, "batch": batch_key}).all()
        unsettled = connection.execute(_UNSETTLED, {"batch": batch_key}).scalar()
        if len(taken) != unsettled:
            log.warning("multicast batch %s is partly held elsewhere; left for later", batch_key)
            savepoint.rollback()
            return []
    return list(taken)


def batch_key(retry_keys: Sequence[str]) -> str:
    """The retry key of a batch: the same members always give the same key."""
    return str(uuid.uuid5(_NAMESPACE, ",".join(sorted(retry_keys))))


def send(line: client.LineClient, jobs: Sequence[Job]) -> outbox.Outcome:
    """Send one batch as a single multicast under its batch key."""
    try:
        (messages,) = render.requests(codec.load(jobs[0].payload["replies"]))
    except (KeyError, TypeError, ValueError) as error:
        return outbox.Failed(f"unreadable payload ({type(error).__name__})")
    body = {"to": [job.recipient for job in jobs], "messages": messages}
    headers = {"X-Line-Retry-Key": jobs[0].batch_key or jobs[0].retry_key}
    try:
        response = line.http.post(MULTICAST_PATH, json=body, headers=headers)
    except httpx.TimeoutException:
        return outbox.Retry("timeout")
    except httpx.HTTPError as error:
        return outbox.Retry(f"connection failed ({type(error).__name__})")
    result = client.outcome(response, retry_key=True)
    if isinstance(result, client.TokenExpired):  # only replies carry tokens
        return outbox.Failed("unexpected reply-token error on a multicast")
    return result
