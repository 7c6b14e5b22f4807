"""A request checked as its transaction commits (`booking.check_late`, PostgreSQL): the
schedule is not locked for the rest of the transaction, and a place taken meanwhile fails
the commit; a phone turn then runs again and hears that the time was just taken."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from backend import booking, notify
from backend.conversation.model import CallStarted, Event, Keys, Text
from backend.db import Database
from backend.errors import DomainError
from backend.models import Booking, CallLog, CallOutcome, Clinic, InboundEvent, Patient, Source
from telephony import turns
from tests.booking.test_concurrency import TEN, setup_clinic
from tests.factories import NOW
from tests.telephony.conftest import CALLER, CLINIC_NUMBER, call_form, settings

pytestmark = pytest.mark.committed


def postgresql_only(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: check_late changes nothing there")


@contextmanager
def late_transaction(database: Database) -> Iterator[Session]:
    with database.transaction() as session:
        booking.check_late(session)
        yield session


def request(session: Session, ids: dict, patient: int) -> int:
    made = booking.request_plain(
        session,
        clinic_id=ids["clinic"],
        patient_id=ids["patients"][patient],
        course_id=ids["course"],
        starts_at=TEN,
        now=NOW,
        source=Source.PHONE,
        actor="patient:phone",
    )
    return made.id


def bookings_at_ten(database: Database) -> list[int]:
    with database.reader() as session:
        return list(session.scalars(select(Booking.patient_id).where(Booking.starts_at == TEN)))


def test_a_late_request_whose_place_is_still_free_commits(committed: Database) -> None:
    ids = setup_clinic(committed, patients=1)
    with late_transaction(committed) as session:
        request(session, ids, 0)
    assert bookings_at_ten(committed) == [ids["patients"][0]]


def test_of_two_late_requests_for_the_last_place_the_second_to_commit_fails(
    committed: Database,
) -> None:
    postgresql_only(committed)
    ids = setup_clinic(committed, patients=2)  # one staff member, one bed
    with ExitStack() as second:
        other = second.enter_context(late_transaction(committed))
        request(other, ids, 1)  # does not wait: nothing is locked yet
        with late_transaction(committed) as first:
            request(first, ids, 0)
        assert bookings_at_ten(committed) == [ids["patients"][0]]
        with pytest.raises(booking.ScheduleMoved):
            second.close()  # the commit checks the place: taken
    assert bookings_at_ten(committed) == [ids["patients"][0]]
    with committed.reader() as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1


def test_a_late_request_leaves_the_schedule_unlocked_until_the_commit(
    committed: Database,
) -> None:
    postgresql_only(committed)
    ids = setup_clinic(committed, patients=1)
    with late_transaction(committed) as session:
        request(session, ids, 0)
        # Another writer takes the schedule lock at once (it would wait on a locked row).
        with committed.transaction() as other:
            other.execute(text("SET LOCAL lock_timeout = '2s'"))
            booking.lock_schedule(other, ids["clinic"])
    assert bookings_at_ten(committed) == [ids["patients"][0]]


def test_a_change_to_the_clinics_set_up_meanwhile_fails_a_late_request(
    committed: Database,
) -> None:
    postgresql_only(committed)
    ids = setup_clinic(committed, patients=1)
    with ExitStack() as late:
        session = late.enter_context(late_transaction(committed))
        request(session, ids, 0)
        with committed.transaction() as other:
            clinic = other.get(Clinic, ids["clinic"])
            assert clinic is not None
            clinic.config_token = "changed meanwhile"
        with pytest.raises(booking.ScheduleMoved):
            late.close()
    assert bookings_at_ten(committed) == []


def step(turn: int, event: Event, **form: str) -> turns.Step:
    kind = "call" if turn == 0 else "turn"
    return turns.Step("CA" + "7" * 32, turn, kind, CALLER, CLINIC_NUMBER, event, call_form(**form))


def test_a_phone_request_whose_place_is_taken_meanwhile_hears_that_it_was(
    committed: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """On PostgreSQL the turn checks late, a booking at the same place commits while the
    turn goes on, the commit fails, and the turn runs again with the lock: the caller hears
    that the time was just taken. On SQLite the competitor waits for the turn instead, and
    the caller's request is made."""
    # Two patients with the caller's number: a family phone, so the caller is asked for a
    # name and becomes a new カルテ. 患者1 competes for the place.
    ids = setup_clinic(committed, patients=2)
    made_by_phone: list[object] = []
    request_made = notify.request_made

    def competitor_books_first(session: Session, **card: Any) -> None:
        made_by_phone.append(card["made"].id)
        if len(made_by_phone) == 1:
            thread = threading.Thread(target=rival)
            thread.start()
            # On SQLite the rival waits for this turn's transaction: do not wait for it.
            thread.join(timeout=2 if committed.engine.dialect.name == "postgresql" else 0)
            rivals.append(thread)
        request_made(session, **card)

    def rival() -> None:
        try:
            with committed.transaction() as session:
                request(session, ids, 1)
        except DomainError:
            refused.append("rival")  # SQLite: it waited for the turn, and found it taken

    refused: list[str] = []

    rivals: list[threading.Thread] = []
    monkeypatch.setattr(notify, "request_made", competitor_books_first)
    caplog.set_level(logging.INFO, logger="telephony.turns")
    answers = [
        turns.answer(committed, call, settings=settings(), now=NOW)
        for call in (
            step(0, CallStarted(CALLER)),
            step(1, Keys("1"), Digits="1"),  # a booking
            step(2, Text("12月1日の10時"), SpeechResult="12月1日の10時"),
            step(3, Keys("1"), Digits="1"),  # that time
            step(4, Text("田中 一郎"), SpeechResult="田中 一郎"),  # the request
        )
    ]
    for thread in rivals:
        thread.join(timeout=30)

    with committed.reader() as session:
        at_ten = (
            session.execute(
                select(Patient.name)
                .join(Booking, Booking.patient_id == Patient.id)
                .where(Booking.starts_at == TEN)
            )
            .scalars()
            .all()
        )
        outcome = session.scalar(select(CallLog.outcome))
        steps = session.scalar(select(func.count()).select_from(InboundEvent))
    assert steps == 5  # the turn that ran again was recorded once
    assert "ご予約いただけます" in answers[2].twiml
    if committed.engine.dialect.name == "postgresql":
        assert at_ten == ["患者1"]  # the rival's
        assert "ちょうど埋まってしまいました" in answers[4].twiml
        assert outcome != CallOutcome.REQUEST_MADE
        assert len(made_by_phone) == 1  # the second run found the place taken
        assert refused == []
        assert "runs again: a booking's place was taken meanwhile" in caplog.text
    else:
        assert at_ten == ["田中 一郎"]
        assert "ご予約のリクエストを承りました" in answers[4].twiml
        assert outcome == CallOutcome.REQUEST_MADE
        assert refused == ["rival"]
