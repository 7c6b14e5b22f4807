"""Hot routes: taken by exact method and path before FastAPI's layers; everything else,
and a hot route's own failures, still get the answers the API gives."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from backend.api import hot
from backend.app import create_app
from tests import conftest
from tests.conftest import SessionStore


def app() -> hot.App:
    app = hot.App()

    async def echo(request: Request) -> Response:
        return PlainTextResponse(f"hot {request.app is app} {(await request.body()).decode()}")

    async def broken(request: Request) -> Response:
        raise RuntimeError("患者さんの言葉")

    @app.post("/echo")
    def routed() -> str:
        return "routed"

    app.hot_route("post", "/echo", echo)
    app.hot_route("POST", "/broken", broken)
    return app


def test_a_hot_route_is_served_by_its_endpoint_with_the_app_at_hand() -> None:
    response = TestClient(app()).post("/echo", content=b"body")

    assert response.text == "hot True body"


def test_other_methods_and_paths_go_through_fastapi() -> None:
    client = TestClient(app())

    assert client.get("/echo").status_code == 405
    assert client.post("/elsewhere").status_code == 404


def test_a_failing_hot_route_is_a_500_logged_without_its_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="backend.api.hot")

    response = TestClient(app()).post("/broken")

    assert response.status_code == 500
    assert response.json()["code"] == "internal"
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [record.getMessage() for record in errors] == ["POST /broken failed (RuntimeError)"]
    assert all("患者" not in record.getMessage() for record in caplog.records)


def test_under_a_root_path_everything_goes_through_fastapi() -> None:
    mounted = app()
    mounted.root_path = "/clinic"

    response = TestClient(mounted).post("/echo", content=b"body")

    assert response.json() == "routed"


class Held:
    """An app with a hot route that is being taken until `release` is set."""

    def __init__(self) -> None:
        self.app = hot.App()
        self.entered, self.release = threading.Event(), threading.Event()

        async def held(request: Request) -> Response:
            self.entered.set()
            while not self.release.is_set():
                await asyncio.sleep(0.001)
            return PlainTextResponse("done")

        self.app.hot_route("POST", "/held", held)


def test_making_way_waits_while_a_hot_request_is_being_taken() -> None:
    held = Held()
    order: list[str] = []

    def make_way() -> None:
        held.app.make_way(at_most=60)
        order.append("made way")

    with ThreadPoolExecutor(2) as pool:
        answer = pool.submit(TestClient(held.app).post, "/held")
        assert held.entered.wait(timeout=10)
        waiting = pool.submit(make_way)
        time.sleep(0.05)  # room for a wrong early return
        order.append("released")
        held.release.set()
        waiting.result(timeout=10)
        assert answer.result(timeout=10).text == "done"

    assert order == ["released", "made way"]
    assert held.app.make_way(at_most=60)  # nothing being taken: back at once, way made


def test_making_way_is_bounded() -> None:
    held = Held()
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(TestClient(held.app).post, "/held")
        assert held.entered.wait(timeout=10)

        made = held.app.make_way(at_most=0.01)

        assert not made
        assert not answer.done()  # gave up waiting while the request was still taken
        held.release.set()
        assert answer.result(timeout=10).status_code == 200


def test_making_way_waits_for_a_burst_to_go_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    # Between two webhooks of a burst none may be in flight; one that came a moment ago
    # still counts until the quiet time has passed.
    monkeypatch.setattr(hot, "QUIET_SECONDS", 0.2)
    held = Held()
    held.release.set()
    sent = time.monotonic()
    assert TestClient(held.app).post("/held").text == "done"

    held.app.make_way(at_most=60)

    assert time.monotonic() - sent >= 0.2


def test_a_started_app_freezes_what_it_built_and_thaws_it_at_shutdown(session: Session) -> None:
    assert gc.get_freeze_count() == 0
    app = create_app(conftest.test_settings(gc_freeze=True), store=SessionStore(session))

    with TestClient(app) as client:
        frozen = gc.get_freeze_count()
        assert client.get("/healthz").status_code == 200

    assert frozen > 10_000  # the frameworks' modules, classes and functions
    assert gc.get_freeze_count() == 0


def test_the_test_suite_runs_unfrozen(session: Session) -> None:
    with TestClient(create_app(conftest.test_settings(), store=SessionStore(session))):
        assert gc.get_freeze_count() == 0
