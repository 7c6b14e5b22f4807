"""KPIs by media, staff, course, day, hour, backlog, phone and LTV on the hand-built clinic."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from backend import kpi
from backend.kpi.report import BacklogDay, LtvPoint, Repeat
from tests.factories import NOW, jst
from tests.kpi import ledger

OCTOBER = date(2026, 10, 1)


@pytest.fixture
def built(session: Session) -> ledger.Ledger:
    return ledger.build(session)


def test_by_media_in_october(session, built):
    rows = kpi.by_media(session, clinic_id=built.clinic_id, month=OCTOBER, now=NOW)
    by_name = {row.name: row for row in rows}
    assert [row.name for row in rows] == ["ホームページ", "紹介", "未登録"]
    homepage = by_name["ホームページ"]
    # P1, P3, P4 came; P3 and P4 were new; ¥30,000 / 2 new = ¥15,000; P3 came back.
    assert (homepage.patients, homepage.spend_yen, homepage.cost_per_new_yen) == (3, 30_000, 15_000)
    assert homepage.repeat == Repeat(
        new_patients=2, second_visits=1, second_visit_rate=0.5, final=True
    )
    referral = by_name["紹介"]
    # P2 and P5 came; P5 was new and never came back; no spend.
    assert (referral.patients, referral.spend_yen, referral.cost_per_new_yen) == (2, 0, 0)
    assert referral.repeat.second_visit_rate == 0.0
    # P6 has no media; new (初検日 2 Oct) and back on 10 Oct.
    unknown = by_name["未登録"]
    assert (unknown.media_id, unknown.patients, unknown.repeat.second_visits) == (None, 1, 1)


def test_by_media_over_two_months_adds_spend_and_cohorts(session, built):
    rows = kpi.by_media(session, clinic_id=built.clinic_id, month=OCTOBER, months=2, now=NOW)
    homepage = next(row for row in rows if row.media_id == built.homepage)
    # September + October: ¥20,000 + ¥30,000; new: P1 (10 Sep), P3, P4; ¥50,000 / 3.
    assert (homepage.spend_yen, homepage.repeat.new_patients) == (50_000, 3)
    assert homepage.cost_per_new_yen == 16_667
    # P1's second visit (5 Oct) came 25 days after the first: only P3 is back in time.
    assert homepage.repeat.second_visits == 1


def test_by_staff_in_october(session, built):
    rows = {
        row.staff_id: row
        for row in kpi.by_staff(session, clinic_id=built.clinic_id, month=OCTOBER, now=NOW)
    }
    a, b, nobody = rows[built.staff_a], rows[built.staff_b], rows[None]
    # A: P1 ×3, P4, P6 (保険, ¥1,500 each); first visit of the new P4 (not back in time).
    assert (a.name, a.visits, a.revenue_yen, a.nominated_visits) == ("山田 太郎", 5, 7_500, 0)
    assert (a.repeat.new_patients, a.repeat.second_visits) == (1, 0)
    # B: P2 (指名, ¥4,400) and P3 ×2 (¥4,400 and ¥4,000 by ticket); P3 came back.
    assert (b.visits, b.revenue_yen, b.nominated_visits) == (3, 12_800, 1)
    assert b.repeat.second_visit_rate == 1.0
    # Without a staff member: P5's EMS; first visits unknown too: P5's and P6's (on paper).
    assert (nobody.name, nobody.visits, nobody.revenue_yen) == ("担当なし", 1, 2_000)
    assert (nobody.repeat.new_patients, nobody.repeat.second_visits) == (2, 1)


def test_by_course_in_october(session, built):
    rows = {
        row.course_id: row
        for row in kpi.by_course(session, clinic_id=built.clinic_id, month=OCTOBER, now=NOW)
    }
    assert (rows[built.insurance].visits, rows[built.insurance].revenue_yen) == (5, 7_500)
    assert (rows[built.pelvis].visits, rows[built.pelvis].revenue_yen) == (3, 12_800)
    assert (rows[built.ems].visits, rows[built.ems].revenue_yen) == (1, 2_000)
    # New patients by first course: P4 保険 (not back), P3 骨盤矯正 (back), P5 EMS (not back),
    # P6 unknown (back): the course-less row has no visits, only that first visit.
    assert rows[built.insurance].repeat.second_visit_rate == 0.0
    assert rows[built.pelvis].repeat.second_visit_rate == 1.0
    assert rows[built.ems].repeat.second_visit_rate == 0.0
    assert (rows[None].visits, rows[None].repeat.second_visits) == (0, 1)


def test_heatmap_by_local_weekday_and_hour(session, built):
    heatmap = kpi.heatmap(session, clinic_id=built.clinic_id, month=OCTOBER)
    cells = {
        (weekday, hour): count
        for weekday, row in enumerate(heatmap.counts)
        for hour, count in enumerate(row)
        if count
    }
    assert cells == {
        (0, 10): 3,  # P1 on Mondays 5, 12, 19 Oct at 10:00
        (1, 11): 1,  # P3 Tue 20 Oct 11:00
        (3, 0): 1,  # P5 Thu 1 Oct 00:10
        (3, 16): 1,  # P2 Thu 8 Oct 16:00
        (4, 11): 1,  # P3 Fri 30 Oct 11:00
        (5, 9): 1,  # P6 Sat 10 Oct 09:00
        (5, 23): 1,  # P4 Sat 31 Oct 23:30
    }


def test_heatmap_over_several_months(session, built):
    heatmap = kpi.heatmap(session, clinic_id=built.clinic_id, month=date(2026, 11, 5), months=3)
    assert (heatmap.month, heatmap.months) == (date(2026, 11, 1), 3)
    # September to November: October's 9 visits, plus P1 Thu 10 Sep 10:00, P7 Sun 1 Nov
    # 00:05 and P4 Fri 20 Nov 10:00 = 12.
    assert sum(map(sum, heatmap.counts)) == 12
    assert (heatmap.counts[3][10], heatmap.counts[6][0], heatmap.counts[4][10]) == (1, 1, 1)


def test_daily_flows(session, built):
    days = {day.day: day for day in kpi.daily(session, clinic_id=built.clinic_id, month=OCTOBER)}
    assert len(days) == 31
    # 1 Oct: B6 made, P5's visit at 00:10.
    assert (days[date(2026, 10, 1)].bookings_made, days[date(2026, 10, 1)].visits) == (1, 1)
    # 10 Oct: B9 made and cancelled the same day; P6's visit.
    ten = days[date(2026, 10, 10)]
    assert (ten.bookings_made, ten.cancellations, ten.visits) == (1, 1, 1)
    # 22 Oct: B3 cancelled, B10 a no-show.
    assert (days[date(2026, 10, 22)].cancellations, days[date(2026, 10, 22)].no_shows) == (1, 1)
    assert sum(day.visits for day in days.values()) == 9
    assert sum(day.bookings_made for day in days.values()) == 10


def test_backlog_at_day_ends(session, built):
    trend = kpi.backlog_trend(
        session, clinic_id=built.clinic_id, days=3, until=date(2026, 10, 21), now=NOW
    )
    assert trend == [
        # End of 19 Oct: B3 (26 Oct) and B10 (22 Oct) within a week; B12 (9 Nov, 21 days).
        BacklogDay(date(2026, 10, 19), 2, 2, 3, 3),
        BacklogDay(date(2026, 10, 20), 2, 2, 3, 3),
        # End of 21 Oct: B4 made that morning for 30 Oct (9 days: the second week).
        BacklogDay(date(2026, 10, 21), 2, 3, 4, 4),
    ]


def test_backlog_leaves_out_days_after_now(session, built):
    trend = kpi.backlog_trend(
        session,
        clinic_id=built.clinic_id,
        days=3,
        until=date(2026, 10, 21),
        now=jst(2026, 10, 20, 12),
    )
    assert [day.day for day in trend] == [
        date(2026, 10, 18),
        date(2026, 10, 19),
        date(2026, 10, 20),
    ]


def test_phone_in_october(session, built):
    report = kpi.phone(session, clinic_id=built.clinic_id, month=OCTOBER)
    # C1 … C6 and C8; C7 (30 Sep 23:50 JST) is September's.
    assert report.calls == 7
    assert (report.missed, report.abandoned, report.callbacks) == (2, 1, 1)
    assert report.answered == 5  # all but the two missed
    assert (report.requests, report.transferred) == (1, 1)
    assert report.to_follow_up == 4  # C1, C2, C3, C8
    # C3 was followed up; C1's caller (P2's number) booked B10 the next day.
    assert report.recovered == 2
    assert report.recovery_rate == 0.5
    assert report.answer_rate == pytest.approx(5 / 7)
    assert report.request_rate == pytest.approx(1 / 5)


def test_ltv_by_media_up_to_october(session, built):
    rows = {
        row.media_id: row
        for row in kpi.ltv_by_media(
            session, clinic_id=built.clinic_id, until=OCTOBER, now=NOW, horizons=(1, 3, 6)
        )
    }
    homepage = rows[built.homepage]
    # P1 (¥1,500 × 4), P3 (¥8,400), P4 (¥1,500 by 31 Oct) = ¥15,900 over 3 patients.
    assert (homepage.patients, homepage.revenue_yen, homepage.yen_per_patient) == (3, 15_900, 5_300)
    # One month: only P1's month (10 Sep - 9 Oct: ¥3,000) is over by 1 Nov.
    assert homepage.points == (
        LtvPoint(months=1, patients=1, yen_per_patient=3_000),
        LtvPoint(months=3, patients=0, yen_per_patient=None),
        LtvPoint(months=6, patients=0, yen_per_patient=None),
    )
    referral = rows[built.referral]
    # P2 (¥4,400 in July and in October) and P5 (¥2,000).
    assert (referral.patients, referral.revenue_yen, referral.yen_per_patient) == (2, 10_800, 5_400)
    # One month: P2 (3 Jul - 2 Aug: ¥4,400) and P5 (1 - 31 Oct: ¥2,000); three: P2 alone.
    assert referral.points[:2] == (
        LtvPoint(months=1, patients=2, yen_per_patient=3_200),
        LtvPoint(months=3, patients=1, yen_per_patient=4_400),
    )
    # P6's first visit is on paper only: the ledger never saw all it brought.
    assert None not in rows
