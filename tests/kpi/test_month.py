"""The month's KPIs on the hand-built clinic (tests/kpi/ledger.py), every number by hand."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from backend import kpi
from backend.errors import Invalid, NotFound
from backend.models import Patient, Visit
from tests.factories import NOW, jst, make_clinic
from tests.kpi import ledger

OCTOBER = date(2026, 10, 1)


@pytest.fixture
def built(session: Session) -> ledger.Ledger:
    return ledger.build(session)


def test_october_visits_patients_and_their_split(session, built):
    report = kpi.month(session, clinic_id=built.clinic_id, month=date(2026, 10, 17), now=NOW)
    assert report.month == OCTOBER
    assert report.complete
    # P1 ×3 + P2 + P3 ×2 + P4 (31st 23:30 JST) + P5 (1st 00:10 JST) + P6 = 9 visits;
    # P7's visit on 1 Nov 00:05 JST is November's.
    assert report.visits == 9
    assert report.patients == 6  # P1 … P6
    assert report.frequency == pytest.approx(9 / 6)
    # P1 came in September too; P3, P4, P5 and P6 (初検日 2 Oct on the カルテ) are new;
    # P2 came in July, not in September.
    assert (report.carried_over, report.new_patients, report.returning) == (1, 4, 1)
    # Back within 14 days: P3 (20 → 30 Oct, 10 days) and P6 (2 → 10 Oct, 8 days);
    # not P4 (31 Oct → 20 Nov, 20 days) nor P5 (never): 2 of 4.
    assert report.second_visits == 2
    assert report.second_visit_rate == 0.5
    # The last new patient (31 Oct) had until 14 Nov; NOW is 30 Nov.
    assert report.second_visit_final
    # Female P1, P3, P6; male P2, P4; P5 did not say.
    assert (report.female_patients, report.male_patients, report.other_patients) == (3, 2, 1)


def test_october_bookings_cancellations_and_no_shows(session, built):
    report = kpi.month(session, clinic_id=built.clinic_id, month=OCTOBER, now=NOW)
    # Made in October: B1 B2 B3 B12 B4 B5 B6 B8 (31 Oct 23:45) B9 B10 = 10; B0 was made in
    # September, B7 was declined and B11 expired.
    assert report.bookings_made == 10
    # Cancelled in October: B3 (22 Oct) and B9 (10 Oct); B12 was cancelled in November.
    assert report.cancellations == 2
    assert report.cancellation_rate == pytest.approx(2 / 10)
    # B10 (22 Oct) did not come; B5's no-show is on 6 November.
    assert report.no_shows == 1


def test_october_money(session, built):
    report = kpi.month(session, clinic_id=built.clinic_id, month=OCTOBER, now=NOW)
    # 保険: P1 ×3, P4, P6 = 5 × (500 + 1,000) = 7,500.
    assert report.insurance_yen == 7_500
    # 自費: P2 4,400 + P3 4,400 + P5 EMS 2,000 + P3's 回数券 4,000 = 14,800.
    assert (report.self_pay_yen, report.ticket_yen) == (14_800, 4_000)
    assert report.revenue_yen == 22_300
    assert report.self_pay_share == pytest.approx(14_800 / 22_300)
    assert report.average_yen == 2_478  # 22,300 / 9 = 2,477.8
    # Hands-on minutes: 5 × 10 (保険) + 3 × 20 (骨盤矯正) = 110; the EMS visit (¥2,000,
    # no hands-on time) is left out: (22,300 - 2,000) / 110 × 10 = 1,845.5.
    assert report.hands_on_minutes == 110
    assert report.yen_per_10_minutes == 1_845


def test_next_booking_rate_counts_what_was_held_at_the_end_of_the_visit_day(session, built):
    report = kpi.month(session, clinic_id=built.clinic_id, month=OCTOBER, now=NOW)
    # P1 5 Oct (B1 made that day), 12 Oct (B2), 19 Oct (B3, cancelled only on the 22nd);
    # P3 30 Oct (B5, made before); P4 31 Oct 23:30 (B8 made at 23:45 the same day) = 5.
    # Not: P2 8 Oct (B7 declined), P3 20 Oct (B4 made the next morning), P5 (nothing),
    # P6 10 Oct (B9 cancelled that evening).
    assert report.next_booked_visits == 5
    assert report.next_booking_rate == pytest.approx(5 / 9)


def test_a_trend_runs_oldest_first_and_places_midnight_visits_in_their_local_month(session, built):
    reports = kpi.trend(
        session, clinic_id=built.clinic_id, months=3, until=date(2026, 11, 30), now=NOW
    )
    assert [report.month for report in reports] == [
        date(2026, 9, 1),
        OCTOBER,
        date(2026, 11, 1),
    ]
    september, october, november = reports
    # September: P1's first visit only (P5's 1 Oct 00:10 JST is 30 Sep in UTC).
    assert (september.visits, september.new_patients, september.second_visits) == (1, 1, 0)
    assert october.visits == 9
    # November: P7 (1 Nov 00:05 JST, new) and P4 (20 Nov, carried over from October).
    assert (november.visits, november.new_patients, november.carried_over) == (2, 1, 1)
    assert not november.complete  # NOW is 30 Nov


def test_the_second_visit_rate_is_provisional_until_the_cohort_has_had_its_14_days(session, built):
    # On 10 Nov P4 (first visit 31 Oct) still has until the end of 14 Nov to come back.
    early = kpi.month(session, clinic_id=built.clinic_id, month=OCTOBER, now=jst(2026, 11, 10))
    assert not early.second_visit_final
    assert early.complete
    on_time = kpi.month(session, clinic_id=built.clinic_id, month=OCTOBER, now=jst(2026, 11, 15))
    assert on_time.second_visit_final


def test_a_merged_duplicate_counts_as_the_patient_it_was_merged_into(session, built):
    # P2's duplicate カルテ (made from a phone call) holds a September visit: P2 came last
    # month after all, so is carried over, not returning, and still one patient.
    p2 = built.patients["P2"]
    duplicate = Patient(
        clinic_id=built.clinic_id,
        name="カンジャ P2",
        merged_into_id=p2,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(duplicate)
    session.flush()
    session.add(
        Visit(
            clinic_id=built.clinic_id,
            patient_id=duplicate.id,
            visited_at=jst(2026, 9, 20, 10),
            self_pay_yen=4400,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    session.flush()
    report = kpi.month(session, clinic_id=built.clinic_id, month=OCTOBER, now=NOW)
    assert (report.patients, report.carried_over, report.returning) == (6, 2, 0)


def test_an_empty_month_gives_none_for_every_rate(session):
    clinic = make_clinic(session, hours=False)
    report = kpi.month(session, clinic_id=clinic.id, month=OCTOBER, now=NOW)
    assert (report.visits, report.patients, report.revenue_yen, report.bookings_made) == (
        0,
        0,
        0,
        0,
    )
    assert report.frequency is None
    assert report.second_visit_rate is None
    assert report.cancellation_rate is None
    assert report.self_pay_share is None
    assert report.average_yen is None
    assert report.yen_per_10_minutes is None
    assert report.next_booking_rate is None


def test_an_unknown_clinic_is_not_found(session):
    with pytest.raises(NotFound):
        kpi.month(session, clinic_id=999_999, month=OCTOBER, now=NOW)


@pytest.mark.parametrize("months", [0, 121])
def test_a_trend_has_one_to_120_months(session, built, months):
    with pytest.raises(Invalid, match="1 to 120 months"):
        kpi.trend(session, clinic_id=built.clinic_id, months=months, until=OCTOBER, now=NOW)
