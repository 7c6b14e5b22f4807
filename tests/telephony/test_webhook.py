"""The voice webhooks' mechanics: form → event → the attendant → TwiML, one inbox row per
step, repeats answered from the inbox, failures rolled back into a polite apology."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.conversation.model import (
    CallStarted,
    Dialed,
    Expect,
    Hangup,
    Keys,
    Say,
    Silence,
    Text,
    Transfer,
)
from backend.dialogue import phone
from backend.models import CallLog, CallOutcome, Clinic
from telephony import twiml
from tests.conftest import on_the_loop
from tests.factories import NOW
from tests.telephony.conftest import (
    CALL,
    CALLER,
    CLINIC_NUMBER,
    PUBLIC,
    Attendant,
    Twilio,
    call_form,
    inbox_rows,
    make_app,
)

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
SAY = '<Say language="ja-JP" voice="Polly.Mizuki">'
APOLOGY = twiml.apology("Polly.Mizuki")


def test_an_incoming_call_is_recorded_and_greeted(
    twilio: Twilio, attendant: Attendant, session: Session, clinic: Clinic
) -> None:
    attendant.script = [(Say("お電話ありがとうございます。テスト整骨院です。"), Expect(keys=1))]
    attendant.queues = True

    response = twilio.call()

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text == (
        f"{HEAD}<Response>"
        f'<Gather action="{PUBLIC}/twilio/voice/turn?n=1" actionOnEmptyResult="true"'
        ' input="speech dtmf" language="ja-JP" method="POST" numDigits="1"'
        ' speechTimeout="auto" timeout="5">'
        f"{SAY}お電話ありがとうございます。テスト整骨院です。</Say></Gather>"
        f'<Redirect method="POST">{PUBLIC}/twilio/voice/turn?n=1</Redirect>'
        "</Response>"
    )
    assert attendant.events == [CallStarted(CALLER)]
    # The clinic's config token, read with the clinic: its facts need no query of their own.
    context = {"clinic_id": clinic.id, "call_sid": CALL, "caller": CALLER, "now": NOW}
    token = session.scalar(select(Clinic.config_token).where(Clinic.id == clinic.id))
    assert attendant.turns == [{**context, "config_token": token}]
    [row] = inbox_rows(session)
    assert (row.external_id, row.kind, row.clinic_id) == (f"{CALL}:0", "call", clinic.id)
    assert row.processed_at == NOW
    assert row.payload["form"]["From"] == CALLER
    assert row.payload["twiml"] == response.text
    assert twilio.kicks == [None]  # what the attendant queued is sent after the answer


@pytest.mark.parametrize("number", ["+266696687", "anonymous", "", "client:alice", "0312345678"])
def test_a_withheld_or_odd_caller_number_reaches_the_attendant_as_empty(
    twilio: Twilio, attendant: Attendant, number: str
) -> None:
    twilio.call(caller=number)

    assert attendant.events == [CallStarted("")]
    assert attendant.turns[0]["caller"] == ""


def test_speech_keys_and_silence_become_text_keys_and_silence(
    twilio: Twilio, attendant: Attendant, session: Session
) -> None:
    twilio.call()

    spoken = twilio.answer(1, SpeechResult=" 予約したいんですけど ", Confidence="0.91")
    keyed = twilio.answer(2, Digits="1203")
    silent = twilio.answer(3)

    assert attendant.events == [
        CallStarted(CALLER),
        Text("予約したいんですけど"),
        Keys("1203"),
        Silence(),
    ]
    for response, next_turn in ((spoken, 2), (keyed, 3), (silent, 4)):
        assert response.status_code == 200
        assert f'action="{PUBLIC}/twilio/voice/turn?n={next_turn}"' in response.text
        assert f">{PUBLIC}/twilio/voice/turn?n={next_turn}</Redirect>" in response.text
    assert [(row.external_id, row.kind) for row in inbox_rows(session)] == [
        (f"{CALL}:0", "call"),
        (f"{CALL}:1", "turn"),
        (f"{CALL}:2", "turn"),
        (f"{CALL}:3", "turn"),
    ]


def test_a_turn_that_queues_nothing_does_not_wake_the_sender(
    twilio: Twilio, attendant: Attendant
) -> None:
    twilio.call()
    response = twilio.answer(1, SpeechResult="予約")

    assert response.status_code == 200
    assert attendant.events == [CallStarted(CALLER), Text("予約")]
    assert twilio.kicks == []


def test_a_repeated_turn_is_answered_again_without_advancing_the_conversation(
    twilio: Twilio, attendant: Attendant, session: Session
) -> None:
    attendant.script = [
        (Say("ご用件をどうぞ。"), Expect()),
        (Say("ご希望の日にちをどうぞ。"), Expect(keys=4)),
        (Say("これは二度目の答えです。"), Hangup()),
    ]
    attendant.queues = True
    twilio.call()

    first = twilio.answer(1, SpeechResult="予約")
    again = twilio.answer(1, SpeechResult="予約")

    assert again.status_code == 200
    assert again.text == first.text
    assert "ご希望の日にちをどうぞ。" in again.text
    assert attendant.events == [CallStarted(CALLER), Text("予約")]
    assert len(inbox_rows(session)) == 2
    assert len(twilio.kicks) == 2  # nothing new was queued by the repeat


def test_a_repeated_call_start_is_answered_with_the_same_greeting(
    twilio: Twilio, attendant: Attendant
) -> None:
    first = twilio.call()
    again = twilio.call()

    assert again.text == first.text
    assert attendant.events == [CallStarted(CALLER)]


@pytest.mark.parametrize(
    ("status", "answered"),
    [
        ("completed", True),
        ("answered", True),
        ("no-answer", False),
        ("busy", False),
        ("failed", False),
        ("canceled", False),
    ],
)
def test_the_dial_outcome_goes_back_to_the_attendant(
    twilio: Twilio, attendant: Attendant, session: Session, status: str, answered: bool
) -> None:
    attendant.script = [(Say("スタッフにおつなぎします。"), Transfer())]
    twilio.call()

    response = twilio.dialed(1, status)

    assert response.status_code == 200
    assert attendant.events == [CallStarted(CALLER), Dialed(answered=answered)]
    assert f"{PUBLIC}/twilio/voice/turn?n=2" in response.text
    assert inbox_rows(session)[-1].external_id == f"{CALL}:1"
    assert inbox_rows(session)[-1].kind == "dialed"


def test_the_first_transfer_rings_the_staff_and_waits_for_the_dial_outcome(
    twilio: Twilio, attendant: Attendant
) -> None:
    attendant.script = [(Say("ご用件をどうぞ。"), Expect()), (Say("おつなぎします。"), Transfer())]
    twilio.call()

    response = twilio.answer(1, Digits="3")

    assert f'<Dial action="{PUBLIC}/twilio/voice/dialed?n=2"' in response.text
    assert f'callerId="{CLINIC_NUMBER}"' in response.text
    assert attendant.events == [CallStarted(CALLER), Keys("3")]


def test_a_transfer_without_staff_numbers_is_answered_as_if_nobody_picked_up(
    session: Session, clock: list, clinic: Clinic, attendant: Attendant
) -> None:
    twilio = Twilio(TestClient(make_app(session, clock, staff_numbers=[])))
    attendant.script = [
        (Say("お電話ありがとうございます。"), Expect()),
        (Say("スタッフにおつなぎします。"), Transfer()),
        (Say("ただいま電話に出られません。折り返しをご希望の方は1を押してください。"), Expect()),
    ]
    twilio.call()

    response = twilio.answer(1, Digits="3")

    assert attendant.events == [CallStarted(CALLER), Keys("3"), Dialed(answered=False)]
    assert response.text == (
        f"{HEAD}<Response>"
        f'<Gather action="{PUBLIC}/twilio/voice/turn?n=2" actionOnEmptyResult="true"'
        ' input="speech dtmf" language="ja-JP" method="POST" numDigits="1"'
        ' speechTimeout="auto" timeout="5">'
        f"{SAY}スタッフにおつなぎします。</Say>"
        f"{SAY}ただいま電話に出られません。折り返しをご希望の方は1を押してください。</Say>"
        "</Gather>"
        f'<Redirect method="POST">{PUBLIC}/twilio/voice/turn?n=2</Redirect>'
        "</Response>"
    )
    assert "<Dial" not in response.text


def test_a_second_transfer_without_staff_numbers_is_refused_politely(
    session: Session, clock: list, clinic: Clinic, attendant: Attendant
) -> None:
    twilio = Twilio(TestClient(make_app(session, clock, staff_numbers=[])))
    attendant.default = (Transfer(),)

    response = twilio.call()

    assert response.status_code == 200
    assert response.text == APOLOGY
    assert inbox_rows(session) == []


def test_a_failure_inside_the_attendant_is_rolled_back_and_answered_with_an_apology(
    twilio: Twilio,
    session: Session,
    clinic: Clinic,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(session: Session, *, call_sid: str, **context: Any) -> phone.Answered:
        session.add(
            CallLog(
                clinic_id=clinic.id,
                call_sid=call_sid,
                outcome=CallOutcome.IN_PROGRESS,
                started_at=NOW,
            )
        )
        session.flush()
        raise RuntimeError("the caller said 腰が痛い")

    monkeypatch.setattr(phone, "answer", broken)

    response = twilio.answer(1, SpeechResult="腰が痛い")

    assert response.status_code == 200
    assert response.text == APOLOGY
    assert session.scalar(select(func.count()).select_from(CallLog)) == 0
    assert inbox_rows(session) == []
    assert "RuntimeError" in caplog.text
    assert "腰が痛い" not in caplog.text
    assert twilio.kicks == []


def test_a_turn_without_a_clinic_is_answered_with_an_apology(
    session: Session, clock: list, attendant: Attendant
) -> None:
    twilio = Twilio(TestClient(make_app(session, clock)))

    response = twilio.call()

    assert response.status_code == 200
    assert response.text == APOLOGY
    assert attendant.events == []


@pytest.mark.parametrize(
    "query", ["", "?n=", "?n=0", "?n=abc", "?n=-1", "?n=99999", "?n=%EF%BC%91", "?n=1&n=2"]
)
def test_a_turn_without_a_usable_number_is_refused(
    twilio: Twilio, attendant: Attendant, session: Session, query: str
) -> None:
    response = twilio.post(f"/twilio/voice/turn{query}", {"CallSid": CALL, "Digits": "1"})

    assert response.status_code == 400
    assert attendant.events == []
    assert inbox_rows(session) == []


def test_a_step_without_a_call_sid_is_refused(
    twilio: Twilio, attendant: Attendant, session: Session
) -> None:
    response = twilio.post("/twilio/voice", {"From": CALLER, "To": CLINIC_NUMBER})

    assert response.status_code == 400
    assert inbox_rows(session) == []


def test_the_webhooks_are_hot_routes_and_a_get_still_answers_405(
    twilio: Twilio, attendant: Attendant
) -> None:
    app = twilio.client.app
    hot = app.hot  # type: ignore[attr-defined]
    paths = ["/twilio/voice", "/twilio/voice/turn", "/twilio/voice/dialed", "/twilio/status"]
    for path in [*paths, "/twilio/fallback"]:
        assert ("POST", path) in hot
        assert twilio.client.get(path).status_code == 405
    assert twilio.call().status_code == 200
    assert twilio.post("/twilio/voice", call_form(), signature="wrong").status_code == 403


def test_on_sqlite_the_turns_run_on_the_event_loop_and_on_postgresql_on_a_thread(
    twilio: Twilio, attendant: Attendant, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    where: list[bool] = []

    def answer(session: Session, **context: Any) -> phone.Answered:
        where.append(on_the_loop())
        return attendant.answer(session, **context)

    def call_ended(session: Session, **context: Any) -> None:
        where.append(on_the_loop())
        attendant.call_ended(session, **context)

    monkeypatch.setattr(phone, "answer", answer)
    monkeypatch.setattr(phone, "call_ended", call_ended)
    twilio.call()
    twilio.answer(1, Digits="1")
    assert twilio.ended("completed", "30").status_code == 204

    sqlite = session.get_bind().dialect.name == "sqlite"
    assert where == [sqlite, sqlite, sqlite]
    assert attendant.events == [CallStarted(CALLER), Keys("1")]
    assert len(attendant.ended) == 1
