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

from backend.conversation.model import CallStarted, Event, Expect, Keys, Say, Text
from backend.db import Database
from backend.dialogue import phone
from backend.models import InboundEvent
from telephony import turns
from tests.dialogue.patient_chat import open_clinic
from tests.factories import NOW, jst, make_clinic
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


def test_turns_at_once_never_hold_a_connection_while_waiting_to_write(
    committed: Database,
) -> None:
    # Two connections for twelve threads: on SQLite a turn that only talks must queue for
    # the writers' lock before it takes a connection, or the talking turns can hold every
    # connection while the turn that has the lock waits for one (it did, in bench/voice.py).
    small = Database(committed.url, pool_size=2, max_overflow=0, pool_timeout=10)
    with small.transaction() as session:
        open_clinic(session)
    left = turns.Left()
    now = jst(2026, 11, 30, 10)  # a Monday, open

    def step(sid: str, turn: int, event: Event) -> turns.Step:
        kind = "call" if turn == 0 else "turn"
        form = call_form(sid, Digits="1") if turn else call_form(sid)
        return turns.Step(sid, turn, kind, CALLER, CLINIC_NUMBER, event, form)

    def answer(request: turns.Step) -> turns.Answer:
        return turns.answer(small, request, settings=settings(), now=now, left=left)

    greeted = [f"CA{n:032x}" for n in range(8)]
    for sid in greeted:
        answer(step(sid, 0, CallStarted(CALLER)))
    talking = [step(sid, 1, Keys("1")) for sid in greeted]
    calling = [step(f"CA{n:032x}", 0, CallStarted(CALLER)) for n in range(8, 12)]
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(answer, [*talking, *calling], timeout=60))
    finally:
        small.dispose()

    assert all(answer.new for answer in answers)
    assert all("<Gather" in answer.twiml for answer in answers)
    assert all(left.get(sid, 1) is not None for sid in greeted)  # answered from memory
