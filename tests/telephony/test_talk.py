"""Turns that only talk, answered from what the call's last turn left in this process
(telephony.turns.Left): two statements, the same answer as through the database, and
nothing stale when another process answered in between or the call ended."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from backend.conversation import phone_common as states
from backend.conversation.model import CallStarted, Keys, Text
from backend.dialogue import phone
from backend.models import CallLog, Clinic
from tests.dialogue.patient_chat import open_clinic
from tests.factories import jst
from tests.telephony.conftest import CALL, CALLER, Twilio, inbox_rows, make_app

OTHER_CALL = "CA" + "b" * 32


@pytest.fixture
def clinic(session: Session, clock: list) -> Clinic:
    """A clinic taking bookings, called while it is open."""
    clock[0] = jst(2026, 11, 30, 10)  # a Monday, 10:00
    return open_clinic(session, line_add_url="https://lin.ee/test").clinic


def call_row(session: Session, sid: str = CALL) -> CallLog:
    query = select(CallLog).where(CallLog.call_sid == sid)
    return session.scalars(query.execution_options(populate_existing=True)).one()


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements run on the test's connection meanwhile (savepoints left out)."""
    seen: list[str] = []
    engine = session.get_bind()

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "SAVEPOINT" not in statement:
            seen.append(" ".join(statement.split()[:3]))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def other_process(session: Session, clock: list) -> Twilio:
    """A second app on the same database: another web process, with nothing remembered."""
    return Twilio(TestClient(make_app(session, clock)))


def test_a_turn_that_only_talks_reads_nothing(
    twilio: Twilio, session: Session, clinic: Clinic
) -> None:
    twilio.call()
    with statements(session) as seen:
        response = twilio.answer(1, Digits="1")  # 予約: the attendant asks when
    assert response.status_code == 200
    assert seen == ["UPDATE call_log SET", "INSERT INTO inbound_event"]
    row = call_row(session)
    assert row.last_step == states.BOOK_WHEN
    assert row.state_data is not None
    [_, step] = inbox_rows(session)
    assert (step.external_id, step.processed_at is not None) == (f"{CALL}:1", True)
    assert step.payload["twiml"] == response.text


def test_talking_answers_as_the_database_would(
    twilio: Twilio, session: Session, clock: list, clinic: Clinic
) -> None:
    elsewhere = other_process(session, clock)
    twilio.call()
    twilio.call(OTHER_CALL)
    remembered = twilio.answer(1, Digits="1")
    through_the_database = elsewhere.answer(1, sid=OTHER_CALL, Digits="1")
    assert remembered.text == through_the_database.text
    assert call_row(session).state_data == call_row(session, OTHER_CALL).state_data
    unclear = twilio.answer(2, SpeechResult="あのー")
    unclear_elsewhere = elsewhere.answer(2, sid=OTHER_CALL, SpeechResult="あのー")
    assert unclear.text == unclear_elsewhere.text


def test_a_turn_another_process_answered_is_not_forgotten(
    twilio: Twilio, session: Session, clock: list, clinic: Clinic
) -> None:
    elsewhere = other_process(session, clock)
    twilio.call()  # this process remembers the greeting
    elsewhere.answer(1, Digits="1")  # the other one took the caller into booking
    # This process remembers turn 0, not turn 1: turn 2 goes through the database, and
    # is answered in the booking flow, not the menu.
    with statements(session) as seen:
        asked_again = twilio.answer(2, SpeechResult="あのー")
    assert "SELECT" in " ".join(seen)
    menu_call = other_process(session, clock)
    menu_call.call(OTHER_CALL)
    menu_again = menu_call.answer(1, sid=OTHER_CALL, SpeechResult="あのー")
    assert asked_again.text != menu_again.text
    assert call_row(session).last_step == states.BOOK_WHEN


def test_a_talk_turn_after_the_call_ended_hangs_up(
    twilio: Twilio, session: Session, clock: list, clinic: Clinic
) -> None:
    twilio.call()
    other_process(session, clock).ended("completed", "12")  # its status callback came first
    response = twilio.answer(1, Digits="1")
    assert "<Hangup />" in response.text
    assert "<Gather" not in response.text
    row = call_row(session)
    assert row.last_step == states.GREETING  # how far the caller got, as the end saw it
    assert row.state_data is None


def test_a_talk_step_sent_again_is_answered_the_same_once(
    twilio: Twilio, session: Session, clinic: Clinic
) -> None:
    twilio.call()
    first = twilio.answer(1, Digits="1")
    again = twilio.answer(1, Digits="1")
    assert again.text == first.text
    assert [row.external_id for row in inbox_rows(session)] == [f"{CALL}:0", f"{CALL}:1"]
    assert call_row(session).last_step == states.BOOK_WHEN


def test_the_app_remembers_only_its_own_calls(app: FastAPI, clock: list, session: Session) -> None:
    first = Twilio(TestClient(app))
    first.call()
    assert app.state.phone_turns_left.get(CALL, 0) is not None
    other = make_app(session, clock)
    assert getattr(other.state, "phone_turns_left", None) is None
    first.ended("completed", "5")
    assert app.state.phone_turns_left.get(CALL, 0) is None


def test_talk_leaves_effects_to_the_database(session: Session, clinic: Clinic, clock: list) -> None:
    greeted = phone.answer(
        session,
        clinic_id=clinic.id,
        call_sid=CALL,
        caller=CALLER,
        event=CallStarted(CALLER),
        now=clock[0],
    )
    assert greeted.after is not None
    booking = phone.talk(greeted.after, call_sid=CALL, event=Keys("1"), now=clock[0])
    assert booking is not None
    assert booking.after is not None
    assert booking.after.state.name == states.BOOK_WHEN
    # A day said aloud needs the free slots: an effect, which talk leaves to `answer`.
    said = Text("明日の10時")
    assert phone.talk(booking.after, call_sid=CALL, event=said, now=clock[0]) is None
