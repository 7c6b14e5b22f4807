"""Test database: built once from the migrations; each test runs in a rolled-back transaction.

Set UKETSUKE_TEST_DATABASE_URL to run the suite on PostgreSQL. That database is wiped at
the start of the run, so point it at a throwaway database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import backend.models  # noqa: F401 - registers every table
from backend import migrate
from backend.booking import schedule
from backend.db import Base, Database, is_sqlite

TEST_DATABASE_URL = os.environ.get("UKETSUKE_TEST_DATABASE_URL", "")


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


@pytest.fixture
def committed(database: Database) -> Iterator[Database]:
    """For tests that need real commits from several connections; empties every table after."""
    yield database
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    schedule.clear_cache()


def pytest_report_header() -> str:
    return f"database: {TEST_DATABASE_URL or 'sqlite (temporary file)'}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "committed" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.committed)
