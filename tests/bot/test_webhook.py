"""POST /line/webhook: signature, parsing, the inbox, one dialogue call per event."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import inbox
from backend.dialogue import line as dialogue
from backend.models import Clinic, InboundEvent, OutboxMessage
from bot import inbound
from tests.bot.conftest import (
    SECRET,
    USER,
    Line,
    envelope,
    event,
    follow,
    make_app,
    postback,
    sign,
    sticker,
    text,
)
from tests.factories import NOW, make_clinic


def inbox_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(InboundEvent)) or 0


def outbox_rows(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.parametrize(
    "signature",
    [
        lambda body: "",
        lambda body: "not-base64",
        lambda body: sign(body, secret=SECRET + "x"),
        lambda body: sign(body + b" "),
        lambda body: sign(body).lower(),
    ],
    ids=["empty", "garbage", "other secret", "other body", "mangled"],
)
def test_a_wrong_signature_is_refused_and_nothing_is_stored(
    line: Line, session: Session, signature: Callable[[bytes], str]
) -> None:
    body = envelope(follow())

    response = line.deliver(body, signature=signature(body))

    assert response.status_code == 401
    assert response.json() == {"detail": "invalid signature", "code": "unauthorized"}
    assert inbox_rows(session) == 0
    assert outbox_rows(session) == []
    assert line.kicks == []


def test_a_missing_signature_is_refused(line: Line, session: Session) -> None:
    response = line.client.post("/line/webhook", content=envelope(follow()))

    assert response.status_code == 401
    assert inbox_rows(session) == 0


def test_an_empty_channel_secret_never_verifies(
    session: Session, clock: list, clinic: Clinic, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(make_app(session, clock, channel_secret=""))
    body = envelope(follow())

    response = client.post(
        "/line/webhook", content=body, headers={"X-Line-Signature": sign(body, "")}
    )

    assert response.status_code == 401
    assert inbox_rows(session) == 0
    assert "UKETSUKE_LINE_CHANNEL_SECRET is not configured" in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe not utf-8",
        b"[]",
        b"null",
        b"{}",
        b'{"events": "x"}',
        b'{"events": [1]}',
        b'{"events": [{"type": "message"}]}',
    ],
)
def test_a_malformed_body_is_a_400_and_nothing_is_stored(
    line: Line, session: Session, body: bytes
) -> None:
    response = line.deliver(body)

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert inbox_rows(session) == 0


@pytest.mark.parametrize("missing", ["webhookEventId", "mode", "deliveryContext"])
def test_an_event_the_sdk_cannot_parse_refuses_the_whole_body(
    line: Line, session: Session, caplog: pytest.LogCaptureFixture, missing: str
) -> None:
    broken = text("肩が痛いです")
    del broken[missing]
    caplog.set_level(logging.INFO)

    response = line.post(text("予約"), broken)

    assert response.status_code == 400
    assert inbox_rows(session) == 0
    assert outbox_rows(session) == []
    # One line, and nothing a patient wrote or who they are.
    records = [record for record in caplog.records if record.name == "bot.webhook"]
    assert len(records) == 1
    assert "肩" not in caplog.text
    assert USER not in caplog.text


def test_unknown_event_types_are_recorded_and_ignored(line: Line, session: Session) -> None:
    response = line.post(
        event("somethingNew", replyToken="rt-new"),
        event("memberJoined", joined={"members": [{"type": "user", "userId": "U2"}]}),
        sticker(),
    )

    assert response.status_code == 200
    rows = list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))
    assert [row.kind for row in rows] == ["somethingNew", "memberJoined", "message"]
    assert all(row.processed_at == NOW for row in rows)
    assert outbox_rows(session) == []


def test_a_follow_is_recorded_and_answered_through_the_outbox(
    line: Line, session: Session, clinic: Clinic
) -> None:
    followed = follow()

    response = line.post(followed)

    assert response.status_code == 200
    row = session.scalars(select(InboundEvent)).one()
    assert (row.source, row.external_id, row.kind) == ("line", followed["webhookEventId"], "follow")
    assert row.clinic_id == clinic.id
    assert row.payload == followed
    (message,) = outbox_rows(session)
    assert message.recipient == USER
    assert message.status == "pending"
    assert message.payload["reply_token"] == followed["replyToken"]
    assert message.payload["replies"]
    assert line.kicks == [None]


def test_a_redelivery_is_a_200_with_no_second_effect(line: Line, session: Session) -> None:
    body = envelope(text("予約"))

    first = line.deliver(body)
    again = line.deliver(body)

    assert (first.status_code, again.status_code) == (200, 200)
    assert inbox_rows(session) == 1
    assert len(outbox_rows(session)) == 1
    assert len(line.kicks) == 1  # nothing new, nothing to send


def test_each_event_of_a_body_is_handled_in_order(line: Line, session: Session) -> None:
    response = line.post(follow(), text("予約"), postback("menu:book"))

    assert response.status_code == 200
    assert inbox_rows(session) == 3
    assert len(line.kicks) == 1


def test_the_verify_button_of_the_console_gets_a_200(line: Line, session: Session) -> None:
    response = line.deliver(json.dumps({"destination": "Ubot", "events": []}).encode())

    assert response.status_code == 200
    assert line.kicks == []


def test_the_webhook_needs_no_api_token(line: Line) -> None:
    assert "authorization" not in {name.lower() for name in line.client.headers}
    assert line.post(follow()).status_code == 200


def test_without_a_clinic_nothing_is_stored_and_line_may_retry(
    session: Session, clock: list
) -> None:
    client = TestClient(make_app(session, clock))
    body = envelope(follow())

    response = client.post("/line/webhook", content=body, headers={"X-Line-Signature": sign(body)})

    assert response.status_code == 503
    assert inbox_rows(session) == 0


def test_a_clinic_made_after_a_refusal_is_found_and_then_kept(
    session: Session, clock: list
) -> None:
    app = make_app(session, clock)
    app.state.kick = lambda: None
    client = TestClient(app)

    def deliver() -> int:
        body = envelope(follow())
        headers = {"X-Line-Signature": sign(body)}
        return client.post("/line/webhook", content=body, headers=headers).status_code

    assert deliver() == 503
    first = make_clinic(session)
    assert deliver() == 200
    # Found on the first write that had one, then kept: no query per webhook.
    assert app.state.line_recorder.write.clinic_id == first.id
    assert deliver() == 200
    assert set(session.scalars(select(InboundEvent.clinic_id))) == {first.id}


def test_a_body_over_a_megabyte_is_refused_unread_and_nothing_is_stored(
    line: Line, session: Session
) -> None:
    huge = text("あ" * 400_000)  # three bytes a character in UTF-8

    response = line.post(huge)

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert inbox_rows(session) == 0


def test_the_configured_clinic_is_used(session: Session, clock: list, clinic: Clinic) -> None:
    other = Clinic(name="二号院", created_at=NOW)
    session.add(other)
    session.flush()
    app = make_app(session, clock, clinic_id=other.id)
    app.state.kick = lambda: inbound.process(app.state.store, clock=lambda: clock[0])
    body = envelope(follow())

    TestClient(app).post("/line/webhook", content=body, headers={"X-Line-Signature": sign(body)})

    assert session.scalars(select(InboundEvent.clinic_id)).one() == other.id
    assert outbox_rows(session)[0].clinic_id == other.id


def test_a_failing_event_is_retried_then_given_up_without_holding_back_the_others(
    line: Line, session: Session, clock: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, failing, third = text("予約"), text("こんにちは"), text("予約確認")

    def handle(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)
        if kwargs["reply_token"] == failing["replyToken"]:
            raise RuntimeError("a bug in a table")  # after its answer was queued

    real = dialogue.handle
    monkeypatch.setattr(dialogue, "handle", handle)

    response = line.post(first, failing, third)

    assert response.status_code == 200  # recorded: LINE must not deliver them again
    # The first and the third were answered; the failing one's answer was rolled back.
    assert len(outbox_rows(session)) == 2
    stuck = session.scalars(
        select(InboundEvent).where(InboundEvent.external_id == failing["webhookEventId"])
    ).one()
    assert (stuck.processed_at, stuck.attempts, stuck.last_error) == (None, 1, "RuntimeError")
    for _ in range(inbox.MAX_ATTEMPTS - 1):
        inbound.process(line.client.app.state.store, clock=lambda: clock[0])
    session.refresh(stuck)
    assert stuck.attempts == inbox.MAX_ATTEMPTS
    assert stuck.processed_at is not None  # given up, so it no longer blocks the queue
    assert len(outbox_rows(session)) == 2


@pytest.mark.parametrize(
    ("seconds", "quiet", "transactions"),
    [(60.0, True, 2), (0.0, True, inbound.CHUNK + 2), (60.0, False, inbound.CHUNK + 2)],
    ids=["count", "time", "flood"],
)
def test_events_are_handled_a_chunk_to_a_transaction(
    line: Line,
    session: Session,
    clock: list,
    monkeypatch: pytest.MonkeyPatch,
    seconds: float,
    quiet: bool,
    transactions: int,
) -> None:
    """At most CHUNK events to a transaction, none more once it has run CHUNK_SECONDS, and
    one only while webhooks keep pouring in (making way gave up waiting for quiet)."""
    store = line.client.app.state.store
    line.client.app.state.kick = lambda: None
    line.post(*(text("こんにちは") for _ in range(inbound.CHUNK + 2)))
    monkeypatch.setattr(inbound, "CHUNK_SECONDS", seconds)
    opened = []
    real = store.transaction

    def counted() -> object:
        opened.append(None)
        return real()

    monkeypatch.setattr(store, "transaction", counted)
    ways: list[None] = []

    def make_way() -> bool:
        ways.append(None)
        return quiet

    handled = inbound.process(store, clock=lambda: clock[0], make_way=make_way)

    assert handled == inbound.CHUNK + 2
    assert len(opened) == transactions
    assert len(ways) == transactions  # the web process may make way before each one
    assert len(outbox_rows(session)) == inbound.CHUNK + 2


def test_when_the_events_cannot_be_recorded_the_answer_is_503(
    line: Line, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(inbox, "record_many", broken)
    response = line.post(text("予約"))
    assert response.status_code == 503
    assert session.scalars(select(InboundEvent)).all() == []
    assert line.kicks == []


def test_the_app_drains_after_answering(app: FastAPI) -> None:
    assert callable(app.state.kick)
