"""Benchmark: the outbox worker drains 10,000 due LINE pushes against a fake LINE API that
adds 20 ms to every call, versus the same calls made directly (no database).

    .venv/bin/python bench/dispatch.py [--messages N] [--concurrency 32] [--latency 0.02]
                                      [--database-url URL] [--shared]

Seeds the rows in a fresh temporary SQLite database (or the PostgreSQL database given,
whose outbox is emptied first), starts a lean fake of LINE's push endpoint (plain ASGI on uvicorn)
in another process, and measures in the same run: the baseline (every call made straight from a pool
of the same size, with its own retry key), then the worker's drain (claim, push with the
row's retry key, settle) until nothing is due. Prints messages per second for both and
the ratio, then asks the fake what it delivered to each patient: duplicates and losses.
Goal: at least 1,000 messages/s, zero duplicates, zero lost. `--shared` makes every row the
same message (a campaign): the worker then sends them by multicast, 500 a request (the
baseline still pushes one by one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import delete, func, insert, select

from backend import migrate, serving
from backend.conversation import codec
from backend.conversation.model import Say
from backend.db import Database, is_sqlite
from backend.models import Channel, Clinic, MessageKind, OutboxMessage, OutboxStatus
from backend.settings import LineSettings, Settings, WorkerSettings
from bot import render, wire
from reminders import dispatch, worker
from reminders.claims import Drained

TOKEN = "bench-access-token"
SHARED = "年末年始の診療時間のお知らせです。"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per fake call")
    parser.add_argument("--batch-size", type=int, default=1000, help="rows claimed per drain")
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="worker processes draining side by side (as several `uketsuke worker`s do); "
        "the baseline uses as many",
    )
    parser.add_argument(
        "--shared", action="store_true", help="one message to everyone: sent by multicast"
    )
    return parser.parse_args()


def fake_app() -> Any:
    """A lean fake of LINE's push endpoint (plain ASGI, so the fake is not what is
    measured) for push and multicast: waits UKETSUKE_BENCH_LATENCY seconds, runs each
    retry key once (409 after, as LINE does), and tells at GET /keys how many messages
    each recipient was delivered."""
    latency = float(os.environ.get("UKETSUKE_BENCH_LATENCY", "0.02"))
    delivered: Counter[str] = Counter()
    accepted: set[str] = set()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            await _answer(send, 200, json.dumps(delivered).encode())
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        key = headers.get(b"x-line-retry-key", b"").decode()
        await asyncio.sleep(latency)
        if key in accepted:
            await _answer(send, 409, b'{"message": "The retry key is already accepted"}')
            return
        accepted.add(key)
        to = json.loads(body)["to"]
        delivered.update([to] if isinstance(to, str) else to)
        await _answer(send, 200, b'{"sentMessages": []}')

    return app


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def fake_line(latency: float) -> Iterator[str]:
    """The fake in another process (uvicorn); its base URL once it answers."""
    port = serving.free_port()
    command = [
        sys.executable, "-m", "uvicorn", "dispatch:fake_app", "--factory",
        "--app-dir", str(HERE), "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    env = {**os.environ, "UKETSUKE_BENCH_LATENCY": str(latency)}
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/keys", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the fake LINE API did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        serving.stop_subprocess(process)


def seed(database: Database, count: int, *, shared: bool = False) -> list[str]:
    """`count` due LINE rows to as many users, each its own message (pushes) or, when
    `shared`, all one message (multicasts); their recipients."""
    now = datetime.now(UTC)
    with database.transaction() as session:
        session.execute(delete(OutboxMessage))
        clinic = Clinic(name="ベンチ整骨院", created_at=now)
        session.add(clinic)
        session.flush()
        rows = [_row(clinic.id, n, now, shared=shared) for n in range(count)]
        for start in range(0, count, 2000):
            session.execute(insert(OutboxMessage), rows[start : start + 2000])
    return [row["recipient"] for row in rows]


def _row(clinic_id: int, n: int, now: datetime, *, shared: bool) -> dict[str, Any]:
    key = str(uuid.uuid4())
    return {
        "clinic_id": clinic_id,
        "channel": Channel.LINE,
        "recipient": f"U{n:032x}",
        "kind": MessageKind.TRANSACTIONAL,
        "purpose": "bench",
        "payload": {"replies": codec.dump([Say(SHARED if shared else f"{n}番目のお知らせです。")])},
        "due_at": now,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "idempotency_key": f"bench:{key}",
        "retry_key": key,
        "created_at": now,
    }


def baseline_processes(base: str, count: int, concurrency: int, processes: int) -> float:
    """`baseline` from `processes` processes at once, `count` pushes in all."""
    shares = [count // processes + (n < count % processes) for n in range(processes)]
    with _started(processes) as (workers, go):
        ends = workers.starmap(_at, [(go, baseline, base, share, concurrency) for share in shares])
    return count / (max(end for end, _ in ends) - go)


def drain_processes(settings: Settings, processes: int) -> tuple[float, Drained]:
    """`drain` in `processes` processes at once on one database: messages per second in
    all, and the drains' counts added up."""
    total = Drained()
    with _started(processes) as (workers, go):
        ends = workers.starmap(_at, [(go, _drain_here, settings)] * processes)
    for _, (_, drained) in ends:
        worker.add(total, drained)
    return total.sent / (max(end for end, _ in ends) - go), total


