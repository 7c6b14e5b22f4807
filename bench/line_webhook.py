"""Benchmark: signed LINE webhooks from 32 concurrent senders vs a bare FastAPI endpoint.

    .venv/bin/python bench/line_webhook.py [--events N] [--senders 32] [--database-url URL]

Serves the real app (uvicorn, one process, 127.0.0.1) with a bare endpoint beside it, and
a fake LINE API in another process for the replies the webhook queues. Registered patients
send 「こんにちは」 (the patient table answers with its help message) as really signed
message events, one event per request, each with its own webhookEventId and reply token,
signed before the round starts (as LINE signs them) and sent from two processes, each one
event loop with a keep-alive connection per sender (so the clock measures the server, not
the senders). Rounds alternate bare / webhook so machine noise hits both alike. Prints throughput
(events/s), p50/p99 latency and the ratios, then checks the inbox: every event stored
exactly once. Goal: at least half the bare endpoint's throughput, p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from datetime import time as clock
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from sqlalchemy import func, select

from backend import migrate, serving
from backend.app import create_app
from backend.db import Database
from backend.models import (
    Bed,
    Clinic,
    Course,
    InboundEvent,
    OpeningHours,
    OutboxMessage,
    OutboxStatus,
    Patient,
    PaymentKind,
    Staff,
    StaffShift,
)
from bot import chat_wire

SECRET = "bench-channel-secret"
TOKEN = "bench-access-token"
BOT = "U" + "0" * 32
TEXT = "こんにちは"
PROCESSES = 2  # client processes, so the senders' own interpreter does not cap the numbers
WARM_UP = 4  # events per sender before measuring
Sample = tuple[list[float], float]
APP_DIR = Path(__file__).parent  # uvicorn imports bench_app from here
SERVERS: dict[str, int] = {}  # base URL → process id, for the CPU each one spends
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def bench_app() -> FastAPI:
    """The real app (settings from the environment) with a bare endpoint beside it."""
    app = create_app()

    @app.post("/bare")
    async def bare(request: Request) -> dict[str, bool]:
        await request.body()
        return {"ok": True}

    # Matched first, as the app matches its webhooks first: only the work differs.
    app.router.routes.insert(0, app.router.routes.pop())
    return app


def build_clinic(database: Database, senders: list[str]) -> None:
    """A clinic open every day, one staff member, one bed, and a patient per sender."""
    now = datetime.now(UTC)
    with database.transaction() as session:
        clinic = Clinic(name="ベンチ整骨院", phone="+81312345678", created_at=now)
        session.add(clinic)
        session.flush()
        session.add_all(
            OpeningHours(clinic_id=clinic.id, weekday=d, opens_at=clock(9), closes_at=clock(20))
            for d in range(7)
        )
        staff = Staff(clinic_id=clinic.id, name="施術者", created_at=now)
        session.add_all([staff, Bed(clinic_id=clinic.id, name="ベッド1")])
        session.add(
            Course(
                clinic_id=clinic.id,
                name="骨盤矯正",
                staff_minutes=20,
                machine_minutes=10,
                price_yen=4400,
                payment_kind=PaymentKind.SELF_PAY,
            )
        )
        session.flush()
        session.add_all(
            StaffShift(staff_id=staff.id, weekday=d, starts_at=clock(9), ends_at=clock(20))
            for d in range(7)
        )
        session.add_all(
            Patient(
                clinic_id=clinic.id,
                name=f"ベンチ 患者{n}",
                line_user_id=user,
                consent_line=True,
                created_at=now,
                updated_at=now,
            )
            for n, user in enumerate(senders)
        )


@contextmanager
def serve(target: str, env: dict[str, str]) -> Iterator[str]:
    """`uvicorn TARGET --factory` in a subprocess; yields its base URL once it answers."""
    port = serving.free_port()
    command = [
        sys.executable, "-m", "uvicorn", target, "--factory", "--app-dir", str(APP_DIR),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process)
        SERVERS[url] = process.pid
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server for {url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)  # any answer, even 404, means it listens
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within 30 s")


def signed(user: str) -> tuple[bytes, dict[str, str]]:
    """One really signed webhook body with a fresh message event from `user`."""
    now_ms = int(time.time() * 1000)
    event = chat_wire.message_event(TEXT, chat_wire.user_source(user), now_ms=now_ms)
    body = chat_wire.webhook_body([event], destination=BOT)
    return body, {
        "Content-Type": "application/json",
        "X-Line-Signature": chat_wire.sign(SECRET, body),
    }


def sender(base: str, path: str, users: list[str], count: int, start_at: float) -> Sample:
    """Post `count` events for each user over its own keep-alive connection, all users of
    this process on one event loop, starting at `start_at` (time.monotonic, shared by all
    processes on Linux). The bodies are signed before the start, as LINE signs them: the
    clock measures the server, not the senders' own work."""
    address = urlsplit(base)
    host, port = address.hostname or "", address.port or 80
    prepared = [[request(host, port, path, *signed(user)) for _ in range(count)] for user in users]

    async def one(requests: list[bytes]) -> list[float]:
        reader, writer = await asyncio.open_connection(host, port)
        latencies = []
        for data in requests:
            began = time.perf_counter()
            writer.write(data)
            status = await answer(reader)
            latencies.append((time.perf_counter() - began) * 1000)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
        writer.close()
        return latencies

    async def everyone() -> list[float]:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        results = await asyncio.gather(*(one(requests) for requests in prepared))
        return [value for result in results for value in result]

    latencies = asyncio.run(everyone())
    return latencies, time.monotonic()


