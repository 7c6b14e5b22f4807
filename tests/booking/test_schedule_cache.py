"""What a schedule is made of besides bookings (hours, closed days, shifts, days off, beds)
is kept per clinic config token: a booking costs one query to see, and every change to
those rows gives the clinic a new token, so nothing kept is ever stale."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, time
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.booking import schedule
from backend.models import Bed, Clinic, ClosedDay, OpeningHours, Staff, StaffDayOff, StaffShift
from tests.factories import (
    jst,
    make_bed,
    make_booking,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)

DAY = date(2026, 12, 1)  # a Tuesday


@pytest.fixture
def clinic(session: Session) -> Clinic:
    clinic = make_clinic(session)
    make_staff(session, clinic)
    make_bed(session, clinic)
    return clinic


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL the session's connection runs from now on."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    yield seen
    event.remove(connection, "before_cursor_execute", count)


def load(session: Session, clinic: Clinic) -> schedule.Schedule:
    session.refresh(clinic)  # the tokens as the database has them now
    return schedule.load(session, clinic=clinic, first_day=DAY, last_day=DAY)


def test_a_booking_elsewhere_costs_one_query_to_see(
    session: Session, clinic: Clinic, statements: list[str]
) -> None:
    course = make_course(session, clinic)
    first = load(session, clinic)
    make_booking(
        session,
        patient=make_patient(session, clinic),
        course=course,
        starts_at=jst(2026, 12, 1, 10),
    )
    statements.clear()

    second = load(session, clinic)

    refreshed, *loads = statements
    assert "FROM clinic" in refreshed
    assert len(loads) == 1
    assert "FROM booking" in loads[0]
    assert (second.open_mask, second.shift) == (first.open_mask, first.shift)
    assert (len(first.pending), len(second.pending)) == (0, 1)  # the request holds its slot


def _close_the_day(session: Session, clinic: Clinic) -> None:
    session.add(ClosedDay(clinic_id=clinic.id, closed_on=DAY))


def _change_the_hours(session: Session, clinic: Clinic) -> None:
    morning = session.query(OpeningHours).filter_by(
        clinic_id=clinic.id, weekday=1, opens_at=time(9)
    )
    morning.one().closes_at = time(10)


def _staff_day_off(session: Session, clinic: Clinic) -> None:
    staff = session.query(Staff).filter_by(clinic_id=clinic.id).one()
    session.add(StaffDayOff(staff=staff, off_on=DAY))


def _shorter_shift(session: Session, clinic: Clinic) -> None:
    staff = session.query(Staff).filter_by(clinic_id=clinic.id).one()
    shift = session.query(StaffShift).filter_by(staff_id=staff.id, weekday=1).one()
    shift.ends_at = time(12)


def _bed_out_of_use(session: Session, clinic: Clinic) -> None:
    session.query(Bed).filter_by(clinic_id=clinic.id).one().active = False


@pytest.mark.parametrize(
    "change",
    [_close_the_day, _change_the_hours, _staff_day_off, _shorter_shift, _bed_out_of_use],
)
def test_a_change_to_what_the_schedule_is_made_of_is_seen_at_once(
    session: Session, clinic: Clinic, change: Callable[[Session, Clinic], None]
) -> None:
    before = load(session, clinic)
    token = clinic.config_token

    change(session, clinic)
    session.flush()
    after = load(session, clinic)

    assert clinic.config_token != token
    assert (after.open_mask, after.shift, after.bed_capacity) != (
        before.open_mask,
        before.shift,
        before.bed_capacity,
    )
