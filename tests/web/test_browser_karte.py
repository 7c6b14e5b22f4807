"""The カルテ pages in a real headless Chromium: find a patient, open the カルテ, edit a
note and her name, birthday, gender and 来院経路; the real app served by uvicorn on a real
database with real commits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from backend import visits
from backend.app import create_app
from backend.db import Database
from backend.models import AuditAction, AuditLog, Gender, Media, Patient
from backend.serving import Served, serve_in_thread
from tests.factories import NOW, jst, make_bed, make_clinic, make_course, make_patient, make_staff
from tests.web import browser
from tests.web.conftest import PASSWORD, web_settings

pytestmark = pytest.mark.browser


@dataclass
class Site:
    url: str
    database: Database
    patient_id: int


@pytest.fixture
def site(committed: Database, driver: Any) -> Iterator[Site]:
    with committed.transaction() as session:
        clinic = make_clinic(session)
        staff = make_staff(session, clinic, name="鈴木 一郎")
        make_bed(session, clinic)
        course = make_course(session, clinic)
        session.add_all(
            [
                Media(clinic_id=clinic.id, name="ホームページ", sort_order=1),
                Media(clinic_id=clinic.id, name="チラシ", sort_order=2),
            ]
        )
        hanako = make_patient(session, clinic, name_verified=False)  # taken from a call
        make_patient(session, clinic, name="田中 太郎", kana="タナカ タロウ", phone="+819011112222")
        visits.record(
            session,
            clinic_id=clinic.id,
            patient_id=hanako.id,
            actor="test",
            now=NOW,
            visited_at=jst(2026, 11, 27, 10),
            staff_id=staff.id,
            course_id=course.id,
        )
        patient_id = hanako.id
    app = create_app(
        web_settings(database_url=str(committed.engine.url)), store=committed, clock=lambda: NOW
    )
    served: Served = serve_in_thread(app)
    try:
        yield Site(served.url, committed, patient_id)
    finally:
        # Cookies belong to 127.0.0.1 whatever the port: forget them while still on it.
        driver.delete_all_cookies()
        driver.get("about:blank")
        served.stop()


def click_and_wait(driver: Any, element: Any) -> None:
    element.click()
    browser.gone(driver, element)


def sign_in(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{site.url}/login")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))


def open_karte(driver: Any, site: Site) -> None:
    """Find 佐藤 花子 by her name in hiragana and open her カルテ."""
    from selenium.webdriver.common.by import By

    sign_in(driver, site)
    click_and_wait(driver, driver.find_element(By.LINK_TEXT, "患者カルテ"))
    driver.find_element(By.ID, "q").send_keys("はなこ")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.search button"))
    rows = driver.find_elements(By.CSS_SELECTOR, "table.patients tbody tr")
    assert len(rows) == 1
    assert "2026年11月27日（金）" in rows[0].text
    click_and_wait(driver, rows[0].find_element(By.LINK_TEXT, "佐藤 花子"))
    assert driver.current_url == f"{site.url}/patients/{site.patient_id}"
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("佐藤 花子さんのカルテ")


def test_finding_a_patient_and_editing_a_note(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    open_karte(driver, site)
    assert "鈴木 一郎" in driver.find_element(By.CSS_SELECTOR, "table.visits").text
    form = driver.find_element(By.CSS_SELECTOR, "form.karte-form")
    assert not form.is_displayed()  # folded until staff ask for it
    driver.find_element(By.CSS_SELECTOR, "details.edit summary").click()
    note = driver.find_element(By.ID, "f-note_hobbies")
    note.send_keys("ゴルフ", Keys.ENTER, "週末は釣り")
    click_and_wait(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert driver.find_element(By.CSS_SELECTOR, "[role=status]").text == "カルテを更新しました。"
    assert "週末は釣り" in driver.find_element(By.CSS_SELECTOR, "dl.notes").text
    with site.database.reader() as session:
        patient = session.get(Patient, site.patient_id)
        assert patient is not None
        assert patient.note_hobbies == "ゴルフ\n週末は釣り"  # the browser's CRLF as one line break
        assert patient.phone == "+819012345678"  # the rest of the form changed nothing
        actions = session.execute(
            select(AuditLog.action, AuditLog.actor, AuditLog.detail)
            .where(AuditLog.patient_id == site.patient_id, AuditLog.actor == "dashboard")
            .order_by(AuditLog.id)
        ).all()
    assert (AuditAction.UPDATE, "dashboard", "fields note_hobbies") in actions
    reads = [detail for action, _, detail in actions if action == AuditAction.READ]
    assert reads.count("search list") == 2  # the latest visitors, then the search for her
    assert len(reads) == 6  # and two views of the カルテ: its page and its visits each


def test_a_bad_phone_number_and_a_half_typed_birthday_are_shown_at_their_fields(
    driver: Any, site: Site
) -> None:
    from selenium.webdriver.common.by import By

    open_karte(driver, site)
    driver.find_element(By.CSS_SELECTOR, "details.edit summary").click()
    phone = driver.find_element(By.ID, "f-phone")
    phone.clear()
    phone.send_keys("090-1234")
    # Half a date must be refused, not sent as "unknown" (which would clear her birthday).
    birthday = driver.find_element(By.ID, "f-birth_on")
    birthday.clear()
    birthday.send_keys("1990-02")
    driver.find_element(By.ID, "f-note_job").send_keys("看護師")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.karte-form button"))
    error = driver.find_element(By.ID, "f-phone-error")
    assert error.is_displayed()
    assert "電話番号として正しくありません" in error.text
    assert "1985-04-01" in driver.find_element(By.ID, "f-birth_on-error").text
    assert driver.find_element(By.ID, "f-phone").get_attribute("value") == "090-1234"
    assert driver.find_element(By.ID, "f-birth_on").get_attribute("value") == "1990-02"
    assert driver.find_element(By.ID, "f-note_job").get_attribute("value") == "看護師"
    with site.database.reader() as session:
        patient = session.get(Patient, site.patient_id)
        assert patient is not None
        assert patient.phone == "+819012345678"
        assert patient.birth_on == date(1985, 4, 1)
        assert patient.note_job is None


def test_editing_her_name_birthday_gender_and_medium(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    open_karte(driver, site)
    driver.find_element(By.CSS_SELECTOR, "details.edit summary").click()
    name = driver.find_element(By.ID, "f-name")
    name.clear()
    name.send_keys("佐藤 華子")
    kana = driver.find_element(By.ID, "f-kana")
    kana.clear()
    kana.send_keys("サトウ ハナ")
    birthday = driver.find_element(By.ID, "f-birth_on")
    assert birthday.get_attribute("value") == "1985-04-01"
    birthday.clear()
    birthday.send_keys("1990-02-03")
    Select(driver.find_element(By.ID, "f-gender")).select_by_visible_text("女性")
    media = Select(driver.find_element(By.ID, "f-media_id"))
    assert [option.text for option in media.options] == ["未設定", "ホームページ", "チラシ"]
    media.select_by_visible_text("チラシ")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.karte-form button"))
    assert driver.find_element(By.CSS_SELECTOR, "[role=status]").text == "カルテを更新しました。"
    identity = driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=identity-heading]")
    for shown in ("佐藤 華子", "サトウ ハナ", "1990年2月3日（36歳）", "女性", "チラシ"):
        assert shown in identity.text
    assert "電話で聞き取った" not in driver.find_element(By.TAG_NAME, "main").text
    with site.database.reader() as session:
        patient = session.get(Patient, site.patient_id)
        assert patient is not None
        assert (patient.name, patient.kana) == ("佐藤 華子", "サトウ ハナ")
        assert patient.birth_on == date(1990, 2, 3)
        assert patient.gender == Gender.FEMALE
        assert patient.media is not None
        assert patient.media.name == "チラシ"
        assert patient.name_verified is True
        assert patient.phone == "+819012345678"  # the rest of the form changed nothing
        last = session.execute(
            select(AuditLog.action, AuditLog.detail)
            .where(AuditLog.patient_id == site.patient_id, AuditLog.action == AuditAction.UPDATE)
            .order_by(AuditLog.id.desc())
        ).first()
    assert tuple(last or ()) == (
        AuditAction.UPDATE,
        "fields birth_on, gender, kana, media_id, name, name_verified",
    )
