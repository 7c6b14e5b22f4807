"""Clinics and the picker lists: courses, staff and media."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.models import Media
from tests.factories import make_clinic, make_course, make_staff


@pytest.fixture
def clinic(session: Session):
    return make_clinic(session)


def test_list_and_show_clinics(client: TestClient, clinic) -> None:
    listed = client.get("/api/clinics")
    assert listed.status_code == 200
    assert {"id": clinic.id, "name": "テスト整骨院"}.items() <= listed.json()[-1].items()
    shown = client.get(f"/api/clinics/{clinic.id}").json()
    assert (shown["timezone"], shown["slot_step_minutes"], shown["auto_approve"]) == (
        "Asia/Tokyo",
        15,
        False,
    )
    assert len(shown["opening_hours"]) == 11
    assert shown["opening_hours"][0] == {
        "weekday": 0,
        "opens_at": "09:00:00",
        "closes_at": "12:00:00",
    }
    assert shown["opening_hours"][-1] == {
        "weekday": 5,
        "opens_at": "09:00:00",
        "closes_at": "14:00:00",
    }


def test_pickers_list_active_rows_in_order(client: TestClient, session: Session, clinic) -> None:
    make_course(session, clinic, name="保険施術", sort_order=2)
    make_course(session, clinic, name="骨盤矯正", sort_order=1)
    make_course(session, clinic, name="旧メニュー", active=False)
    make_staff(session, clinic, name="山田 太郎", kana="ヤマダ タロウ")
    make_staff(session, clinic, name="退職者", active=False)
    session.add_all(
        [
            Media(clinic_id=clinic.id, name="ホットペッパー"),
            Media(clinic_id=clinic.id, name="旧チラシ", active=False),
        ]
    )
    session.flush()
    base = f"/api/clinics/{clinic.id}"
    courses = client.get(f"{base}/courses").json()
    assert [course["name"] for course in courses] == ["骨盤矯正", "保険施術"]
    assert (courses[0]["minutes"], courses[0]["payment_kind"]) == (30, "self_pay")
    staff = client.get(f"{base}/staff").json()
    assert [(member["name"], member["role"]) for member in staff] == [("山田 太郎", "practitioner")]
    assert [media["name"] for media in client.get(f"{base}/media").json()] == ["ホットペッパー"]


@pytest.mark.parametrize("suffix", ["", "/courses", "/staff", "/media"])
def test_unknown_clinics(client: TestClient, suffix: str) -> None:
    assert client.get(f"/api/clinics/999999{suffix}").status_code == 404
    assert client.get(f"/api/clinics/999999{suffix}").json()["field"] == "clinic_id"
    for bad in ("0", "-1", str(2**31), "abc", "1.5", "%00"):
        response = client.get(f"/api/clinics/{bad}{suffix}")
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["path", "clinic_id"]
