"""`schedule.is_open`: open or closed at a moment, as the full schedule's open mask says,
without loading staff, beds and bookings."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.booking import schedule
from backend.models import Clinic, ClosedDay, OpeningHours
from tests.factories import make_clinic

JST = ZoneInfo("Asia/Tokyo")
# Sunday 22 November 2026 to the next Sunday: Monday the 23rd is 勤労感謝の日.
FIRST, LAST = date(2026, 11, 22), date(2026, 11, 28)
CLOSED_ON = date(2026, 11, 25)


@pytest.fixture
def clinic(session: Session) -> Clinic:
    clinic = make_clinic(session)  # Mon–Fri 9–12 and 15–20, Sat 9–14, holidays closed
    session.add(ClosedDay(clinic_id=clinic.id, closed_on=CLOSED_ON))
    session.flush()
    return clinic


def test_it_agrees_with_the_schedules_open_mask_all_week(session: Session, clinic: Clinic) -> None:
    plan = schedule.load(session, clinic=clinic, first_day=FIRST, last_day=LAST)
    moment = datetime.combine(FIRST, datetime.min.time(), tzinfo=JST)
    open_at = []
    while moment.date() <= LAST:
        expected = bool(plan.open_mask >> plan.minute(moment) & 1)
        assert schedule.is_open(session, clinic=clinic, now=moment) == expected, moment
        open_at.append(expected)
        moment += timedelta(minutes=15)
    # Tue, Thu, Fri: 3 h + 5 h; Sat: 5 h; the holiday, the closed day and Sunday: none.
    assert sum(open_at) == (3 * 8 + 5) * 4


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 24, 8, 59, 59, tzinfo=JST), False),
        (datetime(2026, 11, 24, 9, 0, tzinfo=JST), True),
        (datetime(2026, 11, 24, 11, 59, 59, tzinfo=JST), True),
        (datetime(2026, 11, 24, 12, 0, tzinfo=JST), False),
        (datetime(2026, 11, 24, 19, 59, tzinfo=JST), True),
        (datetime(2026, 11, 24, 20, 0, tzinfo=JST), False),
        (datetime(2026, 11, 23, 10, 0, tzinfo=JST), False),  # 勤労感謝の日
        (datetime(2026, 11, 25, 10, 0, tzinfo=JST), False),  # the clinic's closed day
        (datetime(2026, 11, 28, 13, 59, tzinfo=JST), True),
        (datetime(2026, 11, 29, 10, 0, tzinfo=JST), False),  # Sunday
    ],
)
def test_the_edges_of_the_day(
    session: Session, clinic: Clinic, local: datetime, expected: bool
) -> None:
    assert schedule.is_open(session, clinic=clinic, now=local) is expected


def test_a_clinic_open_on_holidays_is_open_on_one(session: Session, clinic: Clinic) -> None:
    clinic.holidays_closed = False
    session.flush()

    holiday = datetime(2026, 11, 23, 10, 0, tzinfo=JST)

    assert schedule.is_open(session, clinic=clinic, now=holiday)


def test_a_change_of_hours_or_closed_days_is_seen_at_once(session: Session, clinic: Clinic) -> None:
    tuesday_ten = datetime(2026, 11, 24, 10, 0, tzinfo=JST)
    assert schedule.is_open(session, clinic=clinic, now=tuesday_ten)  # and kept for the day
    session.add(ClosedDay(clinic_id=clinic.id, closed_on=tuesday_ten.date()))
    session.flush()  # a new config token: the kept hours of the day no longer count
    session.refresh(clinic)
    assert not schedule.is_open(session, clinic=clinic, now=tuesday_ten)
    thursday = datetime(2026, 11, 26, 10, 0, tzinfo=JST)
    assert schedule.is_open(session, clinic=clinic, now=thursday)
    for hours in session.scalars(
        select(OpeningHours).where(
            OpeningHours.clinic_id == clinic.id, OpeningHours.weekday == thursday.weekday()
        )
    ):
        session.delete(hours)
    session.flush()
    session.refresh(clinic)
    assert not schedule.is_open(session, clinic=clinic, now=thursday)
