"""Benchmark: a 4-week availability answer vs a bare FastAPI endpoint, in the same run.

    make bench                      # or: .venv/bin/python bench/availability.py [--requests N]

Builds a clinic with 6 staff and 4 beds and 3,000 bookings (made through the booking
engine, so they are placed as real ones), serves the real app with uvicorn on 127.0.0.1
with a bare endpoint beside it, and times sequential HTTP requests to both, interleaved so
machine noise hits both alike. Prints p50/p99 and their ratios; goal: availability within
3x the bare endpoint. "cold" clears the schedule cache before every request (the first
answer after a booking change); "warm" is the steady state.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from pydantic import SecretStr

from backend import booking, migrate
from backend.app import create_app
from backend.booking import schedule
from backend.db import Database
from backend.errors import SlotUnavailable
from backend.models import (
    Bed,
    Clinic,
    Course,
    OpeningHours,
    Patient,
    PaymentKind,
    Source,
    Staff,
    StaffShift,
)
from backend.settings import Settings

JST = ZoneInfo("Asia/Tokyo")
TOKEN = "bench-token-0123456789abcdef"
NOW = datetime(2026, 11, 30, 8, tzinfo=JST).astimezone(UTC)
WEEKDAY_HOURS = ((9, 12), (15, 20))
SATURDAY_HOURS = ((9, 14),)


def build_clinic(database: Database, bookings: int) -> tuple[int, int]:
    """A clinic with 6 staff, 4 beds and `bookings` bookings from 8 weeks ago to 4 ahead."""
    with database.transaction() as session:
        clinic = Clinic(name="ベンチ整骨院", horizon_days=60, created_at=NOW)
        session.add(clinic)
        session.flush()
        for weekday in range(6):
            for opens, closes in WEEKDAY_HOURS if weekday < 5 else SATURDAY_HOURS:
                session.add(_hours(clinic.id, weekday, opens, closes))
        staff = [Staff(clinic_id=clinic.id, name=f"施術者{n}", created_at=NOW) for n in range(6)]
        session.add_all(staff)
        session.add_all(Bed(clinic_id=clinic.id, name=f"ベッド{n}") for n in range(4))
        course = Course(
            clinic_id=clinic.id,
            name="骨盤矯正",
            staff_minutes=20,
            machine_minutes=10,
            price_yen=4400,
            payment_kind=PaymentKind.SELF_PAY,
        )
        patient = Patient(clinic_id=clinic.id, name="ベンチ 患者", created_at=NOW, updated_at=NOW)
        session.add_all([course, patient])
        session.flush()
        for member in staff:
            session.add_all(_shift(member.id, weekday) for weekday in range(6))
        clinic_id, course_id, patient_id = clinic.id, course.id, patient.id
    _fill(database, clinic_id, course_id, patient_id, bookings)
    return clinic_id, course_id


def _hours(clinic_id: int, weekday: int, opens: int, closes: int) -> OpeningHours:
    return OpeningHours(
        clinic_id=clinic_id, weekday=weekday, opens_at=clock(opens), closes_at=clock(closes)
    )


def _shift(staff_id: int, weekday: int) -> StaffShift:
    return StaffShift(staff_id=staff_id, weekday=weekday, starts_at=clock(9), ends_at=clock(20))


def _fill(database: Database, clinic_id: int, course_id: int, patient_id: int, total: int) -> None:
    """Book every half hour on every bed, skipping some at random, until `total` are made."""
    rng = random.Random(7)
    first = (NOW - timedelta(weeks=8)).astimezone(JST).date()
    candidates = [
        datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)
        for day in (first + timedelta(days=n) for n in range(12 * 7))
        for hour in range(9, 20)
        for minute in (0, 30)
        for _bed in range(4)
    ]
    rng.shuffle(candidates)
    made = attempts = 0
    for start in candidates:
        if made == total:
            break
        attempts += 1
        with database.transaction() as session:
            try:
                booking.request(
                    session,
                    clinic_id=clinic_id,
                    patient_id=patient_id,
                    course_id=course_id,
                    starts_at=start.astimezone(UTC),
                    now=NOW,
                    source=Source.STAFF,
                    actor="bench",
                )
                made += 1
            except SlotUnavailable:
                continue
    print(f"bookings made: {made} ({attempts} attempts)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(database_url: str) -> tuple[uvicorn.Server, int]:
    settings = Settings(_env_file=None, database_url=database_url, api_token=SecretStr(TOKEN))  # type: ignore[call-arg]
    app = create_app(settings, clock=lambda: NOW)

    @app.get("/bare")
    def bare() -> dict[str, bool]:
        return {"ok": True}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, port


def measure(
    port: int, clinic_id: int, course_id: int, requests: int, cold: bool
) -> dict[str, list[float]]:
    first = (NOW + timedelta(days=1)).astimezone(JST).date()
    params = {
        "clinic_id": clinic_id,
        "course_id": course_id,
        "first_day": first.isoformat(),
        "last_day": (first + timedelta(days=27)).isoformat(),
    }
    timings: dict[str, list[float]] = {"bare": [], "availability": []}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
        starts = len(client.get("/api/availability", params=params).json()["starts"])
        print(f"free starts in 4 weeks: {starts}")
        for _ in range(20):  # warm-up
            client.get("/bare")
            client.get("/api/availability", params=params)
        for _ in range(requests):
            timings["bare"].append(_timed(client, "/bare", {}))
            if cold:
                schedule.clear_cache()
            timings["availability"].append(_timed(client, "/api/availability", params))
    return timings


def _timed(client: httpx.Client, path: str, params: dict[str, object]) -> float:
    began = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = (time.perf_counter() - began) * 1000
    response.raise_for_status()
    return elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(label: str, timings: dict[str, list[float]]) -> float:
    bare, avail = timings["bare"], timings["availability"]
    rows = [
        ("p50", percentile(bare, 0.5), percentile(avail, 0.5)),
        ("p99", percentile(bare, 0.99), percentile(avail, 0.99)),
        ("mean", statistics.fmean(bare), statistics.fmean(avail)),
    ]
    print(f"\n[{label}] {len(avail)} requests each")
    print(f"{'':6}{'bare ms':>10}{'availability ms':>18}{'ratio':>8}")
    for name, base, value in rows:
        print(f"{name:6}{base:10.2f}{value:18.2f}{value / base:8.2f}x")
    return percentile(avail, 0.5) / percentile(bare, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--bookings", type=int, default=3000)
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        database = Database(url)
        migrate.upgrade(database.engine)
        clinic_id, course_id = build_clinic(database, args.bookings)
        server, port = serve(url)
        try:
            warm = report("warm", measure(port, clinic_id, course_id, args.requests, cold=False))
            report(
                "cold", measure(port, clinic_id, course_id, max(50, args.requests // 3), cold=True)
            )
        finally:
            server.should_exit = True
        verdict = "met" if warm <= 3 else "NOT met"
        print(f"\ngoal (warm p50 within 3x the bare endpoint): {verdict} ({warm:.2f}x)")


if __name__ == "__main__":
    main()
