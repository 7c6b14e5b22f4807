"""A deployment with several clinics: the header offers them, the browser keeps its choice,
and every page and form works on the chosen clinic only."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.models import Booking, BookingStatus, Patient
from backend.web import clinics
from tests.factories import (
    jst,
    make_bed,
    make_booking,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)
from tests.web.conftest import sign_in

CHOOSER = 'action="/clinic"'


@dataclass
class Branches:
    main_patient: Patient
    station_patient: Patient
    station_request: Booking
    station_id: int
    main_id: int


@pytest.fixture
def branches(session: Session) -> Branches:
    main = make_clinic(session, name="本院整骨院")
    station = make_clinic(session, name="駅前整骨院", phone="+81312340000")
    main_patient = make_patient(session, main, name="本院 花子", kana="ホンイン ハナコ")
    station_patient = make_patient(session, station, name="駅前 太郎", kana="エキマエ タロウ")
    make_staff(session, station)
    make_bed(session, station)
    request = make_booking(
        session,
        patient=station_patient,
        course=make_course(session, station),
        starts_at=jst(2026, 11, 30, 10),
    )
    return Branches(main_patient, station_patient, request, station.id, main.id)


def choose(web: TestClient, token: str, clinic_id: object, back: str = "/") -> str:
    answer = web.post("/clinic", data={"clinic_id": str(clinic_id), "csrf": token, "back": back})
    assert answer.status_code == 303
    return answer.headers["location"]


def test_with_one_clinic_the_header_offers_no_choice(web: TestClient, session: Session) -> None:
    make_clinic(session)
    sign_in(web)
    assert CHOOSER not in web.get("/").text


def test_the_first_clinic_is_shown_until_another_is_chosen(
    web: TestClient, branches: Branches
) -> None:
    sign_in(web)
    page = web.get("/").text
    assert "<small>本院整骨院</small>" in page
    assert CHOOSER in page
    assert f'<option value="{branches.main_id}" selected>本院整骨院</option>' in page
    assert "本院 花子" in web.get("/patients", params={"q": "本院"}).text
    assert "駅前 太郎" not in web.get("/patients", params={"q": "駅前"}).text


def test_staff_choose_a_branch_and_every_page_and_form_works_on_it(
    web: TestClient, session: Session, branches: Branches
) -> None:
    token = sign_in(web)
    # From a patient of the first clinic: back to the search, not to that patient.
    where = choose(web, token, branches.station_id, back=f"/patients/{branches.main_patient.id}")
    assert where == "/patients"
    assert web.cookies.get(clinics.COOKIE) == str(branches.station_id)

    assert "<small>駅前整骨院</small>" in web.get("/").text
    assert "駅前 太郎" in web.get("/patients", params={"q": "駅前"}).text
    assert "本院 花子" not in web.get("/patients", params={"q": "本院"}).text
    assert web.get(f"/patients/{branches.main_patient.id}").status_code == 404
    assert web.get(f"/patients/{branches.station_patient.id}").status_code == 200
    assert "駅前 太郎" in web.get("/bookings/requests").text

    answer = web.post(f"/bookings/{branches.station_request.id}/approve", data={"csrf": token})
    assert answer.headers["location"] == "/?notice=approved"
    session.expire_all()
    assert session.get(Booking, branches.station_request.id).status == BookingStatus.CONFIRMED  # type: ignore[union-attr]


def test_a_request_of_the_clinic_not_shown_is_not_answered_from_the_page(
    web: TestClient, session: Session, branches: Branches
) -> None:
    token = sign_in(web)  # the first clinic is shown
    answer = web.post(f"/bookings/{branches.station_request.id}/approve", data={"csrf": token})
    assert answer.headers["location"] == "/?notice=gone"
    session.expire_all()
    assert session.get(Booking, branches.station_request.id).status == BookingStatus.REQUESTED  # type: ignore[union-attr]


def test_an_unknown_clinic_is_refused_and_the_choice_stays(
    web: TestClient, branches: Branches
) -> None:
    token = sign_in(web)
    choose(web, token, branches.station_id)
    for unknown in ("99999", "abc", "", "１"):
        assert choose(web, token, unknown, back="/dashboard") == "/dashboard?notice=clinic_gone"
    assert web.cookies.get(clinics.COOKIE) == str(branches.station_id)
    assert "その院は見つかりませんでした" in web.get("/dashboard?notice=clinic_gone").text


@pytest.mark.parametrize("kept", ["99999", "abc", "-1", "9" * 30])
def test_a_cookie_naming_no_clinic_shows_the_first(
    web: TestClient, branches: Branches, kept: str
) -> None:
    sign_in(web)
    web.cookies.set(clinics.COOKIE, kept)
    assert "<small>本院整骨院</small>" in web.get("/").text


def test_choosing_needs_the_pages_form_token_and_a_signed_in_browser(
    web: TestClient, branches: Branches
) -> None:
    answer = web.post("/clinic", data={"clinic_id": str(branches.station_id), "csrf": "x"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    sign_in(web)
    answer = web.post("/clinic", data={"clinic_id": str(branches.station_id), "csrf": "forged"})
    assert answer.status_code == 403
    assert web.cookies.get(clinics.COOKIE) is None


@pytest.mark.parametrize(
    ("back", "to"),
    [
        ("/", "/"),
        ("/bookings/requests", "/bookings/requests"),
        ("/patients/12", "/patients"),
        ("/dashboard", "/dashboard"),
        ("/media", "/media"),
        ("https://evil.example/", "/"),
        ("//evil.example/dashboard", "/"),
    ],
)
def test_after_choosing_the_browser_goes_back_to_the_same_section_only(back: str, to: str) -> None:
    assert clinics.back_to(back) == to
