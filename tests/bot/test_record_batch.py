"""Recording a batch of deliveries: one statement, and each delivery learns how many of its
events were new (on SQLite and on PostgreSQL alike)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import inbox
from backend.models import Clinic, InboundEvent
from bot import events, webhook
from tests.bot.conftest import envelope, follow, text
from tests.factories import NOW


def delivery(*items: dict[str, object]) -> list[events.Received]:
    return events.parse(envelope(*items))


def test_each_delivery_counts_only_its_new_events(session: Session, clinic: Clinic) -> None:
    seen_before, fresh, twice = text("前から"), follow(), text("二度")
    webhook.record(session, [(delivery(seen_before), NOW)], clinic.id)

    counts = webhook.record(
        session,
        [
            (delivery(seen_before, fresh), NOW),
            (delivery(twice), NOW),
            (delivery(twice), NOW),  # LINE sent it again before the first was written
            ([], NOW),
        ],
        clinic.id,
    )

    assert counts == [1, 1, 0, 0]
    stored = session.execute(select(InboundEvent.external_id, InboundEvent.clinic_id)).all()
    ids = sorted(external_id for external_id, _ in stored)
    expected = [item["webhookEventId"] for item in (seen_before, fresh, twice)]
    assert ids == sorted(str(value) for value in expected)
    assert {clinic_id for _, clinic_id in stored} == {clinic.id}


def test_the_events_keep_their_own_payload_and_time(session: Session, clinic: Clinic) -> None:
    later = NOW + timedelta(seconds=1)
    first, second = text("一つ目"), text("二つ目")

    webhook.record(session, [(delivery(first), NOW), (delivery(second), later)], clinic.id)

    rows = {
        row.external_id: row
        for row in session.scalars(select(InboundEvent).order_by(InboundEvent.id))
    }
    assert rows[first["webhookEventId"]].payload["message"]["text"] == "一つ目"
    assert rows[second["webhookEventId"]].payload["message"]["text"] == "二つ目"
    assert rows[first["webhookEventId"]].kind == "message"
    assert rows[second["webhookEventId"]].received_at.replace(tzinfo=None) == later.replace(
        tzinfo=None
    )


def test_more_events_than_one_statement_takes_are_all_recorded(
    session: Session, clinic: Clinic
) -> None:
    many = [text(f"{n}件目") for n in range(inbox._ROWS_PER_INSERT * 2 + 1)]
    again = many[inbox._ROWS_PER_INSERT + 3]  # seen in the first statement, sent again later

    counts = webhook.record(session, [(delivery(*many), NOW), (delivery(again), NOW)], clinic.id)

    assert counts == [len(many), 0]
    stored = session.scalars(select(InboundEvent.external_id)).all()
    assert sorted(stored) == sorted(str(item["webhookEventId"]) for item in many)