def request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes of one HTTP/1.1 POST."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def answer(reader: asyncio.StreamReader) -> int:
    """Read one response (the app always sends Content-Length); its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    length = 0
    for field in fields:
        name, _, value = field.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


def round_trip(
    pool: Pool, base: str, path: str, senders: list[str], events: int
) -> tuple[list[float], float]:
    """`events` posts from all senders at once, spread over the pool's processes (the
    client must not be what limits the server); latencies in ms and the elapsed seconds."""
    count = max(1, events // len(senders))
    shares = [share for n in range(PROCESSES) if (share := senders[n::PROCESSES])]
    start_at = time.monotonic() + 0.2
    ROUND_START[0] = start_at
    results = pool.starmap(sender, [(base, path, share, count, start_at) for share in shares])
    latencies = [value for values, _ in results for value in values]
    return latencies, max(finished for _, finished in results) - start_at


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(
    pool: Pool, base: str, senders: list[str], *, events: int, rounds: int, database: Database
) -> dict[str, dict[str, float]]:
    """Alternate bare and webhook rounds: throughput and latency of each side, the time
    until every webhook event was answered, and the server's CPU per event. A round ends
    when its work is done (the outbox drained), so no round pays for the one before."""
    totals: dict[str, dict[str, Any]] = {
        side: {"seconds": 0.0, "answered": 0.0, "cpu": 0.0, "seen": []}
        for side in ("bare", "webhook")
    }
    round_trip(pool, base, "/bare", senders, len(senders) * WARM_UP)
    round_trip(pool, base, "/line/webhook", senders, len(senders) * WARM_UP)
    idle(database)
    pid = SERVERS[base]
    for _ in range(rounds):
        for side, path in (("bare", "/bare"), ("webhook", "/line/webhook")):
            cpu = cpu_seconds(pid)
            latencies, elapsed = round_trip(pool, base, path, senders, events // rounds)
            answered = idle(database) - ROUND_START[0]
            total = totals[side]
            total["seconds"] += elapsed
            total["answered"] += max(answered, elapsed)
            total["cpu"] += cpu_seconds(pid) - cpu
            total["seen"] += latencies
    return {
        side: {
            "events": len(total["seen"]),
            "per_second": len(total["seen"]) / total["seconds"],
            "answered_per_second": len(total["seen"]) / total["answered"],
            "cpu_ms": 1000 * total["cpu"] / len(total["seen"]),
            "p50": percentile(total["seen"], 0.5),
            "p99": percentile(total["seen"], 0.99),
        }
        for side, total in totals.items()
    }


ROUND_START = [0.0]  # time.monotonic() when the current round's senders started


def idle(database: Database, seconds: float = 60) -> float:
    """Wait until every recorded event is handled and every queued message sent (or
    `seconds` passed); the time.monotonic() at which that was seen."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with database.reader() as session:
            unhandled = session.scalar(
                select(func.count())
                .select_from(InboundEvent)
                .where(InboundEvent.processed_at.is_(None))
            )
            unsent = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status != OutboxStatus.SENT)
            )
        if not unhandled and not unsent:
            break
        time.sleep(float(os.environ.get("IDLE_POLL", "0.005")))
    return time.monotonic()


