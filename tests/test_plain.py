"""Plain statements read and write what SQLAlchemy would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, event, exc, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.models import CallLog, CallOutcome, InboundEvent, Patient
from backend.plain import Plain
from tests.factories import NOW, make_clinic, make_patient

LOG = cast(Table, CallLog.__table__)
EVENTS = cast(Table, InboundEvent.__table__)

_CALL = select(LOG.c.id, LOG.c.outcome, LOG.c.state_data, LOG.c.started_at, LOG.c.ended_at).where(
    LOG.c.call_sid == bindparam("sid")
)


def _open_call(session: Session, clinic_id: int, sid: str, **values: Any) -> int:
    row = {
        "clinic_id": clinic_id,
        "call_sid": sid,
        "outcome": CallOutcome.IN_PROGRESS,
        "started_at": NOW,
        **values,
    }
    call_id: int = session.connection().execute(insert(LOG).returning(LOG.c.id), row).scalar_one()
    return call_id


def test_rows_are_what_sqlalchemy_reads(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    state = {"step": "ask_name", "heard": ["山田", 1], "nested": {"ok": True}}
    _open_call(session, clinic.id, "CA-read", state_data=state, ended_at=NOW + timedelta(minutes=3))
    _open_call(session, clinic.id, "CA-empty")
    connection = session.connection()
    for sid in ("CA-read", "CA-empty"):
        expected = connection.execute(_CALL, {"sid": sid}).one()
        found = Plain(_CALL).first(connection, {"sid": sid})
        assert tuple(found) == tuple(expected)
        assert [type(value) for value in found] == [type(value) for value in expected]
        assert found.outcome is CallOutcome.IN_PROGRESS
        assert found.started_at == NOW
        assert found.started_at.utcoffset() == timedelta(0)
    assert Plain(_CALL).first(connection, {"sid": "CA-read"}).state_data == state
    assert Plain(_CALL).first(connection, {"sid": "CA-none"}) is None


def test_values_the_statement_carries_are_converted(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    make_patient(session, clinic, phone="+819011112222", sms_opted_out=True)
    make_patient(session, clinic, phone="+819011113333")
    opted_out = select(Patient.phone).where(
        Patient.clinic_id == bindparam("clinic_id"),
        Patient.sms_opted_out.is_(True),
        Patient.created_at <= NOW + timedelta(days=1),  # a datetime carried by the statement
    )
    rows = Plain(opted_out).all(session.connection(), {"clinic_id": clinic.id})
    assert [row.phone for row in rows] == ["+819011112222"]


def test_an_insert_returns_its_id_once_and_an_update_counts_its_rows(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    connection = session.connection()
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[connection.dialect.name]
    add = Plain(
        dialect.insert(EVENTS)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(EVENTS.c.id)
    )
    values = {
        "clinic_id": clinic.id,
        "source": "twilio",
        "external_id": "CA-1:0",
        "kind": "call",
        "payload": {"form": {"From": "+819011112222"}},
        "received_at": NOW,
        "attempts": 0,
    }
    event_id = add.scalar(connection, values)
    assert isinstance(event_id, int)
    assert add.scalar(connection, values) is None  # seen before
    keep = Plain(
        update(EVENTS)
        .where(EVENTS.c.id == bindparam("event_id"))
        .values(processed_at=bindparam("handled_at"), attempts=1)
    )
    assert keep.rowcount(connection, {"event_id": event_id, "handled_at": NOW}) == 1
    assert keep.rowcount(connection, {"event_id": event_id + 1000, "handled_at": NOW}) == 0
    stored = connection.execute(
        select(EVENTS.c.payload, EVENTS.c.processed_at, EVENTS.c.attempts).where(
            EVENTS.c.id == event_id
        )
    ).one()
    assert tuple(stored) == ({"form": {"From": "+819011112222"}}, NOW, 1)


def test_a_driver_error_is_sqlalchemys_and_the_transaction_goes_on(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    _open_call(session, clinic.id, "CA-twice")
    again = Plain(insert(LOG))
    values = {
        "clinic_id": clinic.id,
        "call_sid": "CA-twice",
        "outcome": CallOutcome.IN_PROGRESS,
        "started_at": NOW,
    }
    with pytest.raises(exc.IntegrityError), session.begin_nested():
        again.execute(session.connection(), values)
    assert Plain(_CALL).first(session.connection(), {"sid": "CA-twice"}) is not None


def test_a_rolled_back_savepoint_takes_plain_writes_with_it(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    call_id = _open_call(session, clinic.id, "CA-undo")
    change = Plain(update(LOG).where(LOG.c.id == bindparam("call_id")).values(last_step="x"))
    savepoint = session.begin_nested()
    assert change.rowcount(session.connection(), {"call_id": call_id}) == 1
    savepoint.rollback()
    step = session.connection().execute(select(LOG.c.last_step).where(LOG.c.id == call_id))
    assert step.scalar() is None


def test_a_list_to_expand_is_refused() -> None:
    statement = select(LOG.c.id).where(LOG.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="expand"):
        Plain(statement)._form(sqlite.dialect(), {"ids": [1]})


def test_statement_listeners_are_told(session: Session) -> None:
    connection = session.connection()
    seen: list[str] = []

    def note(_conn: object, cursor: object, statement: str, *_: object) -> None:
        seen.append(statement.split(maxsplit=1)[0])

    event.listen(connection, "before_cursor_execute", note)
    try:
        Plain(_CALL).first(connection, {"sid": "CA-none"})
    finally:
        event.remove(connection, "before_cursor_execute", note)
    assert seen == ["SELECT"]


def test_columns_not_given_take_their_defaults_as_with_sqlalchemy(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    patients = cast(Table, Patient.__table__)
    values = {"clinic_id": clinic.id, "name": "既定 太郎", "created_at": NOW, "updated_at": NOW}
    connection = session.connection()
    add = insert(patients).returning(patients.c.id)
    by_core = connection.execute(add, values).scalar_one()
    by_plain = Plain(add).scalar(connection, values)
    read = select(patients).where(patients.c.id == bindparam("id"))
    core_row = connection.execute(read, {"id": by_core}).one()._asdict()
    plain_row = connection.execute(read, {"id": by_plain}).one()._asdict()
    assert {**plain_row, "id": by_core} == core_row
    assert plain_row["name_verified"] is not None


def test_a_fixed_list_is_written_into_the_sql_and_the_callers_values_stay_parameters(
    session: Session,
) -> None:
    clinic = make_clinic(session, hours=False)
    connection = session.connection()
    first = _open_call(session, clinic.id, "CA-in-1")
    _open_call(session, clinic.id, "CA-in-2", outcome=CallOutcome.ABANDONED)
    kept = Plain(
        select(LOG.c.call_sid)
        .where(
            LOG.c.clinic_id == bindparam("clinic_id"),
            LOG.c.outcome.in_([CallOutcome.IN_PROGRESS, CallOutcome.REQUEST_MADE]),
        )
        .order_by(LOG.c.id.desc())
        .limit(1)
    )
    assert kept.scalar(connection, {"clinic_id": clinic.id}) == "CA-in-1"
    assert kept.scalar(connection, {"clinic_id": clinic.id + 1}) is None
    assert first > 0
