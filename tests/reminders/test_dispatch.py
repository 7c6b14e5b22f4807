"""The outbox drain: what it claims, that two drains never send a row twice, and that a
row a crashed worker left behind is sent again under the same retry key."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import outbox
from backend.app import create_app
from backend.conversation.model import Say
from backend.db import Database
from backend.models import Channel, Clinic, OutboxMessage, OutboxStatus
from bot import client
from reminders import claims, dispatch
from tests.bot.conftest import settings
from tests.conftest import SessionStore
from tests.factories import NOW, make_clinic

PUSH = "/v2/bot/message/push"
REPLY = "/v2/bot/message/reply"


@pytest.fixture
def clinic(session: Session) -> Clinic:
    return make_clinic(session, hours=False)


def queue(
    session: Session, clinic: Clinic, text: str = "こんにちは", **overrides: Any
) -> OutboxMessage:
    """A LINE row as the dialogue queues it, then with `overrides` applied."""
    row_id = outbox.line_replies(
        session, clinic_id=clinic.id, to=f"U-{text}", replies=[Say(text)], purpose="test", now=NOW
    )
    assert row_id is not None
    row = session.get(OutboxMessage, row_id)
    assert row is not None
    for name, value in overrides.items():
        setattr(row, name, value)
    session.flush()
    return row


def drain(session: Session, now: datetime = NOW, **options: Any) -> claims.Drained:
    return dispatch.drain(SessionStore(session), now=now, settings=settings(), **options)


def pushed_keys(route: respx.Route) -> list[str]:
    return [call.request.headers["X-Line-Retry-Key"] for call in route.calls]


def refreshed(session: Session, row: OutboxMessage) -> OutboxMessage:
    session.refresh(row)
    return row


def test_only_due_rows_are_claimed(
    session: Session, clinic: Clinic, line_api: respx.MockRouter
) -> None:
    push = line_api.post(PUSH).respond(200, json={})
    due = queue(session, clinic, "due")
    later = queue(session, clinic, "later", due_at=NOW + timedelta(minutes=1))
    sent = queue(session, clinic, "sent", status=OutboxStatus.SENT)
    failed = queue(session, clinic, "failed", status=OutboxStatus.FAILED)
    sms = queue(session, clinic, "sms", channel=Channel.SMS, recipient="+819012345678")
    sms.payload = {"text": "明日のご予約です"}
    busy = queue(
        session, clinic, "busy", status=OutboxStatus.SENDING, claimed_at=NOW - timedelta(seconds=30)
    )

    drained = drain(session)

    assert (drained.claimed, drained.sent, drained.failed) == (2, 1, 1)
    assert pushed_keys(push) == [due.retry_key]
    statuses = {row.id: refreshed(session, row).status for row in (later, sent, failed, sms, busy)}
    assert statuses == {
        later.id: "pending",
        sent.id: "sent",
        failed.id: "failed",
        sms.id: "failed",  # SMS is not set up in these settings: visible to staff
        busy.id: "sending",  # another worker is on it, within its lease
    }
    assert refreshed(session, due).status == "sent"
    assert "SMS is not configured" in (sms.last_error or "")


def test_an_interrupted_sms_is_never_sent_again_but_marked_uncertain(
    session: Session, clinic: Clinic, line_api: respx.MockRouter
) -> None:
    push = line_api.post(PUSH).respond(200, json={})
    stale = NOW - claims.LEASE - timedelta(seconds=1)
    sms = queue(
        session,
        clinic,
        "sms",
        channel=Channel.SMS,
        recipient="+819012345678",
        status=OutboxStatus.SENDING,
        claimed_at=stale,
    )
    line = queue(session, clinic, "line", status=OutboxStatus.SENDING, claimed_at=stale)

    drain(session)

    assert refreshed(session, sms).status == OutboxStatus.UNCERTAIN
    assert sms.last_error == claims.INTERRUPTED
    assert refreshed(session, line).status == OutboxStatus.SENT  # LINE has its retry key
    assert pushed_keys(push) == [line.retry_key]


def test_an_unclear_sms_attempt_is_settled_as_uncertain(session: Session, clinic: Clinic) -> None:
    row = queue(session, clinic, "sms", channel=Channel.SMS, recipient="+819012345678")
    store = SessionStore(session)
    (job,) = claims.claim(store, channels=[Channel.SMS], now=NOW, limit=5)
    drained = claims.settle(store, [(job, outbox.Uncertain("Twilio 503"))], now=NOW)
    assert drained.claimed == 1
    assert (refreshed(session, row).status, row.last_error) == (
        OutboxStatus.UNCERTAIN,
        "Twilio 503",
    )


def test_the_oldest_due_rows_go_first_up_to_the_limit(
    session: Session, clinic: Clinic, line_api: respx.MockRouter
) -> None:
    push = line_api.post(PUSH).respond(200, json={})
    rows = [queue(session, clinic, str(n), due_at=NOW - timedelta(minutes=n)) for n in range(3)]

    drained = drain(session, limit=2)

    assert drained.claimed == 2
    assert pushed_keys(push) == [rows[2].retry_key, rows[1].retry_key]


def test_a_row_left_sending_past_its_lease_is_sent_again_with_the_same_key(
    session: Session, clinic: Clinic, line_api: respx.MockRouter
) -> None:
    push = line_api.post(PUSH).respond(409, json={"message": "The retry key is already accepted"})
    stale = queue(
        session,
        clinic,
        "stale",
        status=OutboxStatus.SENDING,
        claimed_at=NOW - claims.LEASE,
        attempts=1,
    )

    drained = drain(session)

    assert drained.sent == 1
    assert pushed_keys(push) == [stale.retry_key]
    row = refreshed(session, stale)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 2, NOW)


def test_a_row_claimed_again_meanwhile_is_not_overwritten(session: Session, clinic: Clinic) -> None:
    row = queue(session, clinic)
    store = SessionStore(session)
    (job,) = claims.claim(store, channels=[Channel.LINE], now=NOW, limit=10)
    # The lease ran out and another drain took the row.
    taken = claims.claim(store, channels=[Channel.LINE], now=NOW + claims.LEASE, limit=10)

    drained = claims.settle(store, [(job, outbox.Failed("late"))], now=NOW)

    assert [t.id for t in taken] == [row.id]
    assert drained.lost == [row.id]
    row = refreshed(session, row)
    assert (row.status, row.claimed_at, row.last_error) == (
        "sending",
        NOW + claims.LEASE,
        None,
    )


def test_retries_give_up_after_the_last_attempt(
    session: Session, clinic: Clinic, line_api: respx.MockRouter
) -> None:
    line_api.post(PUSH).respond(500, json={"message": "Internal server error"})
    row = queue(session, clinic, attempts=claims.MAX_ATTEMPTS - 1)

    drained = drain(session)

    row = refreshed(session, row)
    assert drained.failed == 1
    assert row.status == "failed"
    assert (
        row.last_error
        == f"gave up after {claims.MAX_ATTEMPTS} attempts: LINE 500: Internal server error"
    )


def test_once_line_asks_to_wait_the_rest_of_the_drain_waits_untried(
    session: Session, clinic: Clinic, line_api: respx.MockRouter
) -> None:
    push = line_api.post(PUSH).respond(503, json={"message": "Service Unavailable"})
    first, *rest = [
        queue(session, clinic, str(n), due_at=NOW - timedelta(minutes=3 - n)) for n in range(3)
    ]

    drained = drain(session)

    assert (drained.retried, drained.deferred) == (1, 2)
    assert push.call_count == 1
    tried = refreshed(session, first)
    assert (tried.status, tried.attempts) == ("pending", 1)
    untried = [refreshed(session, row) for row in rest]
    assert {(row.status, row.attempts, row.claimed_at) for row in untried} == {("pending", 0, None)}
    assert {row.due_at for row in untried} == {NOW + claims.FIRST_BACKOFF}


@pytest.mark.parametrize(
    ("attempts", "wait"),
    [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (40, 3600)],
)
def test_backoff_doubles_up_to_an_hour(attempts: int, wait: int) -> None:
    assert claims.backoff(attempts) == timedelta(seconds=wait)


def test_more_than_five_messages_go_by_push_with_a_key_per_request(
    session: Session, clinic: Clinic, line_api: respx.MockRouter
) -> None:
    reply = line_api.post(REPLY).respond(200, json={})
    push = line_api.post(PUSH).mock(
        side_effect=[
            respx.MockResponse(200, json={}),
            respx.MockResponse(500, json={"message": "Internal server error"}),
            respx.MockResponse(409, json={"message": "The retry key is already accepted"}),
            respx.MockResponse(200, json={}),
        ]
    )
    row_id = outbox.line_replies(
        session,
        clinic_id=clinic.id,
        to="U1",
        replies=[Say(str(n)) for n in range(6)],
        purpose="test",
        now=NOW,
        reply_token="fresh",
    )
    row = session.get(OutboxMessage, row_id)
    assert row is not None
    second = client.request_key(row.retry_key, 1)
    assert second == str(uuid.uuid5(uuid.UUID(row.retry_key), "1"))

    drain(session)
    drain(session, now=NOW + claims.FIRST_BACKOFF)

    # A reply token answers one request only, and could not be retried without a repeat.
    assert reply.call_count == 0
    assert pushed_keys(push) == [row.retry_key, second, row.retry_key, second]
    assert refreshed(session, row).status == "sent"


def test_a_kick_during_a_drain_runs_one_more(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[datetime] = []
    kick = dispatch.Kick(SessionStore(session), settings=settings(), clock=lambda: NOW)

    def drain(store: Any, *, now: datetime, **_: Any) -> claims.Drained:
        runs.append(now)
        if len(runs) == 1:
            kick()  # as another webhook's kick would, while this drain runs
        return claims.Drained()

    monkeypatch.setattr(dispatch, "drain", drain)

    kick()

    assert runs == [NOW, NOW]


def test_a_kick_makes_way_before_it_drains(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[str] = []
    kick = dispatch.Kick(
        SessionStore(session),
        settings=settings(),
        clock=lambda: NOW,
        before=[lambda: steps.append("handle")],
        make_way=lambda: steps.append("make way"),
    )

    def drain(store: Any, **_: Any) -> claims.Drained:
        steps.append("drain")
        return claims.Drained()

    monkeypatch.setattr(dispatch, "drain", drain)

    kick()

    assert steps == ["handle", "make way", "drain"]


def test_two_drains_at_once_send_each_row_once(
    committed: Database, line_api: respx.MockRouter
) -> None:
    with committed.transaction() as session:
        clinic = make_clinic(session, hours=False)
        rows = [queue(session, clinic, str(n)) for n in range(20)]
        keys = sorted(row.retry_key for row in rows)
    push = line_api.post(PUSH).respond(200, json={})
    start = threading.Barrier(2)

    def worker() -> int:
        start.wait()
        sent, claimed = 0, True
        while claimed:
            drained = dispatch.drain(committed, now=NOW, settings=settings(), limit=3)
            sent, claimed = sent + drained.sent, drained.claimed > 0
        return sent

    with ThreadPoolExecutor(2) as pool:
        counts = [future.result() for future in [pool.submit(worker) for _ in range(2)]]

    assert sum(counts) == 20
    assert sorted(pushed_keys(push)) == keys
    with committed.reader() as session:
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent"}


def test_kicks_share_one_set_of_channel_clients_until_closed(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    @contextmanager
    def senders(settings: Any) -> Iterator[dict[Any, Any]]:
        opened.append("open")
        yield {}
        opened.append("closed")

    monkeypatch.setattr(dispatch, "configured_senders", senders)
    kick = dispatch.Kick(SessionStore(session), settings=settings(), clock=lambda: NOW)

    kick()
    kick()
    assert opened == ["open"]

    kick.close()
    assert opened == ["open", "closed"]


def test_the_app_opens_the_kicks_clients_at_start_and_closes_them_at_stop(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    @contextmanager
    def senders(settings: Any) -> Iterator[dict[Any, Any]]:
        opened.append("open")
        yield {}
        opened.append("closed")

    monkeypatch.setattr(dispatch, "configured_senders", senders)
    app = create_app(settings(), store=SessionStore(session), clock=lambda: NOW)

    with TestClient(app) as client:
        assert opened == ["open"]
        assert client.get("/healthz").status_code == 200
    assert opened == ["open", "closed"]


class Tasks(Executor):
    """Runs each task at once, and remembers which texts each one sent."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.sent.append([])
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_one_recipients_answers_go_in_order_in_one_task_others_in_their_own(
    session: Session, clinic: Clinic, line_api: respx.MockRouter
) -> None:
    for to, text in (("U-a", "a1"), ("U-b", "b1"), ("U-a", "a2"), ("U-c", "c1")):
        outbox.line_replies(
            session, clinic_id=clinic.id, to=to, replies=[Say(text)], purpose="test", now=NOW
        )
    tasks = Tasks()

    def answer(request: Any) -> respx.MockResponse:
        tasks.sent[-1].append(json.loads(request.content)["messages"][0]["text"])
        return respx.MockResponse(200, json={})

    line_api.post(PUSH).mock(side_effect=answer)

    drained = drain(session, pool=tasks)

    assert drained.sent == 4
    assert tasks.sent == [["a1", "a2"], ["b1"], ["c1"]]


