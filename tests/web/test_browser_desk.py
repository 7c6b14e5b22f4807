"""受付 on the today page in a real headless Chromium: the real app served by uvicorn on
127.0.0.1, on a real database with real commits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from backend.app import create_app
from backend.db import Database
from backend.models import Booking, BookingStatus, Source, Visit
from backend.serving import Served, serve_in_thread
from tests.factories import (
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
from tests.web.test_browser_media import Site, sign_in

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Desk:
    site: Site
    booking_id: int


@pytest.fixture
def desk(committed: Database, driver: Any) -> Iterator[Desk]:
    """A confirmed 9:00 booking of a 4,400円 self-pay course; the clock says 11:00."""
    with committed.transaction() as session:
        clinic = make_clinic(session)
        staff = make_staff(session, clinic)
        make_bed(session, clinic)
        patient = make_patient(session, clinic, name="受付 花子")
        booked = make_booking(
            session,
            patient=patient,
            course=make_course(session, clinic),
            starts_at=jst(2026, 11, 30, 9),
            source=Source.STAFF,
            staff=staff,
        )
    app = create_app(
        web_settings(database_url=str(committed.engine.url)),
        store=committed,
        clock=lambda: jst(2026, 11, 30, 11),
    )
    served: Served = serve_in_thread(app)
    try:
        yield Desk(Site(served.url, 0), booked.id)
    finally:
        driver.delete_all_cookies()
        driver.get("about:blank")
        served.stop()


def test_the_desk_records_an_arrival_after_a_wrong_amount(
    driver: Any, desk: Desk, committed: Database
) -> None:
    from selenium.webdriver.common.by import By

    booking_id = desk.booking_id
    sign_in(driver, desk.site)
    row = driver.find_element(By.ID, f"booking-{booking_id}")
    field = row.find_element(By.ID, f"self_pay-{booking_id}")
    assert not field.is_displayed()  # folded until staff open it
    row.find_element(By.CSS_SELECTOR, "details.checkin summary").click()
    assert field.get_attribute("value") == "4400"
    field.clear()
    field.send_keys("４４００えん")
    button = row.find_element(By.CSS_SELECTOR, "form.checkin-form button")
    button.click()
    browser.gone(driver, button)

    field = driver.find_element(By.ID, f"self_pay-{booking_id}")
    assert field.is_displayed()  # the form is open again, with what was typed
    assert field.get_attribute("value") == "４４００えん"
    assert field.get_attribute("aria-invalid") == "true"
    assert (
        "来院はまだ記録されていません" in driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    )

    field.clear()
    field.send_keys("４，４００")
    button = driver.find_element(By.CSS_SELECTOR, f"#booking-{booking_id} form.checkin-form button")
    button.click()
    browser.gone(driver, button)

    assert "来院を記録しました" in driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    row = driver.find_element(By.ID, f"booking-{booking_id}")
    assert "来院済み" in row.text
    assert "4,400円" in row.text
    assert "窓口でのお会計 4,400円" in driver.find_element(By.ID, "takings").text
    with committed.reader() as session:
        booked = session.get(Booking, booking_id)
        assert booked is not None
        assert booked.status == BookingStatus.COMPLETED
        paid = session.scalars(select(Visit.self_pay_yen).where(Visit.booking_id == booking_id))
        assert list(paid) == [4400]


def arrive_as_offered(driver: Any, desk: Desk) -> None:
    """Sign in and record the booking's 来院 with the amounts the form offers."""
    from selenium.webdriver.common.by import By

    sign_in(driver, desk.site)
    row = driver.find_element(By.ID, f"booking-{desk.booking_id}")
    row.find_element(By.CSS_SELECTOR, "details.checkin summary").click()
    button = row.find_element(By.CSS_SELECTOR, "form.checkin-form button")
    button.click()
    browser.gone(driver, button)


def test_the_desk_books_the_next_visit_from_the_karte(
    driver: Any, desk: Desk, committed: Database
) -> None:
    from selenium.webdriver.common.by import By

    arrive_as_offered(driver, desk)

    link = driver.find_element(By.LINK_TEXT, "次回のご予約")
    link.click()
    browser.gone(driver, link)
    day = driver.find_element(By.ID, "book-day")
    assert day.is_displayed()  # the section is open
    assert day.get_attribute("value") == "2026-12-07"  # the course's 7 days on
    button = driver.find_element(By.CSS_SELECTOR, "form.book-form button")
    button.click()
    browser.gone(driver, button)

    assert "2026年12月7日（月）の空き時間" in driver.find_element(By.ID, "book-result").text
    slot = driver.find_element(By.XPATH, "//button[@class='slot' and text()='15:00']")
    slot.click()
    browser.gone(driver, slot)

    assert "ご予約を入れました" in driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    upcoming = driver.find_element(By.CSS_SELECTOR, "table.bookings").text
    assert "2026年12月7日" in upcoming
    assert "15:00" in upcoming
    with committed.reader() as session:
        patient_id = session.get(Booking, desk.booking_id).patient_id  # type: ignore[union-attr]
        made = session.scalars(
            select(Booking).where(Booking.patient_id == patient_id, Booking.id != desk.booking_id)
        ).one()
        assert made.status == BookingStatus.CONFIRMED
        assert made.starts_at == jst(2026, 12, 7, 15)


def test_a_visits_entry_is_written_then_corrected_with_its_history(
    driver: Any, desk: Desk, committed: Database
) -> None:
    from selenium.webdriver.common.by import By

    arrive_as_offered(driver, desk)
    link = driver.find_element(By.LINK_TEXT, "受付 花子")
    link.click()
    browser.gone(driver, link)
    link = driver.find_element(By.CSS_SELECTOR, "table.visits a")
    link.click()
    browser.gone(driver, link)

    assert driver.find_element(By.ID, "r-reason").get_attribute("value") == "記入"
    driver.find_element(By.ID, "r-injury_part").send_keys("右肩")
    driver.find_element(By.ID, "r-symptoms").send_keys("挙上時の痛み")
    button = driver.find_element(By.CSS_SELECTOR, "form.record-form button")
    button.click()
    browser.gone(driver, button)
    assert "施術録を保存しました" in driver.find_element(By.CSS_SELECTOR, "[role=status]").text

    part = driver.find_element(By.ID, "r-injury_part")
    part.clear()
    part.send_keys("左肩")
    button = driver.find_element(By.CSS_SELECTOR, "form.record-form button")
    button.click()
    browser.gone(driver, button)
    assert "理由を入力してください" in driver.find_element(By.ID, "r-reason-error").text
    assert driver.find_element(By.ID, "r-injury_part").get_attribute("value") == "左肩"

    driver.find_element(By.ID, "r-reason").send_keys("左右の書き誤り")
    button = driver.find_element(By.CSS_SELECTOR, "form.record-form button")
    button.click()
    browser.gone(driver, button)
    history = driver.find_element(By.CSS_SELECTOR, "table.history").text
    assert "左右の書き誤り" in history
    assert "右肩 → 左肩" in history
    with committed.reader() as session:
        visit = session.scalars(select(Visit).where(Visit.booking_id == desk.booking_id)).one()
        assert visit.injury_part == "左肩"
        assert visit.symptoms == "挙上時の痛み"