@contextmanager
def _started(processes: int) -> Iterator[tuple[Any, float]]:
    """A pool of processes that have imported everything, and a moment a little ahead
    for all to begin at: starting Python is not what is measured."""
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_warm) as workers:
        workers.map(time.sleep, [0.2] * processes)
        yield workers, time.time() + 0.5


def _warm() -> None:
    import backend.app  # noqa: F401 - the import a worker process pays once


def _at(go: float, work: Any, *args: Any) -> tuple[float, Any]:
    """Wait until `go` (wall clock, the same in every process), do the work; when it
    ended, and what it returned."""
    time.sleep(max(0.0, go - time.time()))
    result = work(*args)
    return time.time(), result


def _drain_here(settings: Settings) -> tuple[float, Drained]:
    database = Database(settings.database_url)
    try:
        return drain(database, settings)
    finally:
        database.dispose()


def baseline(base: str, count: int, concurrency: int) -> float:
    """The same number of pushes straight from a pool, over the transport the LINE client
    uses: messages per second."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    transport = wire.PooledTransport(timeout=10, max_idle=concurrency)
    with wire.LeanClient(base_url=base, headers=headers, transport=transport, timeout=10) as http:
        messages = render.requests([Say("ベースラインのお知らせです。")])[0]

        def push(n: int) -> int:
            body = {"to": f"Ubase{n:028x}", "messages": messages}
            key = {"X-Line-Retry-Key": str(uuid.uuid4())}
            return http.post("/v2/bot/message/push", json=body, headers=key).status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            statuses = Counter(pool.map(push, range(count)))
        elapsed = time.perf_counter() - started
    assert statuses == {200: count}, statuses
    return count / elapsed


def drain(database: Database, settings: Settings) -> tuple[float, Drained]:
    """The worker's drains until nothing is left to send: messages per second, and how
    the drains went. A row that must wait for a backoff (a timeout under load) is not
    waited for in real time: the clock the drains read jumps to when it is due."""
    total, skipped = Drained(), [timedelta(0)]
    with (
        ThreadPoolExecutor(settings.worker.concurrency) as pool,
        dispatch.configured_senders(settings) as senders,
    ):
        started = time.perf_counter()
        while True:
            drained = worker.drain_all(
                database,
                settings=settings,
                pool=pool,
                clock=lambda: worker.utc_now() + skipped[0],
                senders=senders,
            )
            worker.add(total, drained)
            waiting = next_due(database)
            if waiting is None:
                break
            skipped[0] = max(skipped[0], waiting - worker.utc_now())
        elapsed = time.perf_counter() - started
    return total.sent / elapsed, total


def next_due(database: Database) -> datetime | None:
    """When the earliest row still to send is due; None when all are settled."""
    with database.reader() as session:
        return session.scalar(
            select(func.min(OutboxMessage.due_at)).where(
                OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))
            )
        )


def delivered(base: str) -> Counter[str]:
    """How many messages the fake delivered to each recipient."""
    return Counter(httpx.get(f"{base}/keys", timeout=60).json())


def main() -> None:
    options = arguments()
    with tempfile.TemporaryDirectory() as scratch:
        url = options.database_url or f"sqlite:///{Path(scratch) / 'dispatch.db'}"
        database = Database(url)
        migrate.upgrade(database.engine)
        recipients = seed(database, options.messages, shared=options.shared)
        where = "SQLite (temporary file)" if is_sqlite(url) else "PostgreSQL"
        latency = f"{options.latency * 1000:.0f} ms"
        sending = "multicast (one message)" if options.shared else "pushes"
        print(f"{options.messages:,} due LINE {sending} in {where}; the fake LINE API adds "
              f"{latency} per call; {options.processes} worker processes, each with "
              f"{options.concurrency} calls at once")  # fmt: skip
        with fake_line(options.latency) as base:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=url,
                line=LineSettings(_env_file=None, access_token=SecretStr(TOKEN), api_base=base),  # type: ignore[call-arg]
                worker=WorkerSettings(
                    _env_file=None,  # type: ignore[call-arg]
                    concurrency=options.concurrency,
                    batch_size=options.batch_size,
                ),
            )
            n = options.processes
            direct = baseline_processes(base, options.messages, options.concurrency, n)
            rate, drained = drain_processes(settings, n)
            counts = delivered(base)
        with database.reader() as session:
            unsent = session.scalar(
                select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
            )
            reasons = Counter(session.scalars(select(OutboxMessage.last_error)))
        database.dispose()
    duplicates = sum(counts[to] - 1 for to in recipients if counts[to] > 1)
    lost = sum(1 for to in recipients if counts[to] == 0)
    print(f"baseline (direct calls, no database): {direct:8,.0f} messages/s")
    print(f"worker (claim, send, settle):         {rate:8,.0f} messages/s "
          f"({rate / direct:.2f}x the baseline); {drained.sent:,} rows marked sent")  # fmt: skip
    retried = {reason: n for reason, n in reasons.items() if reason}
    print(f"retried under load: {drained.retried}, deferred: {drained.deferred} {retried or ''}")
    print(f"duplicates: {duplicates}, lost: {lost}, rows not marked sent: {unsent}")
    ok = rate >= 1000 and duplicates == 0 and lost == 0 and unsent == 0
    verdict = "met" if ok else "NOT met"
    print(f"goal (>= 1,000 messages/s, no duplicates, nothing lost): {verdict}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    os.environ.setdefault("UKETSUKE_LOG_LEVEL", "WARNING")
    main()
