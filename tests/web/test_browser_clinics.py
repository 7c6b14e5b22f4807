"""Choosing the clinic in the header, in a real headless Chromium: the real app served by
uvicorn on 127.0.0.1, on a real database with real commits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.app import create_app
from backend.db import Database
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
from tests.web.conftest import web_settings
from tests.web.test_browser_media import Site, sign_in, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def site(committed: Database, driver: Any) -> Iterator[Site]:
    """Two branches; a request waits at the second one."""
    with committed.transaction() as session:
        make_clinic(session, name="本院整骨院")
        station = make_clinic(session, name="駅前整骨院", phone="+81312340000")
        patient = make_patient(session, station, name="駅前 太郎")
        make_staff(session, station)
        make_bed(session, station)
        course = make_course(session, station)
        make_booking(session, patient=patient, course=course, starts_at=jst(2026, 11, 30, 10))
    app = create_app(
        web_settings(database_url=str(committed.engine.url)), store=committed, clock=lambda: NOW
    )
    served: Served = serve_in_thread(app)
    try:
        yield Site(served.url, 0)
    finally:
        driver.delete_all_cookies()
        driver.get("about:blank")
        served.stop()


def test_staff_switch_to_another_branch_and_stay_on_it(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    sign_in(driver, site)
    driver.find_element(By.LINK_TEXT, "承認待ち").click()
    wait_for(driver, lambda found: found.current_url.endswith("/bookings/requests"))
    assert "駅前 太郎" not in driver.find_element(By.TAG_NAME, "main").text
    chooser = Select(driver.find_element(By.ID, "clinic-choice"))
    assert chooser.first_selected_option.text == "本院整骨院"

    chooser.select_by_visible_text("駅前整骨院")
    button = driver.find_element(By.CSS_SELECTOR, "form[action='/clinic'] button")
    button.click()
    browser.gone(driver, button)

    assert driver.current_url.endswith("/bookings/requests")  # the same section
    assert "駅前 太郎" in driver.find_element(By.TAG_NAME, "main").text
    driver.find_element(By.LINK_TEXT, "今日の予約").click()
    wait_for(driver, lambda found: found.current_url.rstrip("/") == site.url)
    assert "駅前整骨院" in driver.find_element(By.TAG_NAME, "h1").text
    chosen = Select(driver.find_element(By.ID, "clinic-choice")).first_selected_option
    assert chosen.text == "駅前整骨院"
