"""Engine, sessions and the declarative base shared by every table.

SQLite is the embedded default and PostgreSQL the production database; both must behave
the same under concurrency. On SQLite that means every writing transaction starts with
`BEGIN IMMEDIATE`, so two writers queue on the database lock instead of both reading a
stale snapshot and one failing later with "database is locked". Read-only sessions (API
GETs) use a deferred `BEGIN` so they never wait on writers (WAL mode).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Engine, MetaData, create_engine, event
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
def to_driver(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """How `column` turns a value into the driver's, as SQLAlchemy would convert it."""
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
        # (up to 100 ms each). Queueing this process's writers on a lock first hands the
        # database over the moment it is free; other processes still wait in busy_timeout.
        self._writers: AbstractContextManager[Any] = (
            threading.RLock() if is_sqlite(url) else nullcontext()
        )
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
    def held(self) -> Iterator[Held]:
        """A connection kept for a run of small write transactions in plain statements (the
        LINE webhook's group commits): each of them then costs neither a session nor a
        checkout from the pool, which together took more CPU than its INSERT."""
        with self.engine.connect() as connection:
            yield Held(connection, self._writers)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
