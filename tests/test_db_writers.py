"""SQLite's writers queue on a lock file beside the database, across processes."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from backend import db
from backend.db import Database, Writers, writers_path


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    found = Database(f"sqlite:///{tmp_path}/writers.db")
    with found.engine.begin() as connection:
        connection.execute(text("CREATE TABLE row (id INTEGER PRIMARY KEY, who TEXT)"))
    yield found
    found.dispose()


def another_process_could_write(path: str) -> bool:
    """Whether a writer elsewhere would get the lock now (a separate open file is what
    another process has: flock locks belong to the open file, not the process)."""
    probe = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(probe)
    return True


@pytest.fixture(params=["through ctypes", "through fcntl"])
def flock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of taking a free lock: libc's flock keeping the GIL, and the fallback."""
    if request.param == "through fcntl":
        monkeypatch.setattr(db, "_flock_now", db._flock_plain)
    return str(request.param)


def test_a_write_transaction_holds_the_lock_file_until_it_ends(
    database: Database, flock: str
) -> None:
    path = writers_path(database.engine)
    assert path is not None
    assert path.endswith("writers.db-writers")
    with database.transaction() as session:
        session.execute(text("INSERT INTO row (who) VALUES ('session')"))
        assert not another_process_could_write(path)
    assert another_process_could_write(path)
    with database.begin() as connection:
        connection.execute(text("INSERT INTO row (who) VALUES ('connection')"))
        assert not another_process_could_write(path)
    assert another_process_could_write(path)


def test_the_lock_is_re_entrant_and_held_until_the_outermost_exit(tmp_path: Path) -> None:
    path = str(tmp_path / "nested.db-writers")
    writers = Writers(path)
    with writers:
        with writers:
            assert not another_process_could_write(path)
        assert not another_process_could_write(path)
    assert another_process_could_write(path)
    writers.close()


def test_reading_does_not_take_the_lock(database: Database) -> None:
    path = writers_path(database.engine)
    assert path is not None
    with database.reader() as session:
        assert session.scalar(text("SELECT count(*) FROM row")) == 0
        assert another_process_could_write(path)


def test_an_in_memory_database_has_no_lock_file() -> None:
    memory = Database("sqlite://")
    assert writers_path(memory.engine) is None
    with memory.transaction() as session:  # the threads' lock alone
        assert session.scalar(text("SELECT 1")) == 1
    memory.dispose()


def impatient(database: Database) -> Database:
    """No busy wait at all: a writer that finds SQLite's lock taken fails at once."""

    @event.listens_for(database.engine, "connect")
    def _no_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    return database


WRITER = textwrap.dedent(
    """
    import sys
    from sqlalchemy import event, text
    from backend.db import Database
    from tests.test_db_writers import impatient

    database = impatient(Database(sys.argv[1]))
    for n in range(int(sys.argv[3])):
        with database.transaction() as session:
            session.execute(text("INSERT INTO row (who) VALUES (:who)"), {"who": sys.argv[2]})
    database.dispose()
    """
)


def test_processes_writing_at_once_all_get_their_rows_in(database: Database, flock: str) -> None:
    """Writers in three processes and this one, none of them willing to wait in SQLite:
    every transaction commits, as each waits on the lock file instead."""
    impatient(database).dispose()  # connections from now on
    each = 150
    children = [
        subprocess.Popen([sys.executable, "-c", WRITER, database.url, f"p{n}", str(each)])
        for n in range(3)
    ]
    for n in range(each):
        with database.transaction() as session:
            session.execute(text("INSERT INTO row (who) VALUES ('here')"), {"n": n})
    assert [child.wait(timeout=120) for child in children] == [0, 0, 0]
    with database.reader() as session:
        counts: dict[str, int] = dict(
            session.execute(text("SELECT who, count(*) FROM row GROUP BY who")).all()
        )
    assert counts == {"here": each, "p0": each, "p1": each, "p2": each}
