"""A savepoint written to the driver undoes what its block wrote, as begin_nested would, on
SQLite and PostgreSQL, and keeps the session's objects true to the database."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, exc, insert, select, update
from sqlalchemy.orm import Session

from backend.models import CallLog, CallOutcome, Patient
from backend.plain import Plain
from backend.savepoint import savepoint
from tests.factories import NOW, make_clinic, make_patient

LOG = cast(Table, CallLog.__table__)
_INSERT = Plain(insert(LOG))
_STEP = Plain(select(LOG.c.last_step).where(LOG.c.call_sid == bindparam("sid")))
_SET_STEP = Plain(
    update(LOG).where(LOG.c.call_sid == bindparam("sid")).values(last_step=bindparam("step"))
)


class Refused(Exception):
    pass


def _call(session: Session, clinic_id: int, sid: str) -> None:
    values: dict[str, Any] = {
        "clinic_id": clinic_id,
        "call_sid": sid,
        "outcome": CallOutcome.IN_PROGRESS,
        "started_at": NOW,
    }
    _INSERT.execute(session.connection(), values)


def _step(session: Session, sid: str) -> Any:
    return _STEP.scalar(session.connection(), {"sid": sid})


def test_what_the_block_writes_stays_when_it_ends_well(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    with savepoint(session):
        _call(session, clinic.id, "CA-kept")
        patient = make_patient(session, clinic, name="保存 太郎")
        patient.kana = "ホゾン タロウ"  # changed after its flush: written before the release
    session.expire_all()
    assert _step(session, "CA-kept") is None
    assert session.get(Patient, patient.id) is patient
    assert patient.kana == "ホゾン タロウ"


def test_when_the_block_raises_its_writes_are_undone_and_earlier_ones_stay(
    session: Session,
) -> None:
    clinic = make_clinic(session, hours=False)
    _call(session, clinic.id, "CA-before")
    kept = make_patient(session, clinic, name="前から 花子")
    made: list[Patient] = []

    def refused() -> None:
        with savepoint(session):
            _SET_STEP.execute(session.connection(), {"sid": "CA-before", "step": "changed"})
            _call(session, clinic.id, "CA-inside")
            kept.name = "変更 花子"
            session.flush()
            made.append(make_patient(session, clinic, name="新規 一郎"))
            made.append(Patient(clinic_id=clinic.id, name="未保存 次郎", created_at=NOW))
            session.add(made[-1])
            raise Refused

    with pytest.raises(Refused):
        refused()
    added, pending = made
    assert _step(session, "CA-before") is None
    connection = session.connection()
    assert connection.execute(select(LOG.c.id).where(LOG.c.call_sid == "CA-inside")).first() is None
    assert added not in session  # added in the block: gone from the session
    assert pending not in session
    assert session.get(Patient, added.id) is None
    assert kept.name == "前から 花子"  # expired, and read again as the database has it
    names = session.scalars(select(Patient.name).where(Patient.clinic_id == clinic.id)).all()
    assert names == ["前から 花子"]


def _refused_after(session: Session, sid: str, step: str) -> None:
    with savepoint(session):
        _SET_STEP.execute(session.connection(), {"sid": sid, "step": step})
        raise Refused


def test_an_inner_savepoint_that_fails_leaves_the_outer_ones_writes(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    with savepoint(session):
        _call(session, clinic.id, "CA-outer")
        with pytest.raises(Refused):
            _refused_after(session, "CA-outer", "inner")
        _SET_STEP.execute(session.connection(), {"sid": "CA-outer", "step": "outer"})
    assert _step(session, "CA-outer") == "outer"


def test_a_statement_that_fails_inside_is_contained_and_the_transaction_goes_on(
    session: Session,
) -> None:
    # On PostgreSQL a failed statement aborts the transaction until it goes back to a
    # savepoint: this one must be it.
    clinic = make_clinic(session, hours=False)
    _call(session, clinic.id, "CA-twice")

    def twice() -> None:
        with savepoint(session):
            _SET_STEP.execute(session.connection(), {"sid": "CA-twice", "step": "lost"})
            _call(session, clinic.id, "CA-twice")

    with pytest.raises(exc.IntegrityError):
        twice()
    assert _step(session, "CA-twice") is None
    _SET_STEP.execute(session.connection(), {"sid": "CA-twice", "step": "after"})
    assert _step(session, "CA-twice") == "after"
    with savepoint(session):  # and savepoints still work
        _SET_STEP.execute(session.connection(), {"sid": "CA-twice", "step": "again"})
    assert _step(session, "CA-twice") == "again"


def test_a_failed_flush_inside_raises_its_own_error(session: Session) -> None:
    clinic = make_clinic(session, hours=False)

    def nameless() -> None:
        with savepoint(session):
            session.add(Patient(clinic_id=clinic.id, name=None, created_at=NOW))  # NOT NULL
            session.flush()

    with pytest.raises(exc.IntegrityError):
        nameless()


def test_it_undoes_what_a_nested_sqlalchemy_savepoint_would(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    kept = make_patient(session, clinic, name="比較 花子")
    born = kept.birth_on
    assert born is not None
    undoers = {"sqlalchemy": session.begin_nested, "driver": lambda: savepoint(session)}
    found = {}

    def changed_then_refused(undo: Callable[[], AbstractContextManager[object]]) -> None:
        with undo():
            kept.birth_on = born + timedelta(days=1)
            session.flush()
            raise Refused

    for name, undo in undoers.items():
        with pytest.raises(Refused):
            changed_then_refused(undo)
        found[name] = (kept.birth_on, kept in session)
    assert found == {"sqlalchemy": (born, True), "driver": (born, True)}
