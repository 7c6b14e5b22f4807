"""The server the terminal simulators start runs the outbox worker for its lifetime."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend import app as composition
from backend.settings import Settings
from reminders import worker
from tests.bot.conftest import settings


def test_the_app_with_a_worker_starts_it_with_the_server_and_stops_it_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[str] = []

    @contextmanager
    def running(given: Settings, **_: Any) -> Iterator[None]:
        events.append(f"started on {given.database_url}")
        yield
        events.append("stopped")

    configured = settings()
    monkeypatch.setattr(worker, "running", running)
    monkeypatch.setattr(composition, "get_settings", lambda: configured)

    with TestClient(composition.create_app_with_worker()) as client:
        assert events == [f"started on {configured.database_url}"]
        assert client.get("/healthz").status_code == 200
    assert events == [f"started on {configured.database_url}", "stopped"]
