"""広告費 and the phone section in a real headless Chromium: the real app served by uvicorn
on 127.0.0.1, on a real database with real commits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from backend import booking
from backend.app import create_app
from backend.db import Database
from backend.models import CallLog, CallOutcome, Media, Source
from backend.serving import Served, serve_in_thread
from tests.factories import (
    NOW,
    jst,
    make_bed,
    make_booking,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)
from tests.web import browser
from tests.web.conftest import PASSWORD, WAIT_SECONDS, web_settings

pytestmark = pytest.mark.browser


@dataclass
class Site:
    url: str
    media_id: int


@pytest.fixture
def site(committed: Database, driver: Any) -> Iterator[Site]:
    """A clinic whose ホームページ brought one new patient this month (November), and one
    missed call."""
    with committed.transaction() as session:
        clinic = make_clinic(session)
        staff = make_staff(session, clinic)
        make_bed(session, clinic)
        course = make_course(session, clinic)
        media = Media(clinic_id=clinic.id, name="ホームページ", sort_order=1)
        session.add(media)
        session.flush()
        patient = make_patient(session, clinic, media_id=media.id)
        visit = make_booking(
            session,
            patient=patient,
            course=course,
            starts_at=jst(2026, 11, 27, 10),
            source=Source.STAFF,
            staff=staff,
            now=jst(2026, 11, 20, 9),
        )
        booking.complete(session, booking_id=visit.id, actor="test", now=jst(2026, 11, 27, 11))
        session.add(
            CallLog(
                clinic_id=clinic.id,
                call_sid="CA" + "1" * 32,
                from_number="+819099998888",
                outcome=CallOutcome.MISSED,
                started_at=NOW - timedelta(days=2),
            )
        )
        media_id = media.id
    app = create_app(
        web_settings(database_url=str(committed.engine.url)), store=committed, clock=lambda: NOW
    )
    served: Served = serve_in_thread(app)
    try:
        yield Site(served.url, media_id)
    finally:
        driver.delete_all_cookies()
        driver.get("about:blank")
        served.stop()


def wait_for(driver: Any, condition: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS).until(condition)


def sign_in(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{site.url}/login")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    button = driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button")
    button.click()
    browser.gone(driver, button)


def november(driver: Any, site: Site) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(
        By.CSS_SELECTOR, f"tr[data-media-id='{site.media_id}'] td[data-month='2026-11']"
    )


def test_entering_a_months_spend_changes_the_cost_per_new_patient(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    sign_in(driver, site)
    driver.find_element(By.LINK_TEXT, "広告費").click()
    wait_for(driver, lambda found: found.current_url.endswith("/media"))
    assert "新患 1人" in november(driver, site).text
    assert "単価 —" in november(driver, site).text
    Select(driver.find_element(By.ID, "media_id")).select_by_visible_text("ホームページ")
    assert driver.find_element(By.ID, "month").get_attribute("value") == "2026-11"
    driver.find_element(By.ID, "yen").send_keys("40000")
    button = driver.find_element(By.CSS_SELECTOR, "form[action='/media/spend'] button")
    button.click()
    browser.gone(driver, button)
    assert driver.find_element(By.CSS_SELECTOR, "[role=status]").text == "広告費を保存しました。"
    cell = november(driver, site).text
    assert "広告費 40,000円" in cell
    assert "単価 40,000円" in cell


def test_a_refused_amount_is_explained_next_to_the_field(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By

    sign_in(driver, site)
    driver.get(f"{site.url}/media")
    driver.find_element(By.ID, "yen").send_keys("四万円")
    button = driver.find_element(By.CSS_SELECTOR, "form[action='/media/spend'] button")
    button.click()
    browser.gone(driver, button)
    error = driver.find_element(By.ID, "yen-error")
    assert error.text == "広告費は0円以上の整数（円）で入力してください。"
    assert error.is_displayed()
    assert driver.find_element(By.ID, "yen").get_attribute("value") == "四万円"
    assert "単価 —" in november(driver, site).text


def test_the_dashboard_draws_the_phone_chart(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By

    sign_in(driver, site)
    driver.find_element(By.LINK_TEXT, "経営指標").click()
    wait_for(driver, lambda found: found.current_url.endswith("/dashboard"))
    phone = driver.find_element(By.CSS_SELECTOR, "svg[aria-labelledby^='phone-title']")
    assert phone.size["width"] > 300
    lines = phone.find_elements(By.CSS_SELECTOR, "g.series")
    assert [line.get_attribute("data-name") for line in lines] == [
        "着信",
        "応答",
        "予約依頼",
        "要折り返し",
        "回収済み",
    ]
    assert len(lines[0].find_elements(By.CSS_SELECTOR, "circle.point")) == 12
    lost = driver.find_element(By.ID, "lost-calls").text
    assert "1件" in lost
    assert "約500,000円" in lost
