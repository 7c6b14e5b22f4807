"""With UKETSUKE_WORKER_EVENTS=worker the web process only verifies, records and answers
LINE's webhook; the worker answers the events and sends what they queued."""

from __future__ import annotations

from datetime import datetime

import pytest
import respx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.models import InboundEvent, OutboxMessage, OutboxStatus
from backend.settings import Settings, WorkerSettings
from reminders import claims, dispatch, worker
from tests.bot.conftest import Line, follow, settings
from tests.conftest import SessionStore
from tests.factories import NOW, make_clinic

REPLY = "/v2/bot/message/reply"


def worker_mode() -> Settings:
    base = settings()
    events = WorkerSettings(_env_file=None, events="worker")  # type: ignore[call-arg]
    return base.model_copy(update={"worker": events})


def test_the_web_process_records_and_the_worker_answers(
    session: Session, line_api: respx.MockRouter
) -> None:
    make_clinic(session)
    chosen = worker_mode()
    clock: list[datetime] = [NOW]
    app = create_app(chosen, store=SessionStore(session), clock=lambda: clock[0])
    reply = line_api.post(REPLY).respond(200, json={"sentMessages": []})

    with TestClient(app) as client:
        answered = Line(client).post(follow())
        [event] = session.scalars(select(InboundEvent)).all()
        assert answered.status_code == 200
        assert event.processed_at is None  # the web process left it to the worker
        assert reply.call_count == 0

        outbox = worker.Worker(SessionStore(session), settings=chosen, clock=lambda: clock[0])
        try:
            outbox.respond()
        finally:
            outbox.stop()

    session.refresh(event)
    assert event.processed_at == NOW
    [greeting] = session.scalars(select(OutboxMessage)).all()
    assert greeting.status == OutboxStatus.SENT
    assert reply.call_count == 1


def test_a_poll_with_nothing_recorded_or_due_does_not_drain(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_clinic(session)
    drains: list[datetime] = []

    def drain(store: object, *, now: datetime, **_: object) -> claims.Drained:
        drains.append(now)
        return claims.Drained()

    monkeypatch.setattr(dispatch, "drain", drain)
    outbox = worker.Worker(SessionStore(session), settings=worker_mode(), clock=lambda: NOW)
    try:
        outbox.respond()
        assert drains == []
        outbox.kick()  # what respond does when something is due
    finally:
        outbox.stop()

    assert drains == [NOW]
