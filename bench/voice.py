"""Benchmark: call turns of 20 concurrent phone calls vs a bare FastAPI endpoint.

    .venv/bin/python bench/voice.py [--calls N] [--concurrent 20] [--think S] [--workers W]
                                    [--database-url URL]

Serves the real app (uvicorn, one process unless --workers, 127.0.0.1) with a bare endpoint
beside it, and a fake Twilio API in another process for the SMS the calls cause. Each
simulated call is what Twilio would send: a really signed incoming call, then a new
caller's answers — the menu key 1, a day and time said aloud (「12月3日の10時半」, each call
its own, so the callers do not all race for one slot), the key taking it, a spoken name, 2
for 「nothing else」 — each posted to the action of the Gather the attendant answered with
(telephony/call_twiml.py reads the TwiML), then the status callback. The bare side makes
the same signed form posts to an endpoint that only parses the form and answers a fixed
Gather. Rounds alternate bare / voice so machine noise hits both alike; a voice round lasts
until the SMS its calls caused are sent, so their sending is counted to the voice side and
never runs beside a bare round. Callers answer at
once, all calls of a round starting together, by default (the worst case); --think S makes
them pause about S seconds, as people do, and calls come in at random moments.

Prints p50/p99 of a call turn for both sides and the ratios, the p50 of each turn of a
call, then checks that every call has its call_log row. Goal: p99 under 100 ms and within
3x the bare endpoint.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from backend import migrate, serving
from backend.app import create_app
from backend.db import Database
from backend.models import (
    Bed,
    Booking,
    CallLog,
    Clinic,
    Course,
    OpeningHours,
    OutboxMessage,
    PaymentKind,
    Staff,
    StaffShift,
)
from telephony import call_twiml as twiml
from telephony import call_wire

ACCOUNT_SID = "AC" + "be" * 16
AUTH_TOKEN = "bench-twilio-auth-token"
CLINIC_NUMBER = "+81354870000"
JST = ZoneInfo("Asia/Tokyo")
SLOTS_A_DAY = 22  # 9:00 to 19:30, every half hour
# Two digits of every caller's number: a second run on the same database has new callers.
RUN = secrets.randbelow(100)
# Client processes, so the callers' own GIL does not cap the numbers (no more than CPUs).
PROCESSES = min(4, os.cpu_count() or 1)
APP_DIR = Path(__file__).parent  # uvicorn imports bench_app from here
START_SECONDS = 120  # importing the app takes a while on a busy machine
BARE_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather input="speech dtmf" language="ja-JP" action="/bare" method="POST" '
    'actionOnEmptyResult="true" timeout="5" numDigits="1">'
    '<Say language="ja-JP" voice="Polly.Mizuki">ご用件をお話しください。</Say></Gather>'
    '<Redirect method="POST">/bare</Redirect></Response>'
)
BARE = "/bare"
SERVERS: dict[str, int] = {}  # base URL → process id, for the CPU each one spends
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process and its live children (uvicorn's workers) have used so
    far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    own = (int(fields[11]) + int(fields[12])) / TICK
    return own + sum(cpu_seconds(int(child)) for child in children)


VOICE = call_wire.VOICE_PATH


def bench_app() -> FastAPI:
    """The real app (settings from the environment) with a bare endpoint beside it."""
    app = create_app()

    @app.post(BARE)
    async def bare(request: Request) -> Response:
        dict(parse_qsl((await request.body()).decode()))
        return Response(BARE_TWIML, media_type="text/xml")

    # Matched first, as the app matches its webhooks first: only the work differs.
    app.router.routes.insert(0, app.router.routes.pop())
    return app


def build_clinic(database: Database) -> None:
    """A clinic open 9-20 every day with 4 staff and 4 beds, so calls find free slots."""
    now = datetime.now(UTC)
    with database.transaction() as session:
        clinic = Clinic(name="ベンチ整骨院", phone=CLINIC_NUMBER, created_at=now)
        session.add(clinic)
        session.flush()
        session.add_all(
            OpeningHours(clinic_id=clinic.id, weekday=d, opens_at=clock(9), closes_at=clock(20))
            for d in range(7)
        )
        staff = [Staff(clinic_id=clinic.id, name=f"施術者{n}", created_at=now) for n in range(4)]
        session.add_all([*staff, *(Bed(clinic_id=clinic.id, name=f"ベッド{n}") for n in range(4))])
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
            StaffShift(staff_id=member.id, weekday=d, starts_at=clock(9), ends_at=clock(20))
            for member in staff
            for d in range(7)
        )


@contextmanager
def serve(target: str, env: Callable[[str], dict[str, str]], workers: int = 1) -> Iterator[str]:
    """`uvicorn TARGET --factory` in a subprocess (with `workers` processes), its
    environment made from its own URL; yields that URL once it answers."""
    with serving.listening_socket() as probe:
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "uvicorn", target, "--factory", "--app-dir", str(APP_DIR),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
        # Callers' pauses (--think) outlast uvicorn's 5 s: keep their connections open.
        "--timeout-keep-alive", "120", "--workers", str(workers),
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, **env(url)})
    try:
        _wait(url, process)
        SERVERS[url] = process.pid
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server for {url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)  # any answer, even 404, means it listens
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {START_SECONDS} s")


def script(index: int) -> tuple[str, ...]:
    """What caller `index` answers: menu 1 (booking), a time of their own said aloud (so
    concurrent callers do not all race for the same slot), 1 to take it, their name, and 2
    (nothing else)."""
    day = datetime.now(JST).date() + timedelta(days=1 + index // SLOTS_A_DAY % 28)
    hour, half = divmod(18 + index % SLOTS_A_DAY, 2)
    when = f"{day.month}月{day.day}日の{hour}時" + ("半" if half else "")
    return ("1", when, "1", "ベンチ タロウ", "2")


Next = tuple[str, dict[str, str]]  # the URL Twilio requests next, and its form


@dataclass
class Calls:
    """What some calls measured: each turn's and each status callback's milliseconds."""

    turns: list[float] = field(default_factory=list)
    statuses: list[float] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)  # each turn's place in its call (0: incoming)
    cpu: float = 0.0  # the server's CPU seconds while these calls were made

    def add(self, other: Calls) -> Calls:
        self.turns += other.turns
        self.steps += other.steps
        self.statuses += other.statuses
        self.sids += other.sids
        self.cpu += other.cpu
        return self


def post(
    connection: http.client.HTTPConnection, url: str, params: dict[str, str]
) -> tuple[str, float]:
    """One signed form post as Twilio makes it; the answer and the milliseconds it took."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": call_wire.signature(AUTH_TOKEN, url, params),
    }
    body = urlencode(params).encode()
    began = time.perf_counter()
    connection.request("POST", call_wire.path_of(url), body=body, headers=headers)
    response = connection.getresponse()
    answer = response.read().decode()
    elapsed = (time.perf_counter() - began) * 1000
    if not 200 <= response.status < 300:
        raise RuntimeError(f"POST {call_wire.path_of(url)} answered {response.status}: {answer}")
    return answer, elapsed


