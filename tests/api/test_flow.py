"""The whole front-desk path through the API, from a new patient to an amended 施術録."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import AuditAction, AuditLog
from tests.factories import jst, make_bed, make_clinic, make_course, make_staff


def test_patient_to_amended_visit(client: TestClient, session: Session, clock: list) -> None:
    clinic = make_clinic(session)
    make_staff(session, clinic)
    make_bed(session, clinic)
    course = make_course(session, clinic)

    patient = client.post(
        "/api/patients",
        json={
            "clinic_id": clinic.id,
            "name": "鈴木 一郎",
            "kana": "すずき いちろう",
            "phone": "090-1111-2222",
        },
    )
    assert patient.status_code == 201, patient.text
    patient_id = patient.json()["id"]
    assert patient.json()["phone"] == "+819011112222"

    free = client.get(
        "/api/availability",
        params={
            "clinic_id": clinic.id,
            "course_id": course.id,
            "first_day": "2026-12-01",
            "last_day": "2026-12-01",
        },
    ).json()
    assert free["zone"] == "Asia/Tokyo"
    assert free["starts"][0] == "2026-12-01T09:00:00+09:00"

    booked = client.post(
        "/api/bookings",
        json={
            "clinic_id": clinic.id,
            "patient_id": patient_id,
            "course_id": course.id,
            "starts_at": free["starts"][0],
        },
    )
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert (booking["status"], booking["source"]) == ("requested", "api")

    confirmed = client.post(f"/api/bookings/{booking['id']}/confirm")
    assert confirmed.json()["status"] == "confirmed"

    clock[0] = jst(2026, 12, 1, 9, 40)
    completed = client.post(f"/api/bookings/{booking['id']}/complete", json={})
    assert completed.status_code == 200, completed.text
    assert completed.json()["booking"]["status"] == "completed"
    visit = completed.json()["visit"]
    assert visit["visited_at"] == "2026-12-01T09:00:00+09:00"
    assert (visit["self_pay_yen"], visit["staff_minutes"], visit["machine_minutes"]) == (
        4400,
        20,
        10,
    )

    listed = client.get("/api/visits", params={"patient_id": patient_id}).json()
    assert [item["id"] for item in listed] == [visit["id"]]

    amended = client.patch(
        f"/api/visits/{visit['id']}",
        json={"reason": "記入漏れ", "injury_part": "腰部", "treatment": "骨盤矯正、温罨法"},
    )
    assert amended.status_code == 200, amended.text
    shown = client.get(f"/api/visits/{visit['id']}").json()
    assert shown["treatment"] == "骨盤矯正、温罨法"
    [amendment] = shown["amendments"]
    assert amendment["reason"] == "記入漏れ"
    assert amendment["changes"]["treatment"] == {"old": None, "new": "骨盤矯正、温罨法"}

    history = client.get(f"/api/bookings/{booking['id']}").json()["changes"]
    assert [change["to_status"] for change in history] == ["requested", "confirmed", "completed"]

    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.patient_id == patient_id).order_by(AuditLog.id)
    ).all()
    assert actions == [
        AuditAction.CREATE,
        AuditAction.READ,
        AuditAction.UPDATE,
        AuditAction.READ,
    ]
