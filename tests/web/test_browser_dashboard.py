"""The dashboard in a real headless Chromium: the real app served by uvicorn on 127.0.0.1,
on a real database with real commits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from backend import booking
from backend.app import create_app
from backend.db import Database
from backend.models import Booking, BookingStatus, OutboxMessage, Source
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

LINE_USER = "U" + "b" * 32


@dataclass
class Site:
    url: str
    database: Database
    request_id: int
    confirmed_id: int


@pytest.fixture
def site(committed: Database, driver: Any) -> Iterator[Site]:
    with committed.transaction() as session:
        clinic = make_clinic(session)
        staff = make_staff(session, clinic, name="鈴木 一郎")
        make_bed(session, clinic)
        course = make_course(session, clinic)
        hanako = make_patient(session, clinic, line_user_id=LINE_USER)
        taro = make_patient(
            session, clinic, name="田中 太郎", kana="タナカ タロウ", phone="+819011112222"
        )
        request = make_booking(
            session, patient=hanako, course=course, starts_at=jst(2026, 11, 30, 10)
        )
        confirmed = make_booking(
            session,
            patient=taro,
            course=course,
            starts_at=jst(2026, 11, 30, 16),
            source=Source.STAFF,
            staff=staff,
        )
        booking.complete(session, booking_id=confirmed.id, actor="test", now=jst(2026, 11, 30, 17))
        ids = (request.id, confirmed.id)
    app = create_app(
        web_settings(database_url=str(committed.engine.url)), store=committed, clock=lambda: NOW
    )
    served: Served = serve_in_thread(app)
    try:
        yield Site(served.url, committed, *ids)
    finally:
        # Cookies belong to 127.0.0.1 whatever the port: forget them while still on it.
        driver.delete_all_cookies()
        driver.get("about:blank")
        served.stop()


def wait_for(driver: Any, condition: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS).until(condition)


def sign_in(driver: Any, site: Site, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{site.url}/login")
    field = driver.find_element(By.ID, "password")
    field.send_keys(password)
    button = driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button")
    button.click()
    browser.gone(driver, button)


def test_signing_in_wrong_then_right_and_out(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{site.url}/dashboard")
    assert driver.current_url == f"{site.url}/login"
    sign_in(driver, site, "wrong password")
    assert (
        "パスワードが正しくありません" in driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    )
    sign_in(driver, site, PASSWORD)
    assert driver.current_url == f"{site.url}/"
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("2026年11月30日（月）の予約")
    logout = driver.find_element(By.CSS_SELECTOR, "form.logout button")
    logout.click()
    browser.gone(driver, logout)
    assert "ログアウトしました" in driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    driver.get(f"{site.url}/")
    assert driver.current_url == f"{site.url}/login"


def test_approving_a_request_in_the_browser(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By

    sign_in(driver, site, PASSWORD)
    day = driver.find_element(By.CSS_SELECTOR, "table.today").text
    assert "田中 太郎" in day
    assert "来院済み" in day
    row = driver.find_element(By.ID, f"request-{site.request_id}")
    assert "佐藤 花子" in row.text
    approve = row.find_element(By.CSS_SELECTOR, "button.approve")
    approve.click()
    browser.gone(driver, approve)
    assert "承認しました" in driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert not driver.find_elements(By.ID, f"request-{site.request_id}")
    with site.database.reader() as session:
        assert session.get(Booking, site.request_id).status == BookingStatus.CONFIRMED  # type: ignore[union-attr]
        sent = session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.purpose == "patient:confirmed")
        ).all()
    assert sent == [LINE_USER]


def test_the_dashboard_draws_svg_charts(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By

    sign_in(driver, site, PASSWORD)
    driver.find_element(By.LINK_TEXT, "経営指標").click()
    wait_for(driver, lambda found: found.current_url.endswith("/dashboard"))
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart-svg")
    assert len(charts) == 13  # the month charts, then phone, LTV, days, backlog
    bars = charts[0].find_elements(By.CSS_SELECTOR, "rect.bar")
    assert len(bars) == 12
    heights = [float(bar.get_attribute("height")) for bar in bars]
    assert heights[-1] == max(heights) > 0  # November's one visit, the other months none
    assert len(charts[1].find_elements(By.CSS_SELECTOR, "rect.bar")) == 36  # 3 kinds × 12
    points = charts[2].find_elements(By.CSS_SELECTOR, "g.series circle.point")
    assert len(points) == 1  # 来院頻度 only where there were patients: November
    assert charts[2].find_elements(By.CSS_SELECTOR, "g.guide line")
    assert charts[0].size["width"] > 300  # laid out and drawn, not just in the markup
    summary = driver.find_element(By.CSS_SELECTOR, ".chart details summary")
    summary.click()
    assert driver.find_element(By.CSS_SELECTOR, ".chart details table").is_displayed()
