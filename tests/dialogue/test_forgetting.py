"""Conversations left for a day are forgotten, and the person starts afresh."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.dialogue import forgetting
from backend.models import CallLog, CallOutcome, ConversationState
from reminders import steps
from tests.conftest import SessionStore
from tests.factories import NOW, make_clinic


def state(session: Session, clinic_id: int, subject: str, *, idle_for: timedelta) -> None:
    session.add(
        ConversationState(
            clinic_id=clinic_id,
            channel="line",
            subject=subject,
            state="register_phone",
            data={"name": "山田 花子", "kana": "ヤマダ ハナコ"},
            version=3,
            updated_at=NOW - idle_for,
        )
    )
    session.flush()


def subjects(session: Session) -> list[str]:
    return list(session.scalars(select(ConversationState.subject).order_by("subject")))


def test_a_registration_left_for_a_day_is_forgotten_and_a_recent_one_kept(
    session: Session,
) -> None:
    clinic = make_clinic(session)
    state(session, clinic.id, "Uleft", idle_for=timedelta(days=1, minutes=1))
    state(session, clinic.id, "Ubusy", idle_for=timedelta(hours=23))

    assert forgetting.forget_idle(session, now=NOW) == 1
    assert subjects(session) == ["Ubusy"]


def test_the_worker_forgets_hourly(session: Session) -> None:
    clinic = make_clinic(session)
    state(session, clinic.id, "Uleft", idle_for=timedelta(days=2))
    plan = steps.plan()
    [forget] = [
        step
        for step in plan
        if isinstance(step, steps.Every) and step.step is steps.idle_conversations
    ]

    forget(SessionStore(session), NOW)

    assert subjects(session) == []
    assert forget.interval == timedelta(hours=1)


def test_a_call_whose_end_never_came_has_its_conversation_cleared_after_a_day(
    session: Session,
) -> None:
    clinic = make_clinic(session)
    for sid, began in (("CAold", NOW - timedelta(days=1, minutes=1)), ("CAnow", NOW)):
        session.add(
            CallLog(
                clinic_id=clinic.id,
                call_sid=sid,
                outcome=CallOutcome.IN_PROGRESS,
                last_step="book_name",
                state_data={"name": "ヤマダ"},
                started_at=began,
            )
        )
    session.flush()

    assert forgetting.forget_idle(session, now=NOW) == 1

    rows = session.execute(
        select(CallLog.call_sid, CallLog.last_step, CallLog.state_data)
        .order_by(CallLog.call_sid)
        .execution_options(populate_existing=True)
    ).all()
    # How far the caller got stays: it is the call log's, not the conversation's.
    assert [tuple(row) for row in rows] == [
        ("CAnow", "book_name", {"name": "ヤマダ"}),
        ("CAold", "book_name", None),
    ]


def test_a_call_whose_conversation_was_cleared_is_not_cleared_again(session: Session) -> None:
    clinic = make_clinic(session)
    session.add(
        CallLog(
            clinic_id=clinic.id,
            call_sid="CAended",
            outcome=CallOutcome.REQUEST_MADE,
            last_step="goodbye",
            state_data=None,  # cleared when the call ended: SQL NULL, not JSON null
            started_at=NOW - timedelta(days=2),
        )
    )
    session.flush()

    assert forgetting.forget_idle(session, now=NOW) == 0
