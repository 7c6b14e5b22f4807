"""The ad-spend page (/media): the twelve-month table, and setting one media's spend for one
month through the form (saved, updated, refused with a message next to the field)."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import MediaSpend
from tests.factories import jst
from tests.kpi import ledger
from tests.web.conftest import csrf_of, sign_in

OCTOBER = date(2026, 10, 1)


@pytest.fixture
def october(session: Session, clock: list) -> ledger.Ledger:
    """The hand-built clinic of the KPI tests, seen late on 31 October."""
    clock[0] = jst(2026, 10, 31, 23, 59)
    return ledger.build(session)


def spends(session: Session, media_id: int) -> dict[date, int]:
    rows = session.execute(
        select(MediaSpend.month_on, MediaSpend.amount_yen).where(MediaSpend.media_id == media_id)
    )
    return dict(rows.all())


def cell(page: str, media_id: int, month: str) -> str:
    row = page.split(f'<tr data-media-id="{media_id}">')[1].split("</tr>", maxsplit=1)[0]
    return row.split(f'data-month="{month}">')[1].split("</td>", maxsplit=1)[0]


def field_error(page: str, name: str) -> str:
    found = page.split(f'id="{name}-error">')
    return found[1].split("</span>", maxsplit=1)[0] if len(found) > 1 else ""


def test_the_table_shows_each_media_with_spend_new_patients_and_cost(
    web: TestClient, october: ledger.Ledger
) -> None:
    sign_in(web)
    answer = web.get("/media")
    assert answer.status_code == 200
    page = answer.text
    assert '<a href="/media" aria-current="page">広告費</a>' in page
    assert page.count('<th scope="col">2026年10月</th>') == 1
    # Twelve months, newest first: the month to enter is not scrolled out of sight.
    assert page.index('<th scope="col">2026年10月</th>') < page.index(
        '<th scope="col">2025年11月</th>'
    )
    assert '<th scope="col">2025年10月</th>' not in page
    october_homepage = cell(page, october.homepage, "2026-10")
    assert "広告費 30,000円" in october_homepage
    assert "新患 2人" in october_homepage
    assert "単価 15,000円" in october_homepage
    assert "単価 20,000円" in cell(page, october.homepage, "2026-09")
    # Nothing entered for referrals: no cost, though P5 was new in October.
    october_referral = cell(page, october.referral, "2026-10")
    assert "広告費 —" in october_referral
    assert "新患 1人" in october_referral
    assert "単価 —" in october_referral
    assert 'value="2026-10"' in page  # the form starts at this month


def test_saving_spend_redirects_with_a_notice_and_changes_the_cost(
    web: TestClient, session: Session, october: ledger.Ledger
) -> None:
    token = sign_in(web)
    form = {
        "csrf": token,
        "media_id": str(october.referral),
        "month": "2026-10",
        "yen": "１２,０００円",
    }
    answer = web.post("/media/spend", data=form)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/media?notice=spend_saved"
    assert spends(session, october.referral) == {OCTOBER: 12_000}
    page = web.get(answer.headers["location"]).text
    assert '<p class="notice" role="status">広告費を保存しました。</p>' in page
    assert "単価 12,000円" in cell(page, october.referral, "2026-10")


def test_saving_the_same_media_and_month_again_updates_it(
    web: TestClient, session: Session, october: ledger.Ledger
) -> None:
    token = sign_in(web)
    form = {"csrf": token, "media_id": str(october.homepage), "month": "2026-10", "yen": "60000"}
    assert web.post("/media/spend", data=form).status_code == 303
    assert spends(session, october.homepage) == {date(2026, 9, 1): 20_000, OCTOBER: 60_000}
    assert "単価 30,000円" in cell(web.get("/media").text, october.homepage, "2026-10")


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"yen": "-5"}, "yen", "広告費は0円以上の整数（円）で入力してください。"),
        ({"yen": "3.5"}, "yen", "広告費は0円以上の整数（円）で入力してください。"),
        (
            {"yen": "3000000000"},
            "yen",
            "広告費は0円から2,000,000,000円までの整数で入力してください。",
        ),
        ({"month": "2026-12"}, "month", "広告費を入力できるのは来月（2026年11月）までです。"),
        ({"month": "10月"}, "month", "年月は「2026-11」のように入力してください。"),
        ({"month": "2026-13"}, "month", "年月は「2026-11」のように入力してください。"),
        ({"media_id": "999999"}, "media_id", "媒体を選んでください。"),
        ({"media_id": ""}, "media_id", "媒体を選んでください。"),
        ({"media_id": "9" * 20}, "media_id", "媒体を選んでください。"),
    ],
)
def test_a_refused_entry_says_why_next_to_the_field_and_keeps_what_was_typed(
    web: TestClient,
    session: Session,
    october: ledger.Ledger,
    typed: dict[str, str],
    field: str,
    message: str,
) -> None:
    token = sign_in(web)
    form = {"media_id": str(october.referral), "month": "2026-10", "yen": "8000", **typed}
    answer = web.post("/media/spend", data={"csrf": token, **form})
    assert answer.status_code == 422
    assert field_error(answer.text, field) == message
    assert '<p class="error" role="alert">入力内容を確認してください。</p>' in answer.text
    assert f'value="{form["month"]}"' in answer.text
    assert f'value="{form["yen"]}"' in answer.text
    assert "広告費を保存しました" not in answer.text
    assert spends(session, october.referral) == {}


def test_next_month_can_be_set_ahead(
    web: TestClient, session: Session, october: ledger.Ledger
) -> None:
    token = sign_in(web)
    form = {"csrf": token, "media_id": str(october.referral), "month": "2026-11", "yen": "0"}
    assert web.post("/media/spend", data=form).status_code == 303
    assert spends(session, october.referral) == {date(2026, 11, 1): 0}


def test_a_form_without_the_token_changes_nothing(
    web: TestClient, session: Session, october: ledger.Ledger
) -> None:
    sign_in(web)
    form = {"media_id": str(october.referral), "month": "2026-10", "yen": "5000"}
    answer = web.post("/media/spend", data={"csrf": "forged", **form})
    assert answer.status_code == 403
    assert web.post("/media/spend", data=form).status_code == 403
    assert spends(session, october.referral) == {}


def test_signed_out_the_page_and_the_form_go_to_login(
    web: TestClient, session: Session, october: ledger.Ledger
) -> None:
    token = csrf_of(web.get("/login").text)
    assert web.get("/media").headers["location"] == "/login"
    form = {"csrf": token, "media_id": str(october.referral), "month": "2026-10", "yen": "5000"}
    answer = web.post("/media/spend", data=form)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")
    assert spends(session, october.referral) == {}


def test_without_a_clinic_the_page_says_so(web: TestClient) -> None:
    token = sign_in(web)
    assert "院が登録されていません" in web.get("/media").text
    answer = web.post(
        "/media/spend", data={"csrf": token, "media_id": "1", "month": "2026-10", "yen": "1"}
    )
    assert answer.status_code == 422
    assert "院が登録されていません" in answer.text
