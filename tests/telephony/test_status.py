"""POST /twilio/status: how a call ended reaches the attendant once, answered 204."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from backend.dialogue import phone
from backend.models import Clinic
from tests.factories import NOW
from tests.telephony.conftest import CALL, CALLER, Attendant, Twilio, inbox_rows


@pytest.mark.parametrize(
    ("status", "duration", "seconds"),
    [
        ("completed", "42", 42),
        ("busy", "0", 0),
        ("no-answer", None, None),
        ("failed", None, None),
        ("canceled", "", None),
        ("completed", "4.5", None),
    ],
)
def test_the_end_of_a_call_reaches_the_attendant_with_its_status_and_duration(
    twilio: Twilio,
    attendant: Attendant,
    session: Session,
    clinic: Clinic,
    status: str,
    duration: str | None,
    seconds: int | None,
) -> None:
    response = twilio.ended(status, duration)

    assert response.status_code == 204
    assert response.content == b""
    assert attendant.ended == [
        {
            "clinic_id": clinic.id,
            "call_sid": CALL,
            "caller": CALLER,
            "status": status,
            "duration_seconds": seconds,
            "now": NOW,
        }
    ]
    [row] = inbox_rows(session)
    assert (row.external_id, row.kind, row.processed_at) == (f"{CALL}:status", "status", NOW)


def test_a_repeated_status_callback_is_not_handled_twice(
    twilio: Twilio, attendant: Attendant, session: Session
) -> None:
    attendant.queues = True  # as a missed call's alert and text-back
    first = twilio.ended("completed", "42")
    again = twilio.ended("completed", "42")

    assert (first.status_code, again.status_code) == (204, 204)
    assert len(attendant.ended) == 1
    assert len(inbox_rows(session)) == 1
    assert twilio.kicks == [None]  # what it queued goes out after it, once


def test_a_call_that_ends_with_nothing_to_send_does_not_wake_the_outbox(
    twilio: Twilio, attendant: Attendant
) -> None:
    assert twilio.ended("completed", "42").status_code == 204
    assert len(attendant.ended) == 1
    assert twilio.kicks == []


@pytest.mark.parametrize("status", ["initiated", "ringing", "in-progress", "queued", ""])
def test_a_status_that_does_not_end_the_call_is_acknowledged_and_ignored(
    twilio: Twilio, attendant: Attendant, session: Session, status: str
) -> None:
    response = twilio.ended(status)

    assert response.status_code == 204
    assert attendant.ended == []
    assert inbox_rows(session) == []


def test_a_status_callback_that_cannot_be_recorded_is_not_acknowledged(
    twilio: Twilio,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(session: Session, **context: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(phone, "call_ended", broken)

    response = twilio.ended("completed", "42")

    # Not a 2xx: nothing was committed, and a callback URL with retries is sent again.
    assert response.status_code == 503
    assert response.content == b""
    assert inbox_rows(session) == []
    assert "RuntimeError" in caplog.text
