"""Test database: built once from the migrations; each test runs in a rolled-back transaction.

Set UKETSUKE_TEST_DATABASE_URL to run the suite on PostgreSQL. That database is wiped at
the start of the run, so point it at a throwaway database.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

import backend.models  # noqa: F401 - registers every table
from backend import migrate
from backend.app import create_app
from backend.booking import schedule
from backend.db import Base, Database, is_sqlite
from backend.dialogue import facts
from backend.settings import Settings
from tests.factories import NOW

TEST_DATABASE_URL = os.environ.get("UKETSUKE_TEST_DATABASE_URL", "")
# Frozen objects are invisible to gc.get_referrers, which Hypothesis relies on.
os.environ.setdefault("UKETSUKE_GC_FREEZE", "false")
API_TOKEN = "test-token-0123456789abcdef"


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    database = Database(url, pool_size=60, max_overflow=10)
    if not is_sqlite(url):
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = database.engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()
    transaction.rollback()
    connection.close()
    schedule.clear_cache()
    facts.clear_cache()


@pytest.fixture
def committed(database: Database) -> Iterator[Database]:
    """For tests that need real commits from several connections; empties every table after."""
    yield database
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    schedule.clear_cache()
    facts.clear_cache()


def pytest_report_header() -> str:
    return f"database: {TEST_DATABASE_URL or 'sqlite (temporary file)'}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "committed" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.committed)


class SessionStore:
    """Hands the test's session to the app: each API transaction is a savepoint inside the
    test's transaction, so the app's commits and rollbacks behave and the test still rolls
    everything back."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # One session serves every thread of the app under test (the worker's lanes, the
        # web app's kick): one of them at a time, as SQLite's single writer would have it.
        self.lock: threading.RLock = session.info.setdefault("store_lock", threading.RLock())
        # As Database decides: SQLite's phone turns run on the event loop when it is free.
        self.single_writer = session.get_bind().dialect.name == "sqlite"

    @contextmanager
    def writing_now(self) -> Iterator[bool]:
        if not self.lock.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            self.lock.release()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.lock:
            self.session.commit()  # seal what the test set up, so an API rollback keeps it
            try:
                yield self.session
            except BaseException:
                self.session.rollback()
                raise
            self.session.commit()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        with self.lock:
            yield self.session

    @contextmanager
    def held(self) -> Iterator[HeldSession]:
        yield HeldSession(self)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.transaction() as session:
            yield session.connection()


class HeldSession:
    """What `Database.held` gives, on the test's session: its connection in a savepoint."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.store.transaction() as session:
            yield session.connection()


def on_the_loop() -> bool:
    """Whether the caller runs on a running event loop's thread (not on a worker thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_settings(**overrides: object) -> Settings:
    """Settings that ignore the developer's environment file."""
    return Settings(_env_file=None, api_token=SecretStr(API_TOKEN), **overrides)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> list:
    """The app's clock: tests move time by replacing clock[0]."""
    return [NOW]


@pytest.fixture
def client(session: Session, clock: list) -> Iterator[TestClient]:
    """An API client on the test's session, with the token and a fixed clock."""
    app = create_app(test_settings(), store=SessionStore(session), clock=lambda: clock[0])
    with TestClient(app, headers={"Authorization": f"Bearer {API_TOKEN}"}) as client:
        yield client
