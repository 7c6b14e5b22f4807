"""Short writes on the event loop (backend.api.serial) and the writers' lock taken only when
free (backend.db.Writers.now), on real SQLite files, threads and another process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.api.serial import SerialWrites
from backend.db import Database, Writers
from tests.conftest import on_the_loop


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'serial.db'}")
    with database.transaction() as session:
        session.execute(text("CREATE TABLE said (n INTEGER)"))
    yield database
    database.dispose()


def write(store: Database, n: int) -> tuple[int, bool]:
    """A turn's stand-in: one write transaction; where it ran."""
    with store.transaction() as session:
        session.execute(text("INSERT INTO said (n) VALUES (:n)"), {"n": n})
    return n, on_the_loop()


def said(database: Database) -> list[int]:
    with database.reader() as session:
        return list(session.scalars(text("SELECT n FROM said ORDER BY rowid")))


@contextmanager
def writing_elsewhere(database: Database) -> Iterator[threading.Event]:
    """Another thread in a write transaction until the yielded event is set."""
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with database.transaction() as session:
            session.execute(text("INSERT INTO said (n) VALUES (0)"))
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(10)
    try:
        yield release
    finally:
        release.set()
        thread.join(10)


def test_writers_now_takes_a_free_lock_and_never_waits_for_a_held_one(tmp_path: Path) -> None:
    writers = Writers(str(tmp_path / "db-writers"))
    seen: list[bool] = []

    def try_from_another_thread() -> None:
        with writers.now() as taken:
            seen.append(taken)

    with writers.now() as taken:
        assert taken
        with writers:  # a transaction inside takes it again at once (re-entrant)
            pass
        thread = threading.Thread(target=try_from_another_thread)
        thread.start()
        thread.join(5)
    assert seen == [False]
    thread = threading.Thread(target=try_from_another_thread)
    thread.start()
    thread.join(5)
    assert seen == [False, True]
    writers.close()


def test_writers_now_is_false_while_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "db-writers"
    script = (
        "import fcntl, os, sys\n"
        f"d = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(d, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    writers = Writers(str(path))
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdin is not None
        assert holder.stdout is not None
        try:
            assert holder.stdout.readline().strip() == "held"
            with writers.now() as taken:
                assert not taken
            holder.stdin.write("\n")
            holder.stdin.flush()
            assert holder.wait(10) == 0
            with writers.now() as taken:
                assert taken
        finally:
            holder.kill()
    writers.close()


def test_a_write_runs_on_the_event_loop_when_the_lock_is_free(sqlite: Database) -> None:
    writes = SerialWrites()
    assert asyncio.run(writes.run(write, sqlite, 1)) == (1, True)
    assert said(sqlite) == [1]
    with sqlite.writing_now() as taken:  # and let go afterwards
        assert taken


def test_a_write_goes_to_a_thread_while_another_thread_writes_and_the_loop_stays_free(
    sqlite: Database,
) -> None:
    writes = SerialWrites()

    async def scenario(release: threading.Event) -> tuple[tuple[int, bool], int]:
        turn = asyncio.ensure_future(writes.run(write, sqlite, 1))
        ticks = 0
        while ticks < 5:  # the loop keeps running while the turn waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not turn.done()
        release.set()
        return await turn, ticks

    with writing_elsewhere(sqlite) as release:
        (result, ticks) = asyncio.run(scenario(release))
    assert result == (1, False)
    assert ticks == 5
    assert said(sqlite) == [0, 1]


def test_writes_run_in_the_order_they_came_even_when_one_has_to_wait(sqlite: Database) -> None:
    writes = SerialWrites()

    async def scenario(release: threading.Event) -> list[tuple[int, bool]]:
        first = asyncio.ensure_future(writes.run(write, sqlite, 1))  # waits on a thread
        await asyncio.sleep(0.05)
        later = [asyncio.ensure_future(writes.run(write, sqlite, n)) for n in range(2, 6)]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in [first, *later])  # queued behind the first
        release.set()
        return await asyncio.gather(first, *later)

    with writing_elsewhere(sqlite) as release:
        results = asyncio.run(scenario(release))
    assert said(sqlite) == [0, 1, 2, 3, 4, 5]
    assert results[0] == (1, False)
    assert results[1:] == [(n, True) for n in range(2, 6)]


def test_a_failing_write_raises_and_lets_go_of_the_lock(sqlite: Database) -> None:
    writes = SerialWrites()

    def fail(store: Database) -> None:
        with store.transaction() as session:
            session.execute(text("INSERT INTO said (n) VALUES (9)"))
            raise ValueError("turn failed")

    with pytest.raises(ValueError, match="turn failed"):
        asyncio.run(writes.run(fail, sqlite))
    assert said(sqlite) == []  # rolled back
    assert asyncio.run(writes.run(write, sqlite, 2)) == (2, True)  # a new loop: a new queue


class ManyWriters:
    """A store whose database takes many writers at once (PostgreSQL's answer)."""

    single_writer = False

    @contextmanager
    def writing_now(self) -> Iterator[bool]:
        raise AssertionError("never asked: such writes always go to a thread")
        yield False  # pragma: no cover


def test_a_database_of_many_writers_runs_every_write_on_a_thread() -> None:
    writes = SerialWrites()

    def where(store: ManyWriters, n: int) -> tuple[int, bool]:
        return n, on_the_loop()

    async def scenario() -> list[tuple[int, bool]]:
        return await asyncio.gather(*(writes.run(where, ManyWriters(), n) for n in range(3)))

    assert asyncio.run(scenario()) == [(0, False), (1, False), (2, False)]
