"""Answers leave through the outbox: reply while the token is fresh, else push with the
row's retry key; LINE's answers decide whether the row is sent, retried or failed."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
import respx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.conversation import codec
from backend.models import Clinic, OutboxMessage
from bot import render
from reminders import claims, dispatch
from tests.bot.conftest import ACCESS_TOKEN, USER, Line, envelope, follow, settings, sign, text
from tests.conftest import SessionStore
from tests.factories import NOW

REPLY = "/v2/bot/message/reply"
PUSH = "/v2/bot/message/push"


def the_row(session: Session) -> OutboxMessage:
    row = session.scalars(select(OutboxMessage)).one()
    session.refresh(row)
    return row


def expected_messages(row: OutboxMessage) -> list[dict[str, object]]:
    return render.messages(codec.load(row.payload["replies"]))


def drain(session: Session, at: timedelta = timedelta(0)) -> claims.Drained:
    return dispatch.drain(SessionStore(session), now=NOW + at, settings=settings())


def test_a_follow_is_answered_with_the_reply_api_after_the_response(
    app: FastAPI, clinic: Clinic, session: Session, line_api: respx.MockRouter
) -> None:
    reply = line_api.post(REPLY).respond(200, json={"sentMessages": []})
    followed = follow()
    body = envelope(followed)

    # The real kick: the TestClient returns once the background drain has run.
    response = TestClient(app).post(
        "/line/webhook", content=body, headers={"X-Line-Signature": sign(body)}
    )

    assert response.status_code == 200
    row = the_row(session)
    assert reply.call_count == 1
    request = reply.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert "X-Line-Retry-Key" not in request.headers
    assert json.loads(request.content) == {
        "replyToken": followed["replyToken"],
        "messages": expected_messages(row),
    }
    assert expected_messages(row)  # some answer was given
    assert (row.status, row.sent_at, row.attempts) == ("sent", NOW, 1)


def test_after_the_reply_token_expired_it_is_a_push_with_the_rows_retry_key(
    line: Line, session: Session, line_api: respx.MockRouter
) -> None:
    push = line_api.post(PUSH).respond(200, json={"sentMessages": []})
    line.post(text("予約"))

    drained = drain(session, at=timedelta(seconds=51))

    row = the_row(session)
    assert drained.sent == 1
    request = push.calls.last.request
    assert request.headers["X-Line-Retry-Key"] == row.retry_key
    assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert json.loads(request.content) == {"to": USER, "messages": expected_messages(row)}
    assert row.status == "sent"


def test_a_used_reply_token_falls_back_to_push(
    line: Line, session: Session, line_api: respx.MockRouter
) -> None:
    reply = line_api.post(REPLY).respond(400, json={"message": "Invalid reply token"})
    push = line_api.post(PUSH).respond(200, json={"sentMessages": []})
    line.post(text("予約"))

    drain(session)

    assert (reply.call_count, push.call_count) == (1, 1)
    assert the_row(session).status == "sent"


def test_409_on_a_push_means_line_already_took_it(
    line: Line, session: Session, line_api: respx.MockRouter
) -> None:
    line_api.post(PUSH).respond(409, json={"message": "The retry key is already accepted"})
    line.post(text("予約"))

    drain(session, at=timedelta(minutes=5))

    row = the_row(session)
    assert (row.status, row.sent_at) == ("sent", NOW + timedelta(minutes=5))


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(500, json={"message": "Internal server error"}), "LINE 500"),
        (httpx.Response(503, text="<html>"), "LINE 503"),
        (httpx.Response(429, json={"message": "Too Many Requests"}), "LINE 429"),
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectError("refused"), "connection failed"),
    ],
)
def test_a_temporary_failure_is_retried_later(
    line: Line,
    session: Session,
    line_api: respx.MockRouter,
    answer: httpx.Response | Exception,
    reason: str,
) -> None:
    line_api.post(PUSH).mock(side_effect=[answer])
    line.post(text("予約"))

    drained = drain(session, at=timedelta(minutes=1))

    row = the_row(session)
    assert drained.retried == 1
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.due_at == NOW + timedelta(minutes=1) + claims.FIRST_BACKOFF
    assert row.last_error is not None
    assert row.last_error.startswith(reason)
    assert row.claimed_at is None


def test_the_monthly_quota_waits_long_and_says_so(
    line: Line, session: Session, line_api: respx.MockRouter
) -> None:
    line_api.post(PUSH).respond(429, json={"message": "You have reached your monthly limit."})
    line.post(text("予約"))

    drain(session, at=timedelta(minutes=1))

    row = the_row(session)
    assert row.status == "pending"
    assert row.due_at == NOW + timedelta(minutes=1) + claims.QUOTA_BACKOFF
    assert row.last_error is not None
    assert "monthly message quota" in row.last_error


def test_a_permanent_refusal_fails_with_lines_reason(
    line: Line, session: Session, line_api: respx.MockRouter
) -> None:
    line_api.post(PUSH).respond(
        400,
        json={
            "message": "The request body has 1 error(s)",
            "details": [{"message": "May not be empty", "property": "messages[0].text"}],
        },
    )
    line.post(text("予約"))

    drained = drain(session, at=timedelta(minutes=1))

    row = the_row(session)
    assert drained.failed == 1
    assert row.status == "failed"
    assert row.last_error == (
        "LINE 400: The request body has 1 error(s); messages[0].text: May not be empty"
    )


def test_without_an_access_token_line_rows_wait(
    line: Line, session: Session, line_api: respx.MockRouter
) -> None:
    line.post(text("予約"))

    drained = dispatch.drain(SessionStore(session), now=NOW, settings=settings(access_token=""))

    assert drained.claimed == 0
    assert the_row(session).status == "pending"
    assert not line_api.calls