def answer(call: call_wire.Call, url: str, document: str, inputs: Iterator[str]) -> Next | None:
    """The request Twilio makes next when the caller answers with the next input; None
    once the call ends (a hang-up, a transfer, or no input left: the caller hangs up)."""
    for verb in twiml.parse(document):
        match verb:
            case twiml.Gather():
                typed = next(inputs, None)
                if typed is None:
                    return None
                heard = twiml.heard(typed, verb) or {}
                return urljoin(url, verb.action or url), call.params("in-progress", **heard)
            case twiml.Redirect(url=target):
                return urljoin(url, target), call.params("in-progress")
            case twiml.Dial() | twiml.Hangup():
                return None
    return None


def one_call(
    connection: http.client.HTTPConnection, public: str, path: str, index: int, think: float
) -> Calls:
    """Call number `index` of this run: the turns of its script, each after about `think`
    seconds, then (voice only) the status callback. Every call comes from a number never
    seen, so every caller is new."""
    # 090-1xxx-xxxx: every number of it is a mobile (090-0xxx is not, and gets no SMS).
    caller = f"+81901{RUN:02d}{index:05d}"
    call = call_wire.Call(call_wire.new_call_sid(), ACCOUNT_SID, caller, CLINIC_NUMBER)
    done, inputs = Calls(), iter(script(index))
    request: Next | None = (public + path, call.params("ringing"))
    if think:
        time.sleep(random.uniform(0, 2 * think))  # calls come in at random, not all at once
    began = time.monotonic()
    while request is not None:
        document, elapsed = post(connection, *request)
        done.steps.append(len(done.turns))
        done.turns.append(elapsed)
        request = answer(call, request[0], document, inputs)
        if think and request is not None:
            time.sleep(think * random.uniform(0.5, 1.5))
    if path != BARE:
        seconds = max(1, round(time.monotonic() - began))
        ended = call.ended("completed", seconds, datetime.now(UTC))
        done.statuses.append(post(connection, public + call_wire.STATUS_PATH, ended)[1])
        done.sids.append(call.sid)
    return done