def report(results: dict[str, dict[str, float]], senders: int) -> tuple[float, float]:
    """Print both sides and their ratios; answer the throughput ratio and the webhook p99."""
    bare, hook = results["bare"], results["webhook"]
    print(f"\n{int(hook['events'])} events per side from {senders} concurrent senders")
    print(f"{'':20}{'bare':>10}{'webhook':>10}{'ratio':>9}")
    rows = (
        ("per_second", "events/s"),
        ("p50", "p50 ms"),
        ("p99", "p99 ms"),
        ("answered_per_second", "answered/s"),
        ("cpu_ms", "server CPU ms/event"),
    )
    for key, label in rows:
        print(f"{label:20}{bare[key]:>10.2f}{hook[key]:>10.2f}{hook[key] / bare[key]:>8.2f}x")
    print(
        "(answered/s: events until every answer was sent; server CPU: the app process's "
        "user+system time per event, handling and sending included)"
    )
    return hook["per_second"] / bare["per_second"], hook["p99"]


def check_inbox(database: Database, sent: int) -> bool:
    with database.reader() as session:
        rows = session.scalar(select(func.count()).select_from(InboundEvent)) or 0
        distinct = session.scalar(select(func.count(func.distinct(InboundEvent.external_id)))) or 0
    print(
        f"inbox: {rows} rows for {sent} events sent; duplicates {rows - distinct}, "
        f"lost {sent - distinct}"
    )
    return rows == distinct == sent


def drained(database: Database, fake: str, seconds: float = 20) -> None:
    """Wait (a while) for the outbox to empty; report it and what the fake LINE API got."""
    deadline = time.monotonic() + seconds
    while True:
        with database.reader() as session:
            counts = dict(
                session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
            )
        pending = sum(n for status, n in counts.items() if status != OutboxStatus.SENT)
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    print("outbox after the run: " + ", ".join(f"{k.value} {v}" for k, v in counts.items()))
    received = httpx.get(f"{fake}/_fake/messages", params={"since": 10**9}).json()["next"]
    print(f"messages the fake LINE API received: {received}")


@contextmanager
def answering(env: dict[str, str], where: str) -> Iterator[None]:
    """A `uketsuke worker` process answering the events, when they are left to one."""
    if where != "worker":
        yield
        return
    command = [sys.executable, "-c", "from backend.app import main; main()", "worker"]
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3200, help="webhook events per side")
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument(
        "--answer-in",
        choices=["web", "worker"],
        default="web",
        help="who answers the events: the web process itself right after each webhook (the "
        "default), or a `uketsuke worker` process beside it (UKETSUKE_WORKER_EVENTS=worker)",
    )
    args = parser.parse_args()
    senders = [chat_wire.new_user_id() for _ in range(args.senders)]
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        database = Database(url)
        migrate.upgrade(database.engine)
        build_clinic(database, senders)
        with serve("bot.fake_line:create_app", {}) as fake:
            env = {
                "UKETSUKE_ENV": "development",
                "UKETSUKE_DATABASE_URL": url,
                "UKETSUKE_LOG_LEVEL": "WARNING",
                "UKETSUKE_LINE_CHANNEL_SECRET": SECRET,
                "UKETSUKE_LINE_ACCESS_TOKEN": TOKEN,
                "UKETSUKE_LINE_API_BASE": fake,
                "UKETSUKE_LINE_DATA_API_BASE": fake,
                "UKETSUKE_WORKER_EVENTS": args.answer_in,
            }
            print(f"events answered by: the {args.answer_in} process")
            with (
                serve("line_webhook:bench_app", env) as base,
                answering(env, args.answer_in),
                Pool(PROCESSES) as pool,
            ):
                results = measure(
                    pool, base, senders, events=args.events, rounds=args.rounds, database=database
                )
                ratio, p99 = report(results, args.senders)
                per_round = max(1, args.events // args.rounds // args.senders) * args.senders
                stored_once = check_inbox(
                    database, per_round * args.rounds + args.senders * WARM_UP
                )
                drained(database, fake)
        database.dispose()
    met = ratio >= 0.5 and p99 < 50 and stored_once
    print(
        f"\ngoal (>= 0.5x bare throughput, p99 < 50 ms, every event stored once): "
        f"{'met' if met else 'NOT met'} ({ratio:.2f}x, p99 {p99:.1f} ms)"
    )


if __name__ == "__main__":
    main()
