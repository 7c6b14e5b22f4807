"""Engine, sessions and the declarative base shared by every table.

SQLite is the embedded default and PostgreSQL the production database; both must behave
the same under concurrency. On SQLite that means every writing transaction starts with
`BEGIN IMMEDIATE`, so two writers queue on the database lock instead of both reading a
stale snapshot and one failing later with "database is locked". Read-only sessions (API
GETs) use a deferred `BEGIN` so they never wait on writers (WAL mode).
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

READ_ONLY = "uketsuke_read_only"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    """Declarative base with the project's constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC; only timezone-aware values go in, aware UTC comes out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        value = value.astimezone(UTC)
        # SQLite has no timezone type; keep the stored text uniform and sortable.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Plain SQL for the driver, where SQLAlchemy's statement handling would cost more than the
# database's own work (the webhooks' inbox rows, a phone turn's state).


def placeholder(paramstyle: str) -> str:
    """The driver's parameter mark: SQLite's `?`, psycopg's `%s`."""
    return "?" if paramstyle == "qmark" else "%s"


@functools.cache
def to_driver(column: ColumnElement[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """How `column` (or a bound parameter) turns a value into the driver's, as SQLAlchemy
    would convert it."""
    convert = column.type.dialect_impl(dialect).bind_processor(dialect)
    return convert or _same


def _same(value: Any) -> Any:
    return value


def is_sqlite(url: str) -> bool:
    """Tell whether a database URL points at SQLite."""
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the per-dialect settings this project relies on."""
    if is_sqlite(url):
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own BEGIN handling breaks
        # savepoints and cannot start an IMMEDIATE transaction).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        # Straight to the driver: every transaction starts here, and SQLAlchemy's statement
        # handling of the BEGIN cost more than the database's work for it.
        connection.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Writers:
    """SQLite's writers queue here before `BEGIN IMMEDIATE`: this process's threads on a
    lock, then one process at a time on an advisory lock of a file beside the database
    (`<database>-writers`).

    Without it a writer that finds the database locked polls with growing sleeps (up to
    100 ms each): a phone turn in one app process could wait a tenth of a second after
    another process's write had ended. The kernel wakes a process waiting on the file lock
    the moment it is free. Re-entrant within a thread, as a transaction may open another.
    """

    def __init__(self, path: str | None) -> None:
        self._path = path  # None: an in-memory database, no other process sees it
        self._threads = threading.RLock()
        self._depth = 0  # this thread's nesting, read and written under the RLock
        self._file: tuple[int, int] | None = None  # (process id, descriptor)

    def __enter__(self) -> None:
        self._take(wait=True)

    def _take(self, *, wait: bool) -> bool:
        """Take the lock, waiting for it or not; whether it was taken."""
        if not self._threads.acquire(blocking=wait):
            return False
        if self._depth == 0 and self._path is not None:
            try:
                descriptor = self._descriptor()
                if _flock_now(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB) != 0:
                    if not wait:
                        self._threads.release()
                        return False
                    fcntl.flock(descriptor, fcntl.LOCK_EX)  # another process writes: wait
            except BaseException:
                self._threads.release()
                raise
        self._depth += 1
        return True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._file is not None:
                _flock_now(self._file[1], fcntl.LOCK_UN)
        finally:
            self._threads.release()

    @contextmanager
    def now(self) -> Iterator[bool]:
        """The lock, only if it is free this moment: yields True while holding it, False
        (holding nothing) when another thread or process writes. Never waits."""
        taken = self._take(wait=False)
        try:
            yield taken
        finally:
            if taken:
                self.__exit__(None, None, None)

    def _descriptor(self) -> int:
        # Opened once per process: a descriptor inherited over fork shares its lock with
        # the parent, which would let both in at once.
        pid = os.getpid()
        if self._file is None or self._file[0] != pid:
            assert self._path is not None
            self._file = (pid, os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
        return self._file[1]

    def close(self) -> None:
        """Close the lock file (the database's dispose)."""
        with self._threads:
            if self._file is not None and self._file[0] == os.getpid():
                os.close(self._file[1])
            self._file = None


def _holding_the_interpreter() -> Callable[[int, int], int]:
    """flock(2) for the calls that never wait (taking a free lock, letting go): called
    through ctypes.PyDLL, it keeps the GIL. `fcntl.flock` gives it up around the call, and
    a thread inside the writers' lock then waits for the interpreter behind this process's
    other threads, the database's writers all waiting with it (in a thread-heavy benchmark
    of write transactions, about a tenth fewer went through)."""
    try:
        function = ctypes.PyDLL(None, use_errno=True).flock
    except (OSError, AttributeError):  # no libc symbols to find: the plain call
        return _flock_plain
    function.argtypes = (ctypes.c_int, ctypes.c_int)
    function.restype = ctypes.c_int
    return cast(Callable[[int, int], int], function)


def _flock_plain(descriptor: int, operation: int) -> int:
    try:
        fcntl.flock(descriptor, operation)
    except BlockingIOError:
        return -1
    return 0


_flock_now = _holding_the_interpreter()


def writers_path(engine: Engine) -> str | None:
    """The lock file of a SQLite database's writers, None for an in-memory one."""
    database = engine.url.database
    if database in (None, "", ":memory:") or engine.url.query.get("uri"):
        return None  # a URI may name memory or a read-only file: the process lock alone
    return f"{database}-writers"


class Held:
    """A connection a thread keeps between its write transactions (`Database.held`)."""

    def __init__(self, connection: Connection, writers: AbstractContextManager[Any]) -> None:
        self._connection = connection
        self._writers = writers

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The kept connection in a transaction committed on success, rolled back on error;
        on SQLite it queues behind this process's other writers, as `transaction` does."""
        with self._writers, self._connection.begin():
            yield self._connection


class Database:
    """An engine with its writing and read-only session factories."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        # SQLite takes one writer at a time and makes the others poll with growing sleeps
        # (up to 100 ms each). Queueing writers on a lock first hands the database over the
        # moment it is free, to a thread of this process or to another process.
        self._writers: AbstractContextManager[Any] = (
            Writers(writers_path(self.engine)) if is_sqlite(url) else nullcontext()
        )
        # One writer at a time, each write local and short: a phone turn runs on the event
        # loop rather than a thread (backend.api.serial).
        self.single_writer = isinstance(self._writers, Writers)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        reader = self.engine.execution_options(**{READ_ONLY: True})
        self.read_sessions = sessionmaker(reader, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session whose work is committed on success and rolled back on error."""
        with self._writers, self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """Yield a read-only session that never waits on writers (on SQLite: deferred BEGIN)."""
        with self.read_sessions() as session:
            yield session

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a write transaction, without a session (a phone turn's two plain
        statements): committed on success, rolled back on error. On SQLite it queues behind
        this process's other writers first and only then takes a connection from the pool:
        threads holding connections while they wait for the lock could leave none for the
        writer that has it."""
        with self._writers, self.engine.begin() as connection:
            yield connection

    @contextmanager
    def writing_now(self) -> Iterator[bool]:
        """On SQLite, this process's writers' lock if it is free this moment (`Writers.now`):
        True while it is held, and the transactions inside take it again at once. False
        when someone else writes, and always on PostgreSQL, which has no such lock."""
        if isinstance(self._writers, Writers):
            with self._writers.now() as taken:
                yield taken
        else:
            yield False

    @contextmanager
    def held(self) -> Iterator[Held]:
        """A connection kept for a run of small write transactions in plain statements (the
        LINE webhook's group commits): each of them then costs neither a session nor a
        checkout from the pool, which together took more CPU than its INSERT."""
        with self.engine.connect() as connection:
            yield Held(connection, self._writers)

    def dispose(self) -> None:
        """Close every pooled connection (and, on SQLite, the writers' lock file)."""
        self.engine.dispose()
        if isinstance(self._writers, Writers):
            self._writers.close()
