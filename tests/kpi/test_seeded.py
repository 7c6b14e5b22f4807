"""The KPIs over the demo seed agree with themselves and with the rows they are made of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backend import kpi
from backend.db import Database
from backend.kpi import report
from backend.models import Visit
from backend.seed import seed_clinic
from tests.factories import NOW

JST = ZoneInfo("Asia/Tokyo")
MONTHS = 12


@dataclass(frozen=True)
class Seeded:
    database: Database
    clinic_id: int
    reports: list[report.MonthReport]


@pytest.fixture
def seeded(committed: Database) -> Seeded:
    summary = seed_clinic(committed, patients=150, years=1, now=NOW)
    with committed.reader() as session:
        reports = kpi.trend(
            session, clinic_id=summary.clinic_id, months=MONTHS, until=NOW.date(), now=NOW
        )
    return Seeded(committed, summary.clinic_id, reports)


def _visits_in(database: Database, clinic_id: int, month: date) -> int:
    start = datetime(month.year, month.month, 1, tzinfo=JST)
    end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=JST)
    with database.reader() as session:
        query = select(func.count()).where(
            Visit.clinic_id == clinic_id, Visit.visited_at >= start, Visit.visited_at < end
        )
        return session.scalar(query) or 0


def test_every_month_adds_up(seeded):
    assert len(seeded.reports) == MONTHS
    assert sum(month.visits for month in seeded.reports) > 1_000
    for month in seeded.reports:
        assert month.visits == _visits_in(seeded.database, seeded.clinic_id, month.month)
        assert month.carried_over + month.new_patients + month.returning == month.patients
        assert month.female_patients + month.male_patients + month.other_patients == month.patients
        assert month.insurance_yen + month.self_pay_yen == month.revenue_yen
        assert 0 <= month.ticket_yen <= month.self_pay_yen
        assert 0 <= month.second_visits <= month.new_patients
        assert month.next_booked_visits <= month.visits
        assert month.patients <= month.visits
        if month.visits:
            assert 1 <= month.frequency <= 31


def test_breakdowns_add_up_to_the_month(seeded):
    month = seeded.reports[-2]  # the last whole month
    with seeded.database.reader() as session:
        args = {"clinic_id": seeded.clinic_id, "month": month.month}
        media = kpi.by_media(session, **args, now=NOW)
        staff = kpi.by_staff(session, **args, now=NOW)
        courses = kpi.by_course(session, **args, now=NOW)
        heatmap = kpi.heatmap(session, **args)
        days = kpi.daily(session, **args)
    assert sum(row.patients for row in media) == month.patients
    assert sum(row.repeat.new_patients for row in media) == month.new_patients
    assert sum(row.repeat.second_visits for row in media) == month.second_visits
    assert sum(row.visits for row in staff) == month.visits
    assert sum(row.repeat.new_patients for row in staff) == month.new_patients
    assert sum(row.revenue_yen for row in courses) == month.revenue_yen
    assert sum(row.repeat.second_visits for row in courses) == month.second_visits
    assert sum(map(sum, heatmap.counts)) == month.visits
    assert sum(day.visits for day in days) == month.visits
    assert sum(day.bookings_made for day in days) == month.bookings_made
    assert sum(day.cancellations for day in days) == month.cancellations
    assert sum(day.no_shows for day in days) == month.no_shows


def test_backlog_and_ltv_are_ordered(seeded):
    with seeded.database.reader() as session:
        backlog = kpi.backlog_trend(
            session, clinic_id=seeded.clinic_id, days=28, until=NOW.date(), now=NOW
        )
        ltv = kpi.ltv_by_media(session, clinic_id=seeded.clinic_id, until=NOW.date(), now=NOW)
    assert len(backlog) == 28
    assert any(day.within_4_weeks for day in backlog)
    for day in backlog:
        assert day.within_1_week <= day.within_2_weeks <= day.within_3_weeks <= day.within_4_weeks
    assert sum(row.patients for row in ltv) > 0
    for row in ltv:
        cohorts = [point.patients for point in row.points]
        # A longer horizon has fewer patients whose months are over.
        assert cohorts == sorted(cohorts, reverse=True)
