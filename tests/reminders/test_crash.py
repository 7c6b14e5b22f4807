"""Real worker processes against a local fake LINE API that, like LINE, runs a retry key
only once (409 after). A worker killed between sending and marking loses nothing and
duplicates nothing once another starts; two workers on one PostgreSQL queue send each
message once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backend import outbox
from backend.conversation.model import Say
from backend.db import Database, is_sqlite
from backend.models import OutboxMessage, OutboxStatus
from tests.factories import make_clinic

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "crash-test-token"
ACCEPTED = {"message": "The retry key is already accepted"}


@dataclass
class FakeLine:
    """What LINE saw: every accepted request with its key and recipients; 409s counted.
    While `gate` is closed, an accepted request is held before it is answered."""

    accepted: dict[str, list[str]] = field(default_factory=dict)
    conflicts: int = 0
    gate: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str, to: list[str]) -> bool:
        with self.lock:
            if key in self.accepted:
                self.conflicts += 1
                return False
            self.accepted[key] = to
            return True

    def received(self) -> Counter[str]:
        with self.lock:
            return Counter(to for targets in self.accepted.values() for to in targets)


def handler(fake: FakeLine) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            to = body["to"] if isinstance(body["to"], list) else [body["to"]]
            if not fake.take(self.headers["X-Line-Retry-Key"], to):
                self.answer(409, ACCEPTED)
                return
            fake.gate.wait(timeout=60)
            self.answer(200, {"sentMessages": []})

        def answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the worker was killed while waiting for this answer

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake() -> Iterator[tuple[FakeLine, str]]:
    fake = FakeLine()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    fake.gate.set()
    server.shutdown()
    server.server_close()


def start_worker(
    database: Database, api: str, tmp_path: Path, **settings: str
) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "UKETSUKE_DATABASE_URL": database.url,
        "UKETSUKE_LINE_ACCESS_TOKEN": TOKEN,
        "UKETSUKE_LINE_API_BASE": api,
        "UKETSUKE_WORKER_TICK_SECONDS": "0.2",
        "UKETSUKE_LOG_LEVEL": "WARNING",
        **{f"UKETSUKE_WORKER_{name.upper()}": value for name, value in settings.items()},
    }
    command = [sys.executable, "-c", "from backend.app import main; main()", "worker"]
    with (tmp_path / "worker.log").open("ab") as log:
        # tmp_path as working directory: no developer .env is read.
        return subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log)


def seed(database: Database, *, pushes: int, shared: int) -> list[str]:
    """`pushes` rows with their own text and `shared` rows of one message; recipients."""
    recipients = [f"U{n:032x}" for n in range(pushes + shared)]
    # The workers read the real clock: these rows are due now.
    now = datetime.now(UTC)
    with database.transaction() as session:
        clinic = make_clinic(session, hours=False)
        for n, to in enumerate(recipients):
            text = f"{n}番のお知らせ" if n < pushes else "休診日のお知らせ"
            outbox.line_replies(
                session, clinic_id=clinic.id, to=to, replies=[Say(text)], purpose="t", now=now
            )
    return recipients


def count(database: Database, status: OutboxStatus) -> int:
    with database.reader() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == status)
            )
            or 0
        )


def wait_for(condition: Any, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)


def test_a_worker_killed_between_sending_and_marking_loses_and_repeats_nothing(
    committed: Database, fake: tuple[FakeLine, str], tmp_path: Path
) -> None:
    line, api = fake
    recipients = seed(committed, pushes=10, shared=6)
    first = start_worker(committed, api, tmp_path, concurrency="4")
    try:
        wait_for(lambda: len(line.accepted) >= 4)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    held = count(committed, OutboxStatus.SENDING)
    line.gate.set()

    assert held == len(recipients)  # claimed, some sent, none marked
    second = start_worker(committed, api, tmp_path, concurrency="4", lease_seconds="0")
    try:
        wait_for(lambda: count(committed, OutboxStatus.SENT) == len(recipients))
    finally:
        stop(second)

    assert line.received() == Counter(recipients)  # each patient exactly once
    assert line.conflicts >= 4  # what reached LINE before the kill was sent again: 409
    multicasts = [to for to in line.accepted.values() if len(to) > 1]
    assert [sorted(to) for to in multicasts] == [sorted(recipients[10:])]


@pytest.mark.skipif(
    is_sqlite(os.environ.get("UKETSUKE_TEST_DATABASE_URL", "") or "sqlite"),
    reason="two workers at once need PostgreSQL (UKETSUKE_TEST_DATABASE_URL)",
)
def test_two_workers_on_postgresql_send_each_message_once(
    committed: Database, fake: tuple[FakeLine, str], tmp_path: Path
) -> None:
    line, api = fake
    line.gate.set()
    recipients = seed(committed, pushes=1500, shared=500)
    workers = [
        start_worker(committed, api, tmp_path, concurrency="8", batch_size="200") for _ in range(2)
    ]
    try:
        wait_for(lambda: count(committed, OutboxStatus.SENT) == len(recipients), seconds=120)
    finally:
        for worker in workers:
            stop(worker)

    assert line.received() == Counter(recipients)
    assert line.conflicts == 0
    assert all(worker.returncode == 0 for worker in workers)
