"""Recording a batch of deliveries: one statement, and each delivery learns how many of its
events were new (on SQLite and on PostgreSQL alike)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from backend import inbox
from backend.db import Database
from backend.models import Clinic, InboundEvent
from bot import events, recording, webhook
from tests.bot.conftest import envelope, follow, text
from tests.factories import NOW, make_clinic


def delivery(*items: dict[str, object]) -> list[events.Received]:
    return events.parse(envelope(*items))


def test_each_delivery_counts_only_its_new_events(session: Session, clinic: Clinic) -> None:
    seen_before, fresh, twice = text("前から"), follow(), text("二度")
    webhook.record(session.connection(), [(delivery(seen_before), NOW)], clinic.id)

    counts = webhook.record(
        session.connection(),
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

    webhook.record(
        session.connection(), [(delivery(first), NOW), (delivery(second), later)], clinic.id
    )

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

    counts = webhook.record(
        session.connection(), [(delivery(*many), NOW), (delivery(again), NOW)], clinic.id
    )

    assert counts == [len(many), 0]
    stored = session.scalars(select(InboundEvent.external_id)).all()
    assert sorted(stored) == sorted(str(item["webhookEventId"]) for item in many)


def test_the_writer_keeps_its_connection_on_a_real_database_and_a_failed_batch_leaves_nothing(
    committed: Database,
) -> None:
    with committed.transaction() as session:
        clinic_id = make_clinic(session).id
    writer = webhook.Writer(None)  # the first clinic, looked up on the first write
    first, second, broken, last = (text(words) for words in ("一", "二", "壊れた", "三"))

    def write(connection: Connection, deliveries: Sequence[recording.Delivery]) -> list[int]:
        counts = writer(connection, deliveries)  # written, then the batch fails
        if any(item.raw == broken for received, _ in deliveries for item in received):
            raise RuntimeError("the batch fails after its INSERT")
        return counts

    recorder = recording.Recorder(committed, write)

    async def deliver(*items: dict[str, object]) -> int:
        return await recorder.record(delivery(*items), now=NOW)

    assert asyncio.run(deliver(first, second)) == 2
    with pytest.raises(RuntimeError):
        asyncio.run(deliver(broken))
    assert asyncio.run(deliver(last, first)) == 1  # the first was recorded before
    recorder.close()

    with committed.reader() as session:
        stored = session.execute(select(InboundEvent.external_id, InboundEvent.clinic_id)).all()
    expected = {str(item["webhookEventId"]) for item in (first, second, last)}
    assert {external_id for external_id, _ in stored} == expected
    assert {clinic for _, clinic in stored} == {clinic_id}
    assert writer.clinic_id == clinic_id


def test_a_connection_the_database_drops_costs_the_writer_no_delivery(committed: Database) -> None:
    with committed.transaction() as session:
        make_clinic(session)
    writer, dropped = webhook.Writer(None), []

    def write(connection: Connection, deliveries: Sequence[recording.Delivery]) -> list[int]:
        if not dropped:  # the first time, the database drops the writer's connection
            dropped.append(connection.connection.driver_connection)
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
            else:
                connection.connection.driver_connection.close()
        return writer(connection, deliveries)

    recorder = recording.Recorder(committed, write)
    event = text("切れても届く")
    assert asyncio.run(recorder.record(delivery(event), now=NOW)) == 1
    assert asyncio.run(recorder.record(delivery(text("その次")), now=NOW)) == 1
    recorder.close()

    with committed.reader() as session:
        assert len(session.scalars(select(InboundEvent.external_id)).all()) == 2
    assert len(dropped) == 1
