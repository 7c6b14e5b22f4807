"""Ad spend: setting it (upsert on media and month, refused when it makes no sense) and the
twelve-month table of spend, new patients and cost per new patient on the hand-built clinic."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import kpi
from backend.errors import Invalid, NotFound
from backend.kpi import spend
from backend.models import Media, MediaSpend
from tests.factories import jst, make_clinic
from tests.kpi import ledger

OCTOBER = date(2026, 10, 1)
LATE_OCTOBER = jst(2026, 10, 31, 23, 59)


@pytest.fixture
def built(session: Session) -> ledger.Ledger:
    return ledger.build(session)


def spends(session: Session, media_id: int) -> dict[date, int]:
    rows = session.execute(
        select(MediaSpend.month_on, MediaSpend.amount_yen).where(MediaSpend.media_id == media_id)
    )
    return dict(rows.all())


def test_setting_spend_adds_then_replaces_one_row_per_media_and_month(session, built):
    spend.set_spend(
        session,
        clinic_id=built.clinic_id,
        media_id=built.referral,
        month=date(2026, 10, 17),  # any day stands for its month
        amount_yen=12_000,
        now=LATE_OCTOBER,
    )
    assert spends(session, built.referral) == {OCTOBER: 12_000}
    spend.set_spend(
        session,
        clinic_id=built.clinic_id,
        media_id=built.homepage,
        month=OCTOBER,
        amount_yen=0,
        now=LATE_OCTOBER,
    )
    assert spends(session, built.homepage) == {date(2026, 9, 1): 20_000, OCTOBER: 0}


def test_next_month_is_the_last_that_can_be_set(session, built):
    spend.set_spend(
        session,
        clinic_id=built.clinic_id,
        media_id=built.referral,
        month=date(2026, 11, 1),
        amount_yen=5_000,
        now=LATE_OCTOBER,
    )
    with pytest.raises(Invalid) as refused:
        spend.set_spend(
            session,
            clinic_id=built.clinic_id,
            media_id=built.referral,
            month=date(2026, 12, 1),
            amount_yen=5_000,
            now=LATE_OCTOBER,
        )
    assert refused.value.context["field"] == "month"
    assert spends(session, built.referral) == {date(2026, 11, 1): 5_000}


def test_the_month_is_the_clinics_not_utcs(session, built):
    # 1 Nov 00:30 in Tokyo is still 31 Oct in UTC: December is next month already.
    spend.set_spend(
        session,
        clinic_id=built.clinic_id,
        media_id=built.referral,
        month=date(2026, 12, 1),
        amount_yen=1,
        now=jst(2026, 11, 1, 0, 30),
    )
    assert spends(session, built.referral) == {date(2026, 12, 1): 1}


@pytest.mark.parametrize("amount", [-1, spend.MAX_YEN + 1])
def test_an_amount_out_of_range_is_refused(session, built, amount):
    with pytest.raises(Invalid) as refused:
        spend.set_spend(
            session,
            clinic_id=built.clinic_id,
            media_id=built.referral,
            month=OCTOBER,
            amount_yen=amount,
            now=LATE_OCTOBER,
        )
    assert refused.value.context["field"] == "amount_yen"
    assert spends(session, built.referral) == {}


def test_another_clinics_media_is_not_found(session, built):
    other = make_clinic(session, name="別院")
    media = Media(clinic_id=other.id, name="チラシ")
    session.add(media)
    session.flush()
    with pytest.raises(NotFound):
        spend.set_spend(
            session,
            clinic_id=built.clinic_id,
            media_id=media.id,
            month=OCTOBER,
            amount_yen=1_000,
            now=LATE_OCTOBER,
        )
    assert spends(session, media.id) == {}


def test_the_table_has_each_active_media_and_twelve_months(session, built):
    session.add(Media(clinic_id=built.clinic_id, name="看板（終了）", active=False, sort_order=3))
    session.flush()
    rows = spend.spend_table(session, clinic_id=built.clinic_id, until=OCTOBER, months=12)
    assert [row.media_id for row in rows] == [built.homepage, built.referral]
    homepage, referral = rows
    assert [item.month for item in homepage.months][::11] == [date(2025, 11, 1), OCTOBER]
    # P1 first came on 10 Sep; P3 (20 Oct) and P4 (31 Oct) in October.
    assert homepage.months[-2] == spend.SpendMonth(date(2026, 9, 1), 20_000, 1, 20_000)
    assert homepage.months[-1] == spend.SpendMonth(OCTOBER, 30_000, 2, 15_000)
    # P2 first came on 3 Jul, P5 on 1 Oct; nothing was entered for referrals.
    assert referral.months[-4] == spend.SpendMonth(date(2026, 7, 1), None, 1, None)
    assert referral.months[-1] == spend.SpendMonth(OCTOBER, None, 1, None)
    assert sum(item.new_patients for item in referral.months) == 2


def test_the_tables_october_agrees_with_by_media(session, built):
    rows = spend.spend_table(session, clinic_id=built.clinic_id, until=OCTOBER, months=1)
    by_media = {
        row.media_id: row
        for row in kpi.by_media(session, clinic_id=built.clinic_id, month=OCTOBER, now=LATE_OCTOBER)
    }
    for row in rows:
        assert row.months[0].new_patients == by_media[row.media_id].repeat.new_patients
