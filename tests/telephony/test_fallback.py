"""POST /twilio/fallback: safe TwiML without the database, whatever happens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.app import create_app
from telephony import twiml
from tests.telephony.conftest import CLINIC_NUMBER, Attendant, Twilio, call_form, settings

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
SAY = '<Say language="ja-JP" voice="Polly.Mizuki">'
ENDING = f"{SAY}{twiml.CALL_AGAIN}</Say>{SAY}{twiml.GOODBYE}</Say><Hangup /></Response>"


class NoDatabase:
    """A store that fails the test if it is touched."""

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        pytest.fail("the fallback touched the database")
        yield  # type: ignore[unreachable]

    @contextmanager
    def reader(self) -> Iterator[Session]:
        pytest.fail("the fallback touched the database")
        yield  # type: ignore[unreachable]


@pytest.fixture
def offline(clock: list) -> Twilio:
    app = create_app(settings(), store=NoDatabase(), clock=lambda: clock[0])
    return Twilio(TestClient(app))


def fallback(twilio: Twilio, to: str = CLINIC_NUMBER) -> str:
    response = twilio.post("/twilio/fallback", call_form(To=to, ErrorCode="11200"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    return response.text


def test_without_an_earlier_call_the_fallback_apologises_in_general_words(
    offline: Twilio,
) -> None:
    assert fallback(offline) == (
        f"{HEAD}<Response>"
        f"{SAY}{twiml.SORRY}</Say>"
        f"{SAY}ご予約やお問い合わせは、当院のLINE公式アカウントからも承っております。</Say>"
        f"{ENDING}"
    )


def test_after_a_call_the_fallback_names_the_clinic_and_its_line_account(
    twilio: Twilio, attendant: Attendant, offline: Twilio
) -> None:
    twilio.call()

    assert fallback(offline) == (
        f"{HEAD}<Response>"
        f"{SAY}お電話ありがとうございます。テスト整骨院です。</Say>"
        f"{SAY}{twiml.SORRY}</Say>"
        f"{SAY}ご予約やお問い合わせは、テスト整骨院のLINE公式アカウントからも承っております。</Say>"
        f"{ENDING}"
    )


def test_a_clinic_without_line_is_not_said_to_have_it(
    twilio: Twilio, attendant: Attendant, offline: Twilio, clinic: object, session: Session
) -> None:
    clinic.line_add_url = None  # type: ignore[attr-defined]
    session.flush()
    twilio.call()

    document = fallback(offline)

    assert "テスト整骨院です。" in document
    assert "LINE" not in document


def test_the_fallback_checks_the_signature_too(offline: Twilio) -> None:
    response = offline.post("/twilio/fallback", call_form(), signature="forged")

    assert response.status_code == 403


def test_the_fallback_never_fails(offline: Twilio, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(twiml, "fallback", broken)

    document = fallback(offline)

    assert document.startswith(f'{HEAD}<Response><Say language="ja-JP">{twiml.SORRY}</Say>')
    assert document.endswith("<Hangup /></Response>")
