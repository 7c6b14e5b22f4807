"""Patients over the API: register, find, open (audited) and change (audited)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import AuditAction, AuditLog, Media
from tests.factories import make_clinic, make_patient


@pytest.fixture
def clinic(session: Session):
    return make_clinic(session, hours=False)


def refused_fields(response: Any) -> set[str]:
    body = response.json()
    if isinstance(body["detail"], list):
        return {str(error["loc"][-1]) for error in body["detail"]}
    return {body["field"]}


def register(client: TestClient, clinic_id: int, /, **fields: Any) -> Any:
    return client.post("/api/patients", json={"clinic_id": clinic_id, "name": "伊藤 舞"} | fields)


def test_register_a_patient(client: TestClient, clinic) -> None:
    response = register(
        client,
        clinic.id,
        kana="イトウ マイ",
        phone="０９０－１２３４－５６７８",
        birth_on="1990-02-03",
        email="mai@example.jp",
        postal_code="150-0001",
        consent_line=True,
        tags=["ママ割"],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phone"] == "+819012345678"
    assert (body["gender"], body["next_visit_likelihood"]) == ("unknown", "unknown")
    assert body["tags"] == ["ママ割"]
    assert body["created_at"] == "2026-11-30T08:00:00+09:00"
    assert body["consent_updated_at"] == "2026-11-30T08:00:00+09:00"
    assert "line_user_id" not in body


def test_kana_typed_in_hiragana_is_stored_in_katakana(client: TestClient, clinic) -> None:
    response = register(client, clinic.id, kana="いとう　まい")
    assert response.status_code == 201, response.text
    assert response.json()["kana"] == "イトウ マイ"
    changed = client.patch(f"/api/patients/{response.json()['id']}", json={"kana": "ｲﾄｳ ﾏｲｺ"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["kana"] == "イトウ マイコ"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": None}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "名" * 101}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"kana": "カ" * 101}, "kana"),
        ({"phone": "not a phone"}, "phone"),
        ({"phone": "0" * 40}, "phone"),
        ({"gender": "robot"}, "gender"),
        ({"birth_on": "0001-01-01"}, "birth_on"),
        ({"birth_on": "1990-02-30"}, "birth_on"),
        ({"email": "nobody"}, "email"),
        ({"postal_code": "1500001x"}, "postal_code"),
        ({"consent_sms": "maybe"}, "consent_sms"),
        ({"tags": "VIP"}, "tags"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"symptoms": "腰痛"}, "symptoms"),
        ({"clinic_id": 2**31}, "clinic_id"),
        ({"media_id": -1}, "media_id"),
    ],
)
def test_bad_patient_input_names_the_field(client: TestClient, clinic, fields, field) -> None:
    response = register(client, clinic.id, **fields)
    assert response.status_code == 422, response.text
    assert field in {name if name != "0" else "tags" for name in refused_fields(response)}


def test_references_must_belong_to_the_clinic(client: TestClient, session: Session, clinic) -> None:
    other = make_clinic(session, hours=False, name="別の院")
    media = Media(clinic_id=other.id, name="ポスティング")
    session.add(media)
    session.flush()
    foreign = register(client, clinic.id, media_id=media.id)
    assert (foreign.status_code, foreign.json()["field"]) == (404, "media_id")
    stranger = make_patient(session, other)
    referred = register(client, clinic.id, referrer_patient_id=stranger.id)
    assert (referred.status_code, referred.json()["field"]) == (404, "referrer_patient_id")
    assert register(client, 999_999).status_code == 404


def test_find_patients_by_kana_in_either_script(
    client: TestClient, session: Session, clinic
) -> None:
    make_patient(session, clinic, name="佐藤 花子", kana="サトウ ハナコ")
    make_patient(session, clinic, name="佐藤 次郎", kana="さとう じろう")
    make_patient(session, clinic, name="木村 拓", kana="キムラ タク")
    response = client.get("/api/patients", params={"clinic_id": clinic.id, "q": "ｻﾄｳ"})
    assert response.status_code == 200
    assert [item["name"] for item in response.json()] == ["佐藤 次郎", "佐藤 花子"]
    assert set(response.json()[0]) == {
        "id",
        "clinic_id",
        "name",
        "kana",
        "phone",
        "birth_on",
        "merged_into_id",
    }
    limited = client.get("/api/patients", params={"clinic_id": clinic.id, "limit": 1})
    assert len(limited.json()) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "clinic_id"),
        ({"clinic_id": "x"}, "clinic_id"),
        ({"clinic_id": 1, "limit": 0}, "limit"),
        ({"clinic_id": 1, "limit": 10**12}, "limit"),
        ({"clinic_id": 1, "q": "\x00"}, "q"),
        ({"clinic_id": 1, "q": "あ" * 201}, "q"),
    ],
)
def test_search_refusals(client: TestClient, params, field) -> None:
    response = client.get("/api/patients", params=params)
    assert response.status_code == 422
    assert refused_fields(response) == {field}


def test_the_api_refuses_in_json_even_to_a_browser(client: TestClient) -> None:
    response = client.get(
        "/api/patients", params={"clinic_id": "x"}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 422
    assert refused_fields(response) == {"clinic_id"}


def test_each_patient_a_search_lists_is_audited(
    client: TestClient, session: Session, clinic
) -> None:
    hanako = make_patient(session, clinic, name="佐藤 花子", kana="サトウ ハナコ")
    jiro = make_patient(session, clinic, name="佐藤 次郎", kana="サトウ ジロウ")
    taku = make_patient(session, clinic, name="木村 拓", kana="キムラ タク")

    response = client.get("/api/patients", params={"clinic_id": clinic.id, "q": "サトウ"})

    assert response.status_code == 200
    entries = session.execute(
        select(AuditLog.patient_id, AuditLog.action, AuditLog.actor, AuditLog.detail)
    ).all()
    assert sorted(tuple(entry) for entry in entries) == sorted(
        (patient.id, AuditAction.READ, "api", "search") for patient in (hanako, jiro)
    )
    assert taku.id not in {entry.patient_id for entry in entries}  # not listed, not read


def test_opening_a_record_is_audited(client: TestClient, session: Session, clinic) -> None:
    patient = make_patient(session, clinic)
    response = client.get(f"/api/patients/{patient.id}")
    assert response.status_code == 200
    assert response.json()["name"] == patient.name
    entry = session.scalars(select(AuditLog).where(AuditLog.patient_id == patient.id)).one()
    assert (entry.action, entry.actor) == (AuditAction.READ, "api")
    assert client.get("/api/patients/999999").status_code == 404
    assert client.get(f"/api/patients/{2**63}").status_code == 422


def test_change_a_record(client: TestClient, session: Session, clinic) -> None:
    patient = make_patient(session, clinic)
    response = client.patch(
        f"/api/patients/{patient.id}",
        json={"phone": None, "note_hobbies": "ゴルフ", "consent_email": True, "tags": ["A"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["phone"], body["note_hobbies"], body["tags"]) == (None, "ゴルフ", ["A"])
    assert body["consent_updated_at"] == "2026-11-30T08:00:00+09:00"
    entry = session.scalars(
        select(AuditLog).where(AuditLog.patient_id == patient.id).order_by(AuditLog.id.desc())
    ).first()
    assert entry.action == AuditAction.UPDATE
    assert entry.detail == "fields consent_email, note_hobbies, phone, tags"
    unchanged = client.patch(f"/api/patients/{patient.id}", json={})
    assert unchanged.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"gender": None}, "gender"),
        ({"tags": None}, "tags"),
        ({"phone": "12"}, "phone"),
        ({"id": 5}, "id"),
        ({"merged_into_id": 5}, "merged_into_id"),
    ],
)
def test_change_refusals_name_the_field(
    client: TestClient, session: Session, clinic, body, field
) -> None:
    patient = make_patient(session, clinic)
    response = client.patch(f"/api/patients/{patient.id}", json=body)
    assert response.status_code == 422
    assert refused_fields(response) == {field}


def test_change_refusals_of_shape_and_state(client: TestClient, session: Session, clinic) -> None:
    patient = make_patient(session, clinic)
    assert client.patch(f"/api/patients/{patient.id}", json=[1]).status_code == 422
    assert client.patch(f"/api/patients/{patient.id}").status_code == 422
    assert client.patch("/api/patients/999999", json={}).status_code == 404
    duplicate = make_patient(session, clinic, merged_into_id=patient.id)
    merged = client.patch(f"/api/patients/{duplicate.id}", json={"note_job": "x"})
    assert (merged.status_code, merged.json()["merged_into_id"]) == (422, patient.id)