def callers(base: str, path: str, lines: list[list[int]], start_at: float, think: float) -> Calls:
    """One thread and keep-alive connection per line, each making its calls in a row,
    starting at `start_at` (time.monotonic, shared by all processes on Linux)."""
    address = urlsplit(base)

    def calls(indexes: list[int]) -> Calls:
        connection = http.client.HTTPConnection(address.hostname or "", address.port)
        done = sum_calls([one_call(connection, base, path, index, think) for index in indexes])
        connection.close()
        return done

    time.sleep(max(0.0, start_at - time.monotonic()))
    with ThreadPoolExecutor(len(lines)) as threads:
        return sum_calls(list(threads.map(calls, lines)))


def sum_calls(parts: list[Calls]) -> Calls:
    total = Calls()
    for part in parts:
        total.add(part)
    return total


def round_trip(
    pool: Pool, base: str, path: str, *, first: int, concurrent: int, each: int, think: float
) -> Calls:
    """`concurrent` lines make `each` calls in a row at once, numbered from `first`, spread
    over the pool's processes (the client must not be what limits the server)."""
    lines = [[first + line * each + n for n in range(each)] for line in range(concurrent)]
    shares = [share for n in range(PROCESSES) if (share := lines[n::PROCESSES])]
    start_at = time.monotonic() + 0.2
    work = [(base, path, share, start_at, think) for share in shares]
    return sum_calls(pool.starmap(callers, work))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(
    pool: Pool, base: str, args: argparse.Namespace, database: Database
) -> dict[str, Calls]:
    """Alternate bare and voice rounds after a warm-up round of each. A voice round lasts
    until the SMS its calls queued are sent, so their sending counts to the voice side's
    CPU, and never runs beside the next bare round."""
    totals = {"bare": Calls(), "voice": Calls()}
    concurrent, think = args.concurrent, args.think
    each = max(1, args.calls // args.rounds // concurrent)
    round_trip(pool, base, BARE, first=0, concurrent=concurrent, each=1, think=0)
    warm_up = round_trip(pool, base, VOICE, first=0, concurrent=concurrent, each=1, think=0)
    sms_sent(database)
    for number in range(args.rounds):
        first = concurrent * (1 + number * each)
        calls = {"first": first, "concurrent": concurrent, "each": each, "think": think}
        for side, path in (("bare", BARE), ("voice", VOICE)):
            began = cpu_seconds(SERVERS[base])
            done = round_trip(pool, base, path, **calls)
            if path == VOICE:
                sms_sent(database)
            done.cpu = cpu_seconds(SERVERS[base]) - began
            totals[side].add(done)
    totals["voice"].sids += warm_up.sids  # they must have their call_log rows too
    return totals


def report(totals: dict[str, Calls], args: argparse.Namespace) -> tuple[float, float, float]:
    """Print both sides and their ratios; answer the voice p99 and the p50 and p99 ratios."""
    bare, voice = totals["bare"].turns, totals["voice"].turns
    pause = f", callers pausing about {args.think:g} s between turns" if args.think else ""
    print(
        f"\n{len(voice)} voice turns and {len(bare)} bare turns, "
        f"{args.concurrent} concurrent calls{pause}"
    )
    print(f"{'':8}{'bare ms':>10}{'voice ms':>10}{'ratio':>9}")
    ratios = []
    for fraction, label in ((0.5, "p50"), (0.99, "p99")):
        base, value = percentile(bare, fraction), percentile(voice, fraction)
        ratios.append(value / base)
        print(f"{label:8}{base:>10.2f}{value:>10.2f}{value / base:>8.2f}x")
    by_step: dict[int, list[float]] = {}
    for step, elapsed in zip(totals["voice"].steps, voice, strict=True):
        by_step.setdefault(step, []).append(elapsed)
    print("voice p50 / p99 by turn (0 = incoming call):")
    for step, values in sorted(by_step.items()):
        print(f"  {step}: {percentile(values, 0.5):.1f} / {percentile(values, 0.99):.1f} ms")
    statuses = totals["voice"].statuses
    print(
        f"status callbacks: p50 {percentile(statuses, 0.5):.2f} ms, "
        f"p99 {percentile(statuses, 0.99):.2f} ms"
    )
    per_request = {
        side: 1000 * calls.cpu / (len(calls.turns) + len(calls.statuses))
        for side, calls in totals.items()
    }
    print(
        f"server CPU per request: bare {per_request['bare']:.2f} ms, voice "
        f"{per_request['voice']:.2f} ms (turns and status callbacks, SMS sending included)"
    )
    return percentile(voice, 0.99), ratios[0], ratios[1]


def check_call_log(database: Database, sids: list[str]) -> bool:
    """Every call placed has its call_log row; print how the calls ended."""
    with database.reader() as session:
        logged = set(session.scalars(select(CallLog.call_sid)))
        outcomes = session.execute(
            select(CallLog.outcome, func.count()).group_by(CallLog.outcome)
        ).all()
        bookings = session.scalar(select(func.count()).select_from(Booking)) or 0
    missing = [sid for sid in sids if sid not in logged]
    print(f"call_log: {len(logged)} rows for {len(sids)} calls placed; missing {len(missing)}")
    print("outcomes: " + (", ".join(f"{k} {v}" for k, v in outcomes) or "none"))
    print(f"bookings made: {bookings}")
    return not missing


BUSY = ("pending", "sending")


def outbox_counts(database: Database) -> list[tuple[Any, Any, int]]:
    """How many outbox rows of each channel are in each status."""
    with database.reader() as session:
        rows = session.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(
                OutboxMessage.channel, OutboxMessage.status
            )
        ).all()
    return [(channel, status, int(n)) for channel, status, n in rows]