def test_a_poke_during_a_run_asks_for_one_more_run_instead_of_a_thread(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[datetime] = []
    pokes: list[bool] = []
    kick = dispatch.Kick(SessionStore(session), settings=settings(), clock=lambda: NOW)

    def drain(store: Any, *, now: datetime, **_: Any) -> claims.Drained:
        runs.append(now)
        if len(runs) == 1:
            pokes.append(kick.poke())  # as a webhook arriving meanwhile would
        return claims.Drained()

    monkeypatch.setattr(dispatch, "drain", drain)

    assert kick.poke() is True  # idle: the caller must run it
    kick()

    assert pokes == [False]
    assert runs == [NOW, NOW]


def test_a_drain_paces_itself_before_each_send(
    session: Session, clinic: Clinic, line_api: respx.MockRouter
) -> None:
    # The web process's kick passes its make_way here: in a burst of webhooks each answer
    # waits for a quiet moment rather than only the first.
    steps: list[str] = []

    def send(request: httpx.Request) -> httpx.Response:
        steps.append("send")
        return httpx.Response(200, json={})

    line_api.post(PUSH).mock(side_effect=send)
    queue(session, clinic, "one")
    queue(session, clinic, "two")

    drain(session, pace=lambda: steps.append("pace"))

    assert steps == ["pace", "send", "pace", "send"]
