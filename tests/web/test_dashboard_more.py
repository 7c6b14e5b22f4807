"""The dashboard's phone section (with what unreturned calls may cost), LTV by media and
this month's days, on the hand-built October clinic of the KPI tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.kpi.report import LtvPoint, LtvRow
from backend.web import calls
from tests.factories import jst
from tests.kpi import ledger
from tests.web.conftest import sign_in


@pytest.fixture
def october(session: Session, clock: list) -> ledger.Ledger:
    """The hand-built clinic, seen late on 31 October (its month is October)."""
    clock[0] = jst(2026, 10, 31, 23, 59)
    return ledger.build(session)


def section(page: str, heading: str) -> str:
    return page.split(f'id="{heading}"')[1].split("</section>\n<section", maxsplit=1)[0]


def tile(page: str, label: str) -> str:
    return page.split(f'<span class="tile-label">{label}</span>')[1].split("</li>", maxsplit=1)[0]


def chart(page: str, key: str) -> str:
    return page.split(f'id="{key}-title"')[1].split("</figure>", maxsplit=1)[0]


def test_the_phone_section_shows_octobers_calls_and_what_the_lost_ones_may_cost(
    web: TestClient, october: ledger.Ledger
) -> None:
    sign_in(web)
    page = web.get("/dashboard").text
    phone = section(page, "phone-heading")
    assert "電話（2026年10月）" in phone
    # C1 … C6 and C8: 7 calls, 5 answered (two missed), one request among the 5.
    assert '<span class="tile-value">7件</span>' in tile(phone, "着信数")
    assert "71.4%" in tile(phone, "応答率")
    assert "応答 5件" in tile(phone, "応答率")
    assert "20.0%" in tile(phone, "予約化率")
    # C1, C2, C3 and C8 needed a call back; C3 was followed up, C1's caller booked.
    assert '<span class="tile-value">4件</span>' in tile(phone, "取りこぼし")
    assert '<span class="tile-value">2件</span>' in tile(phone, "回収済み")
    assert "回収率 50.0%" in tile(phone, "回収済み")
    lost = phone.split('id="lost-calls"')[1]
    assert "<strong>2件</strong>" in lost
    # No patient's twelve months are over yet: seed 003's ¥500,000 a new patient, said so.
    assert "LTV 500,000円 × 2件" in lost
    assert "約1,000,000円" in lost
    assert "目安の50万円" in lost
    drawn = chart(phone, "phone")
    assert drawn.count('class="series"') == 5
    assert (
        '<tr><th scope="row">10月</th>'
        "<td>7件</td><td>5件</td><td>1件</td><td>4件</td><td>2件</td></tr>" in drawn
    )


def test_ltv_by_media_and_octobers_days_are_charted_with_their_numbers(
    web: TestClient, october: ledger.Ledger
) -> None:
    sign_in(web)
    page = web.get("/dashboard").text
    ltv = chart(page, "ltv")
    assert ltv.count('class="series"') == 2  # ホームページ and 紹介
    assert 'data-name="ホームページ"' in ltv
    # One month after the first visit: P1 ¥3,000 (ホームページ); P2 ¥4,400 (紹介). P5's
    # month (from 1 Oct) is not over on 31 Oct, so it is not in the point yet.
    assert '<tr><th scope="row">1か月</th><td>3,000円</td><td>4,400円</td></tr>' in ltv
    assert '<tr><th scope="row">3か月</th><td>—</td><td>4,400円</td></tr>' in ltv
    days = chart(page, "days")
    assert "日別の予約数・キャンセル数・来院数（2026年10月）" in days
    assert days.count('<th scope="row">') == 31
    # 1 Oct: B6 made, P5's visit at 00:10. 10 Oct: B9 made and cancelled, P6's visit.
    assert '<tr><th scope="row">10/1</th><td>1件</td><td>0件</td><td>1件</td></tr>' in days
    assert '<tr><th scope="row">10/10</th><td>1件</td><td>1件</td><td>1件</td></tr>' in days


def test_a_clinic_without_calls_shows_zeros_and_no_lost_value(
    web: TestClient, session: Session, clock: list
) -> None:
    clock[0] = jst(2026, 10, 31, 23, 59)
    ledger.build(session)
    clock[0] = jst(2027, 3, 15, 12)  # March 2027: no calls at all
    sign_in(web)
    phone = section(web.get("/dashboard").text, "phone-heading")
    assert '<span class="tile-value">0件</span>' in tile(phone, "着信数")
    assert "—" in tile(phone, "応答率")
    assert "約0円" in phone


def test_the_lost_calls_are_valued_at_the_clinics_own_ltv_when_it_has_enough_history() -> None:
    def row(name: str, points: tuple[LtvPoint, ...]) -> LtvRow:
        return LtvRow(None, name, 5, 0, None, points)

    rows = [
        row("ホームページ", (LtvPoint(12, 3, 60_000), LtvPoint(24, 2, 100_000))),
        row("紹介", (LtvPoint(12, 2, 90_000), LtvPoint(24, 2, 120_000))),
    ]
    # Four patients at 24 months are too few; five at 12 months are enough.
    estimate = calls.ltv_estimate(rows)
    assert (estimate.yen, estimate.from_history) == (72_000, True)
    assert "12か月" in estimate.basis
    assert "5人" in estimate.basis
    thin = calls.ltv_estimate([row("紹介", (LtvPoint(12, 4, 90_000), LtvPoint(24, 0, None)))])
    assert (thin.yen, thin.from_history) == (calls.DEFAULT_LTV_YEN, False)