def sms_sent(
    database: Database, seconds: float = 30, poll: float = 0.05
) -> list[tuple[Any, Any, int]]:
    """Wait (a while) until no SMS is left to send; the outbox's counts then. Sending
    counts too: a message being sent may have reached the fake before it is marked."""
    deadline = time.monotonic() + seconds
    while True:
        counts = outbox_counts(database)
        waiting = [n for channel, status, n in counts if channel == "sms" and status in BUSY]
        if not waiting or time.monotonic() > deadline:
            return counts
        time.sleep(poll)


def sms_received(database: Database, fake: str) -> None:
    """Print the outbox, once no SMS is left to send, and what the fake got."""
    counts = sms_sent(database, seconds=10)
    print("outbox: " + (", ".join(f"{c} {s} {n}" for c, s, n in counts) or "empty"))
    received = httpx.get(f"{fake}/_fake/messages", params={"since": 10**9}).json()["next"]
    print(f"SMS the fake Twilio API received: {received}")


def server_env(database_url: str, fake: str) -> Callable[[str], dict[str, str]]:
    def env(url: str) -> dict[str, str]:
        return {
            "UKETSUKE_ENV": "development",
            "UKETSUKE_DATABASE_URL": database_url,
            "UKETSUKE_LOG_LEVEL": "WARNING",
            "UKETSUKE_PUBLIC_BASE_URL": url,
            "UKETSUKE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "UKETSUKE_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "UKETSUKE_TWILIO_API_BASE": fake,
            "UKETSUKE_TWILIO_STAFF_NUMBERS": '["+81312340001"]',
            "UKETSUKE_SMS_PROVIDER": "twilio",
            "UKETSUKE_SMS_SENDER": "UKETSUKE",
            "UKETSUKE_LINE_ACCESS_TOKEN": "",
        }

    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="measured calls per side")
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--think", type=float, default=0.0, help="seconds a caller pauses between turns (mean)"
    )
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument(
        "--workers", type=int, default=1, help="app processes (uvicorn --workers), as deployed"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        database = Database(url)
        migrate.upgrade(database.engine)
        build_clinic(database)
        with (
            serve("telephony.fake_twilio:create_app", lambda _: {}) as fake,
            serve("voice:bench_app", server_env(url, fake), args.workers) as base,
            Pool(PROCESSES) as pool,
        ):
            totals = measure(pool, base, args, database)
            p99, p50_ratio, p99_ratio = report(totals, args)
            logged = check_call_log(database, totals["voice"].sids)
            sms_received(database, fake)  # while the server still drains its outbox
        database.dispose()
    met = p99 < 100 and p99_ratio <= 3 and logged
    print(
        f"\ngoal (voice p99 < 100 ms and within 3x the bare p99, every call logged): "
        f"{'met' if met else 'NOT met'} (p99 {p99:.1f} ms, {p99_ratio:.2f}x; p50 {p50_ratio:.2f}x)"
    )


if __name__ == "__main__":
    main()
