"""Visits over the API: walk-ins, audited reads, and amendments that keep earlier values."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import AuditAction, AuditLog, PaymentKind
from tests.factories import make_clinic, make_course, make_patient, make_staff


@pytest.fixture
def world(session: Session) -> SimpleNamespace:
    clinic = make_clinic(session, hours=False)
    staff = make_staff(session, clinic, shifts=False)
    course = make_course(
        session, clinic, payment_kind=PaymentKind.INSURANCE, price_yen=500, insurance_claim_yen=1500
    )
    patient = make_patient(session, clinic)
    return SimpleNamespace(clinic=clinic, staff=staff, course=course, patient=patient)


def refused_fields(response: Any) -> set[str]:
    body = response.json()
    if isinstance(body["detail"], list):
        return {str(error["loc"][-1]) for error in body["detail"]}
    return {body["field"]}


def walk_in(client: TestClient, world: SimpleNamespace, **fields: Any) -> Any:
    body = {"clinic_id": world.clinic.id, "patient_id": world.patient.id} | fields
    return client.post("/api/visits", json=body)


def test_record_a_walk_in_with_course_defaults(client: TestClient, world) -> None:
    response = walk_in(
        client,
        world,
        course_id=world.course.id,
        staff_id=world.staff.id,
        visited_at="2026-11-30T07:30:00+09:00",
        injury_on="2026-11-29",
        injury_cause="階段で転倒",
        injury_part="右足関節",
    )
    assert response.status_code == 201, response.text
    visit = response.json()
    assert visit["visited_at"] == "2026-11-30T07:30:00+09:00"
    assert (visit["copay_yen"], visit["claim_yen"], visit["self_pay_yen"]) == (500, 1500, 0)
    assert (visit["staff_minutes"], visit["outcome"], visit["amendments"]) == (20, "continuing", [])
    assert visit["booking_id"] is None


def test_a_walk_in_defaults_to_now_and_takes_given_payments(client: TestClient, world) -> None:
    response = walk_in(client, world, payments={"self_pay_yen": 3000}, staff_minutes=15)
    assert response.status_code == 201, response.text
    assert response.json()["visited_at"] == "2026-11-30T08:00:00+09:00"
    assert (response.json()["self_pay_yen"], response.json()["staff_minutes"]) == (3000, 15)


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"visited_at": "2026-11-30T12:00:00+09:00"}, 422, "visited_at"),
        ({"visited_at": "2026-11-30T07:00:00"}, 422, "visited_at"),
        ({"visited_at": "0001-01-01T00:00:00Z"}, 422, "visited_at"),
        ({"staff_minutes": 24 * 60 + 1}, 422, "staff_minutes"),
        ({"payments": {"copay_yen": 10**9}}, 422, "copay_yen"),
        ({"outcome": "better"}, 422, "outcome"),
        ({"booking_id": 1}, 422, "booking_id"),
        ({"patient_id": 999_999}, 404, "patient_id"),
        ({"staff_id": 999_999}, 404, "staff_id"),
        ({"course_id": 999_999}, 404, "course_id"),
        ({"clinic_id": 999_999}, 404, "clinic_id"),
    ],
)
def test_walk_in_refusals_name_the_field(client: TestClient, world, fields, status, field) -> None:
    response = walk_in(client, world, **fields)
    assert response.status_code == status, response.text
    assert refused_fields(response) == {field}


def test_a_patient_of_another_clinic_gets_no_visit_here(
    client: TestClient, session: Session, world
) -> None:
    stranger = make_patient(session, make_clinic(session, hours=False, name="別の院"))
    response = walk_in(client, world, patient_id=stranger.id)
    assert (response.status_code, response.json()["field"]) == (404, "patient_id")


def test_reads_are_listed_newest_first_and_audited(
    client: TestClient, session: Session, world
) -> None:
    older = walk_in(client, world, visited_at="2026-11-20T10:00:00+09:00").json()
    newer = walk_in(client, world, visited_at="2026-11-27T10:00:00+09:00").json()
    listed = client.get("/api/visits", params={"patient_id": world.patient.id})
    assert [visit["id"] for visit in listed.json()] == [newer["id"], older["id"]]
    assert client.get(f"/api/visits/{older['id']}").json()["visited_at"] == (
        "2026-11-20T10:00:00+09:00"
    )
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.patient_id == world.patient.id).order_by(AuditLog.id)
    ).all()
    assert actions[-2:] == [AuditAction.READ, AuditAction.READ]
    assert client.get("/api/visits", params={"patient_id": 999_999}).status_code == 404
    assert refused_fields(client.get("/api/visits")) == {"patient_id"}
    assert client.get("/api/visits/999999").status_code == 404


def test_amend_keeps_the_earlier_values(client: TestClient, world) -> None:
    visit = walk_in(client, world, treatment="電気治療", course_id=world.course.id).json()
    first = client.patch(
        f"/api/visits/{visit['id']}",
        json={
            "reason": "誤記訂正",
            "treatment": "電気治療、テーピング",
            "completed_on": "2026-12-10",
        },
    )
    assert first.status_code == 200, first.text
    second = client.patch(
        f"/api/visits/{visit['id']}",
        json={"reason": "転帰記入", "outcome": "cured", "copay_yen": 0, "treatment": None},
    )
    body = second.json()
    assert (body["treatment"], body["outcome"], body["copay_yen"]) == (None, "cured", 0)
    assert [amendment["changes"] for amendment in body["amendments"]] == [
        {
            "treatment": {"old": "電気治療", "new": "電気治療、テーピング"},
            "completed_on": {"old": None, "new": "2026-12-10"},
        },
        {
            "outcome": {"old": "continuing", "new": "cured"},
            "copay_yen": {"old": 500, "new": 0},
            "treatment": {"old": "電気治療、テーピング", "new": None},
        },
    ]
    assert body["amendments"][0]["at"] == "2026-11-30T08:00:00+09:00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"treatment": "x"}, "reason"),
        ({"reason": "", "treatment": "x"}, "reason"),
        ({"reason": "理由" * 101, "treatment": "x"}, "reason"),
        ({"reason": "r", "outcome": None}, "outcome"),
        ({"reason": "r", "ticket_yen": None}, "ticket_yen"),
        ({"reason": "r", "claim_yen": -5}, "claim_yen"),
        ({"reason": "r", "visited_at": "2026-11-30T08:00:00+09:00"}, "visited_at"),
        ({"reason": "r", "injury_on": "2026-02-30"}, "injury_on"),
        ({"reason": "r", "symptoms": "\x07"}, "symptoms"),
    ],
)
def test_amend_refusals_name_the_field(client: TestClient, world, body, field) -> None:
    visit = walk_in(client, world).json()
    response = client.patch(f"/api/visits/{visit['id']}", json=body)
    assert response.status_code == 422
    assert refused_fields(response) == {field}


def test_amend_an_unknown_visit(client: TestClient) -> None:
    response = client.patch("/api/visits/999999", json={"reason": "r", "progress": "x"})
    assert (response.status_code, response.json()["field"]) == (404, "visit_id")
