"""Group commit of LINE deliveries: what waits together is written in one transaction,
each delivery learns its own count, and one bad delivery costs the others nothing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Clinic, InboundEvent
from bot import events, recording
from tests.bot.conftest import Line, make_app, text
from tests.factories import NOW


class Transactions:
    """A store that counts its transactions and hands out no session (the writes here are
    fakes that only note what they were given)."""

    def __init__(self) -> None:
        self.opened = 0
        self.held_connections = 0
        self.committed: list[list[str]] = []
        self._current: list[str] = []

    @contextmanager
    def held(self) -> Iterator[Any]:
        self.held_connections += 1
        yield self

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        self.opened += 1
        self._current = []
        yield self
        self.committed.append(self._current)

    def note(self, name: str) -> None:
        self._current.append(name)


def delivery(name: str) -> list[events.Received]:
    return [events.Received(raw={"name": name}, event=None)]


def names(received: list[events.Received]) -> str:
    return ",".join(item.raw["name"] for item in received)


def each(
    write_one: Callable[[Any, list[events.Received]], int],
) -> Callable[[Any, Sequence[recording.Delivery]], list[int]]:
    """A batch writer from a writer of one delivery."""

    def write(session: Any, deliveries: Sequence[recording.Delivery]) -> list[int]:
        return [write_one(session, received) for received, _ in deliveries]

    return write


def test_deliveries_waiting_together_share_one_transaction() -> None:
    store = Transactions()
    first_started, go_on = threading.Event(), threading.Event()

    def write(session: Any, received: list[events.Received]) -> int:
        if names(received) == "first":
            first_started.set()
            assert go_on.wait(timeout=10)
        session.note(names(received))
        return len(received) if names(received) != "old" else 0

    recorder = recording.Recorder(store, each(write))  # type: ignore[arg-type]

    async def burst() -> list[int]:
        first = asyncio.ensure_future(recorder.record(delivery("first"), now=NOW))
        await asyncio.get_running_loop().run_in_executor(None, first_started.wait)
        # While the writer holds the first delivery, three more arrive.
        rest = [
            asyncio.ensure_future(recorder.record(delivery(name), now=NOW))
            for name in ("a", "old", "b")
        ]
        await asyncio.sleep(0)
        go_on.set()
        return [await first, *[await task for task in rest]]

    counts = asyncio.run(burst())
    recorder.close()

    assert counts == [1, 1, 0, 1]
    assert store.committed == [["first"], ["a", "old", "b"]]
    assert store.held_connections == 1  # both batches on the connection the writer kept


def test_a_failing_delivery_fails_alone() -> None:
    store = Transactions()
    hold, go_on = threading.Event(), threading.Event()

    def write(session: Any, received: list[events.Received]) -> int:
        if names(received) == "hold":
            hold.set()
            assert go_on.wait(timeout=10)
        if names(received) == "bad":
            raise ValueError("unwritable")
        session.note(names(received))
        return 1

    recorder = recording.Recorder(store, each(write))  # type: ignore[arg-type]

    async def burst() -> list[object]:
        held = asyncio.ensure_future(recorder.record(delivery("hold"), now=NOW))
        await asyncio.get_running_loop().run_in_executor(None, hold.wait)
        tasks = [
            asyncio.ensure_future(recorder.record(delivery(name), now=NOW))
            for name in ("good", "bad", "also good")
        ]
        await asyncio.sleep(0)
        go_on.set()
        return await asyncio.gather(held, *tasks, return_exceptions=True)

    held, good, bad, also_good = asyncio.run(burst())
    recorder.close()

    assert (held, good, also_good) == (1, 1, 1)
    assert isinstance(bad, ValueError)
    # The batch failed as a whole and was written again one delivery at a time, on a
    # connection of its own.
    assert store.committed == [["hold"], ["good"], ["also good"]]
    assert store.held_connections == 2


def test_after_a_failed_batch_the_next_one_is_written_on_a_new_connection() -> None:
    store = Transactions()

    def write(session: Any, received: list[events.Received]) -> int:
        if names(received) == "bad":
            raise ValueError("unwritable")
        session.note(names(received))
        return 1

    recorder = recording.Recorder(store, each(write))  # type: ignore[arg-type]

    async def one_by_one() -> list[object]:
        results: list[object] = []
        for name in ("good", "bad", "after"):
            try:
                results.append(await recorder.record(delivery(name), now=NOW))
            except ValueError as error:
                results.append(error)
        return results

    good, bad, after = asyncio.run(one_by_one())
    recorder.close()

    assert (good, after) == (1, 1)
    assert isinstance(bad, ValueError)
    assert store.committed == [["good"], ["after"]]
    # The failure might have been the connection's: "bad" was tried again on a second
    # connection, and the writer went on with a third.
    assert store.held_connections == 3


class Dropped(Transactions):
    """A store whose first connection the database has dropped: its transactions fail."""

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        if self.held_connections == 1:
            raise ConnectionError("server closed the connection unexpectedly")
        with super().transaction() as session:
            yield session


def test_a_connection_the_database_dropped_costs_no_delivery() -> None:
    store = Dropped()
    recorder = recording.Recorder(store, each(lambda session, received: len(received)))

    assert asyncio.run(recorder.record(delivery("first"), now=NOW)) == 1
    recorder.close()
    assert store.held_connections == 2
    assert store.committed == [[]]


class Unreachable(Transactions):
    """A store whose connections fail until `reachable` is set."""

    reachable = False

    @contextmanager
    def held(self) -> Iterator[Any]:
        if not self.reachable:
            raise ConnectionError("the database is down")
        with super().held() as held:
            yield held


def test_without_a_connection_deliveries_fail_and_later_ones_are_written() -> None:
    store = Unreachable()
    recorder = recording.Recorder(store, each(lambda session, received: 1))

    with pytest.raises(ConnectionError):
        asyncio.run(recorder.record(delivery("lost"), now=NOW))
    assert recorder.writing  # the writer lives on and waits for the next delivery

    store.reachable = True
    assert asyncio.run(recorder.record(delivery("later"), now=NOW)) == 1
    recorder.close()
    assert store.committed == [[]]


def test_the_writer_stops_on_close_and_a_later_delivery_starts_another() -> None:
    store = Transactions()

    def write(session: Any, received: list[events.Received]) -> int:
        session.note(names(received))
        return 1

    recorder = recording.Recorder(store, each(write))  # type: ignore[arg-type]
    assert asyncio.run(recorder.record(delivery("one"), now=NOW)) == 1
    assert recorder.writing

    recorder.close()

    assert not recorder.writing
    assert asyncio.run(recorder.record(delivery("two"), now=NOW)) == 1
    recorder.close()
    assert store.committed == [["one"], ["two"]]


def test_the_webhook_records_through_the_apps_writer_which_stops_with_the_app(
    session: Session, clinic: Clinic, clock: list[datetime]
) -> None:
    app = make_app(session, clock)
    app.state.kick = lambda: None
    with TestClient(app) as client:
        response = Line(client).post(text("こんにちは"))
        assert response.status_code == 200
        assert isinstance(app.state.line_recorder, recording.Recorder)
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 1
        assert app.state.line_recorder.writing
    assert not app.state.line_recorder.writing


def test_a_writer_that_answers_for_too_few_deliveries_fails_them_instead_of_hanging() -> None:
    store = Transactions()
    recorder = recording.Recorder(store, lambda session, deliveries: [])  # type: ignore[arg-type]

    async def one() -> object:
        record = recorder.record(delivery("lost"), now=NOW)
        return await asyncio.wait_for(record, timeout=10)

    with pytest.raises(RuntimeError):
        asyncio.run(one())
    recorder.close()
