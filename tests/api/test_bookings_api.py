"""Availability and bookings over the API: every lifecycle route and its refusals."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import (
    jst,
    make_bed,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)

TUESDAY_10 = "2026-12-01T10:00:00+09:00"
TUESDAY_11 = "2026-12-01T11:00:00+09:00"


@pytest.fixture
def world(session: Session) -> SimpleNamespace:
    clinic = make_clinic(session)
    staff = make_staff(session, clinic)
    make_bed(session, clinic)
    course = make_course(session, clinic)
    patient = make_patient(session, clinic)
    return SimpleNamespace(clinic=clinic, staff=staff, course=course, patient=patient)


def book(client: TestClient, world: SimpleNamespace, **overrides: Any) -> dict[str, Any]:
    body = {
        "clinic_id": world.clinic.id,
        "patient_id": world.patient.id,
        "course_id": world.course.id,
        "starts_at": TUESDAY_10,
    } | overrides
    response = client.post("/api/bookings", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def refused_fields(response: Any) -> set[str]:
    """The fields a 422 names, in FastAPI's shape or the domain's."""
    body = response.json()
    if isinstance(body["detail"], list):
        return {str(error["loc"][-1]) for error in body["detail"]}
    return {body["field"]}


def availability(client: TestClient, world: SimpleNamespace, **params: Any) -> Any:
    query = {
        "clinic_id": world.clinic.id,
        "course_id": world.course.id,
        "first_day": "2026-12-01",
        "last_day": "2026-12-01",
    } | params
    return client.get("/api/availability", params=query)


def test_availability_lists_starts_in_the_clinic_zone(client: TestClient, world) -> None:
    response = availability(client, world, staff_id=world.staff.id)
    assert response.status_code == 200
    body = response.json()
    assert body["zone"] == "Asia/Tokyo"
    assert body["staff_id"] == world.staff.id
    assert body["starts"][:2] == ["2026-12-01T09:00:00+09:00", "2026-12-01T09:15:00+09:00"]
    assert "2026-12-01T11:45:00+09:00" not in body["starts"]  # 30 minutes do not fit before 12


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"last_day": "2026-11-30"}, 422, "last_day"),
        ({"last_day": "2027-03-01"}, 422, "last_day"),
        ({"first_day": "0001-01-01"}, 422, "first_day"),
        ({"first_day": "yesterday"}, 422, "first_day"),
        ({"course_id": 2**31}, 422, "course_id"),
        ({"course_id": 999_999}, 404, "course_id"),
        ({"staff_id": 999_999}, 404, "staff_id"),
        ({"clinic_id": 999_999}, 404, "clinic_id"),
    ],
)
def test_availability_refusals(client: TestClient, world, params, status, field) -> None:
    response = availability(client, world, **params)
    assert response.status_code == status
    assert refused_fields(response) == {field}


def test_a_request_waits_for_staff_and_staff_bookings_are_confirmed(
    client: TestClient, world
) -> None:
    requested = book(client, world, note="初診")
    assert (requested["status"], requested["awaiting"], requested["source"]) == (
        "requested",
        "staff",
        "api",
    )
    assert requested["starts_at"] == TUESDAY_10
    assert requested["ends_at"] == "2026-12-01T10:30:00+09:00"
    assert requested["hold_until"] == "2026-12-01T08:00:00+09:00"
    assert [change["to_status"] for change in requested["changes"]] == ["requested"]
    confirmed = book(client, world, starts_at=TUESDAY_11, source="staff")
    assert confirmed["status"] == "confirmed"


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"starts_at": "2026-12-06T10:00:00+09:00"}, 409, "slot_unavailable"),  # Sunday
        ({"starts_at": "2026-11-30T08:30:00+09:00"}, 409, "slot_unavailable"),  # lead time
        ({"starts_at": "2026-12-01T10:00:30+09:00"}, 422, "invalid"),
        ({"patient_id": 999_999}, 404, "not_found"),
        ({"course_id": 999_999}, 404, "not_found"),
    ],
)
def test_booking_refusals_carry_a_code(
    client: TestClient, world, overrides, status: int, code: str
) -> None:
    body = {
        "clinic_id": world.clinic.id,
        "patient_id": world.patient.id,
        "course_id": world.course.id,
        "starts_at": TUESDAY_10,
    } | overrides
    response = client.post("/api/bookings", json=body)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_a_patient_of_another_clinic_cannot_be_booked(
    client: TestClient, session: Session, world
) -> None:
    stranger = make_patient(session, make_clinic(session, name="別の院"))
    body = {
        "clinic_id": world.clinic.id,
        "patient_id": stranger.id,
        "course_id": world.course.id,
        "starts_at": TUESDAY_10,
    }
    response = client.post("/api/bookings", json=body)
    assert response.status_code == 404
    assert response.json()["field"] == "patient_id"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_at": "2026-12-01T10:00:00"}, "starts_at"),
        ({"starts_at": "0001-01-01T10:00:00+09:00"}, "starts_at"),
        ({"source": "fax"}, "source"),
        ({"patient_id": "one"}, "patient_id"),
        ({"clinic_id": 2**40}, "clinic_id"),
        ({"note": "\x00"}, "note"),
        ({"staff": 1}, "staff"),
    ],
)
def test_bad_booking_input_names_the_field(client: TestClient, world, overrides, field) -> None:
    body = {
        "clinic_id": world.clinic.id,
        "patient_id": world.patient.id,
        "course_id": world.course.id,
        "starts_at": TUESDAY_10,
    } | overrides
    response = client.post("/api/bookings", json=body)
    assert response.status_code == 422
    assert field in refused_fields(response)


def test_list_filters_bookings(client: TestClient, world) -> None:
    first = book(client, world)
    second = book(client, world, starts_at=TUESDAY_11, source="staff")
    clinic = {"clinic_id": world.clinic.id}

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/bookings", params=clinic | params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()]

    assert ids() == [first["id"], second["id"]]
    assert ids(status="confirmed") == [second["id"]]
    assert ids(patient_id=world.patient.id, limit=1) == [first["id"]]
    assert ids(**{"from": TUESDAY_11}) == [second["id"]]
    assert ids(to=TUESDAY_11) == [first["id"]]
    assert client.get("/api/bookings", params=clinic | {"status": "lost"}).status_code == 422
    assert client.get("/api/bookings", params=clinic | {"limit": 10**6}).status_code == 422
    naive = client.get("/api/bookings", params=clinic | {"from": "2026-12-01T10:00:00"})
    assert refused_fields(naive) == {"from"}
    assert client.get("/api/bookings").status_code == 422
    assert client.get("/api/bookings", params={"clinic_id": 999_999}).status_code == 404


def test_show_a_booking_with_its_history(client: TestClient, world) -> None:
    made = book(client, world)
    client.post(f"/api/bookings/{made['id']}/confirm")
    shown = client.get(f"/api/bookings/{made['id']}").json()
    assert [(c["from_status"], c["to_status"]) for c in shown["changes"]] == [
        (None, "requested"),
        ("requested", "confirmed"),
    ]
    assert shown["changes"][1]["actor"] == "api"
    assert client.get("/api/bookings/999999").status_code == 404
    assert client.get("/api/bookings/0").status_code == 422


def test_confirm_twice_is_an_illegal_transition(client: TestClient, world) -> None:
    made = book(client, world)
    assert client.post(f"/api/bookings/{made['id']}/confirm").json()["status"] == "confirmed"
    again = client.post(f"/api/bookings/{made['id']}/confirm")
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    assert again.json()["status"] == "confirmed"


def test_decline_with_and_without_a_reason(client: TestClient, world) -> None:
    made = book(client, world)
    declined = client.post(f"/api/bookings/{made['id']}/decline", json={"reason": "満床"})
    assert declined.json()["status"] == "declined"
    assert declined.json()["changes"][-1]["reason"] == "満床"
    other = book(client, world, starts_at=TUESDAY_11)
    assert client.post(f"/api/bookings/{other['id']}/decline").json()["status"] == "declined"
    again = client.post(f"/api/bookings/{other['id']}/decline")
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"


def test_propose_then_accept(client: TestClient, world) -> None:
    made = book(client, world)
    assert client.post(f"/api/bookings/{made['id']}/accept").json()["code"] == (
        "illegal_transition"
    )
    proposed = client.post(f"/api/bookings/{made['id']}/propose", json={"starts_at": TUESDAY_11})
    assert proposed.status_code == 200, proposed.text
    assert (proposed.json()["awaiting"], proposed.json()["starts_at"]) == ("patient", TUESDAY_11)
    assert client.post(f"/api/bookings/{made['id']}/confirm").status_code == 409
    accepted = client.post(f"/api/bookings/{made['id']}/accept")
    assert (accepted.json()["status"], accepted.json()["awaiting"]) == ("confirmed", None)
    missing = client.post(f"/api/bookings/{made['id']}/propose", json={})
    assert refused_fields(missing) == {"starts_at"}


def test_cancel_by_patient_respects_the_deadline(client: TestClient, world, clock) -> None:
    made = book(client, world, source="staff")
    clock[0] = jst(2026, 12, 1, 8)
    late = client.post(f"/api/bookings/{made['id']}/cancel", json={"by": "patient"})
    assert late.status_code == 409
    assert late.json()["code"] == "deadline_passed"
    assert late.json()["phone"] == "+81312345678"
    by_system = client.post(f"/api/bookings/{made['id']}/cancel", json={"by": "system"})
    assert refused_fields(by_system) == {"by"}
    cancelled = client.post(f"/api/bookings/{made['id']}/cancel", json={"reason": "院の都合"})
    assert (cancelled.json()["status"], cancelled.json()["cancelled_by"]) == ("cancelled", "staff")
    assert cancelled.json()["cancelled_at"] == "2026-12-01T08:00:00+09:00"


def test_reschedule(client: TestClient, world) -> None:
    made = book(client, world, source="staff")
    moved = client.post(
        f"/api/bookings/{made['id']}/reschedule", json={"starts_at": TUESDAY_11, "by": "patient"}
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["starts_at"]) == ("requested", TUESDAY_11)
    no_time = client.post(f"/api/bookings/{made['id']}/reschedule", json={"by": "staff"})
    assert refused_fields(no_time) == {"starts_at"}
    closed = client.post(
        f"/api/bookings/{made['id']}/reschedule",
        json={"starts_at": "2026-12-06T10:00:00+09:00"},
    )
    assert closed.json()["code"] == "slot_unavailable"


def test_no_show_only_after_the_start(client: TestClient, world, clock) -> None:
    made = book(client, world, source="staff")
    early = client.post(f"/api/bookings/{made['id']}/no-show")
    assert (early.status_code, early.json()["code"]) == (409, "illegal_transition")
    clock[0] = jst(2026, 12, 1, 10, 30)
    assert client.post(f"/api/bookings/{made['id']}/no-show").json()["status"] == "no_show"


def test_complete_creates_the_visit_with_payments(client: TestClient, world, clock) -> None:
    made = book(client, world, source="staff")
    assert client.post(f"/api/bookings/{made['id']}/complete").status_code == 409
    clock[0] = jst(2026, 12, 1, 10, 30)
    negative = client.post(
        f"/api/bookings/{made['id']}/complete", json={"payments": {"self_pay_yen": -1}}
    )
    assert refused_fields(negative) == {"self_pay_yen"}
    done = client.post(
        f"/api/bookings/{made['id']}/complete",
        json={"payments": {"self_pay_yen": 400, "ticket_yen": 4000}},
    )
    assert done.status_code == 200, done.text
    visit = done.json()["visit"]
    assert (visit["booking_id"], visit["self_pay_yen"], visit["ticket_yen"]) == (
        made["id"],
        400,
        4000,
    )
    assert visit["revenue_yen"] == 4400
    assert done.json()["booking"]["status"] == "completed"


@pytest.mark.parametrize(
    "operation", ["confirm", "decline", "accept", "cancel", "no-show", "complete"]
)
def test_transitions_of_an_unknown_booking_are_404(client: TestClient, operation: str) -> None:
    response = client.post(f"/api/bookings/999999/{operation}")
    assert response.status_code == 404
    assert response.json()["field"] == "booking_id"
