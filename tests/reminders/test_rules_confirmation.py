"""The confirmation rule where staff change bookings through the API: confirmed, moved
and cancelled bookings are told to the patient on their channel; the staff's reason for a
cancellation never is."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Channel, OutboxMessage
from tests.reminders.rules_calendar import World, line_text, open_world


def _patient_rows(session: Session) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.purpose.like("patient:%"))
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def _requested(client: TestClient, world: World, patient_id: int) -> int:
    made = client.post(
        "/api/bookings",
        json={
            "clinic_id": world.clinic.id,
            "patient_id": patient_id,
            "course_id": world.course.id,
            "starts_at": "2026-12-01T10:00:00+09:00",
            "source": "phone",
        },
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_staff_confirming_by_api_tells_a_phone_only_patient_by_sms(
    session: Session, client: TestClient
) -> None:
    world = open_world(session)
    booking_id = _requested(client, world, world.patient("sms").id)

    assert client.post(f"/api/bookings/{booking_id}/confirm").status_code == 200

    [row] = _patient_rows(session)
    assert (row.purpose, row.channel, row.recipient) == (
        "patient:confirmed",
        Channel.SMS,
        "+819011112222",
    )
    assert row.payload["text"].startswith("ご予約が確定しました。\n12月1日(火) 10:00〜 骨盤矯正")


def test_a_staff_move_and_a_staff_cancel_are_told_without_the_reason(
    session: Session, client: TestClient
) -> None:
    world = open_world(session)
    booking_id = _requested(client, world, world.patient("line").id)
    client.post(f"/api/bookings/{booking_id}/confirm")

    moved = client.post(
        f"/api/bookings/{booking_id}/reschedule", json={"starts_at": "2026-12-02T11:00:00+09:00"}
    )
    assert moved.status_code == 200, moved.text
    cancel = client.post(f"/api/bookings/{booking_id}/cancel", json={"reason": "腰痛の悪化"})
    assert cancel.status_code == 200, cancel.text

    confirmed, moved_row, cancelled = _patient_rows(session)
    assert confirmed.purpose == "patient:confirmed"
    assert moved_row.purpose == "patient:moved"
    assert line_text(moved_row).startswith(
        "ご予約の日時を変更いたしました。\n12月2日(水) 11:00〜 骨盤矯正"
    )
    assert cancelled.purpose == "patient:cancelled"
    assert "腰痛" not in line_text(cancelled)
    assert line_text(cancelled).startswith("誠に申し訳ございません。12月2日(水) 11:00〜 骨盤矯正")


def test_a_patients_own_cancel_or_move_request_by_api_sends_nothing_more(
    session: Session, client: TestClient
) -> None:
    world = open_world(session)
    booking_id = _requested(client, world, world.patient("line").id)
    client.post(f"/api/bookings/{booking_id}/confirm")

    client.post(
        f"/api/bookings/{booking_id}/reschedule",
        json={"starts_at": "2026-12-02T11:00:00+09:00", "by": "patient"},
    )  # a request again: told when staff confirm it
    client.post(f"/api/bookings/{booking_id}/cancel", json={"by": "patient"})

    assert [row.purpose for row in _patient_rows(session)] == ["patient:confirmed"]
    assert client.get(f"/api/bookings/{booking_id}").json()["status"] == "cancelled"
