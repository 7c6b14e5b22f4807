"""The same step delivered several times at once, on a real database: the attendant hears
it once, and every delivery gets the same TwiML."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.conversation.model import Event, Expect, Say, Text
from backend.db import Database
from backend.dialogue import phone
from backend.models import InboundEvent
from telephony import turns
from tests.factories import NOW, make_clinic
from tests.telephony.conftest import CALL, CALLER, CLINIC_NUMBER, call_form, settings


def test_concurrent_deliveries_of_one_turn_advance_the_conversation_once(
    committed: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with committed.transaction() as session:
        make_clinic(session)
    heard: list[Event] = []

    def slow(session: Session, *, event: Event, **context: Any) -> phone.Answered:
        heard.append(event)
        time.sleep(0.05)  # the other deliveries arrive while this one is being handled
        return phone.Answered((Say(f"{len(heard)}回目の答えです。"), Expect()), None)

    monkeypatch.setattr(phone, "answer", slow)
    step = turns.Step(
        call_sid=CALL,
        turn=1,
        kind="turn",
        caller=CALLER,
        called=CLINIC_NUMBER,
        event=Text("予約"),
        form=call_form(SpeechResult="予約"),
    )
    barrier = threading.Barrier(5)

    def deliver() -> turns.Answer:
        barrier.wait()
        return turns.answer(committed, step, settings=settings(), now=NOW)

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: deliver(), range(5)))

    assert heard == [Text("予約")]
    assert {answer.twiml for answer in answers} == {answers[0].twiml}
    assert "1回目の答えです。" in answers[0].twiml
    assert sum(answer.new for answer in answers) == 1
    with committed.reader() as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 1
