"""The demo clinic's phone line: a call log behind the dashboard's 電話 section.

Every booking that came in by phone was a call that made a request. Around them, as seed
003 describes a small clinic's line: callers asking the hours or the way, callers put
through to staff, callbacks asked for, calls missed and calls abandoned mid-way. Most
missed calls were called back by staff within hours; some never were, or the caller
booked anyway within the week (both count as recovered in the KPIs).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from backend.db import Database
from backend.models import CallLog, CallOutcome, Source
from backend.seed.clinic import ClinicPlan
from backend.seed.drafts import BookingDraft, PatientDraft
from backend.seed.writer import bulk, chunks

CLINIC_NUMBER = "+81354870000"
CHUNK = 2000
# Calls that made no booking, per call that did, by outcome.
OTHER_CALLS = {
    CallOutcome.INFORMATION: 0.30,
    CallOutcome.TRANSFERRED: 0.18,
    CallOutcome.CALLBACK_REQUESTED: 0.06,
    CallOutcome.CHANGED: 0.05,
    CallOutcome.CANCELLED: 0.04,
    CallOutcome.MISSED: 0.10,
    CallOutcome.ABANDONED: 0.05,
}
OWED = (CallOutcome.MISSED, CallOutcome.ABANDONED, CallOutcome.CALLBACK_REQUESTED)
CALLED_BACK = 0.75  # of the calls owed a call back, those staff did call back
KNOWN_CALLER = 0.7  # of the other calls, those from a patient's phone
SECONDS = {
    CallOutcome.REQUEST_MADE: (70, 240),
    CallOutcome.INFORMATION: (25, 90),
    CallOutcome.TRANSFERRED: (40, 300),
    CallOutcome.CALLBACK_REQUESTED: (40, 120),
    CallOutcome.CHANGED: (60, 200),
    CallOutcome.CANCELLED: (40, 120),
    CallOutcome.MISSED: (0, 8),
    CallOutcome.ABANDONED: (10, 60),
}


def write_calls(
    database: Database,
    rng: random.Random,
    *,
    plan: ClinicPlan,
    bookings: Sequence[BookingDraft],
    patients: Sequence[PatientDraft],
    ids: Sequence[int],
    now: datetime,
) -> int:
    """Write the call log; return how many calls."""
    rows = call_rows(rng, plan=plan, bookings=bookings, patients=patients, ids=ids, now=now)
    for chunk in chunks(rows, CHUNK):
        with database.transaction() as session:
            bulk(session, CallLog, list(chunk))
    return len(rows)


def call_rows(
    rng: random.Random,
    *,
    plan: ClinicPlan,
    bookings: Sequence[BookingDraft],
    patients: Sequence[PatientDraft],
    ids: Sequence[int],
    now: datetime,
) -> list[dict[str, Any]]:
    """A call for every phone booking already made, and the other calls around them."""
    outcomes, weights = list(OTHER_CALLS), list(OTHER_CALLS.values())
    others_per_booking = sum(weights)
    rows: list[dict[str, Any]] = []
    for draft in bookings:
        if draft.source != Source.PHONE or draft.created_at > now:
            continue
        caller = patients[draft.patient]
        began = draft.created_at - timedelta(
            seconds=rng.randint(*SECONDS[CallOutcome.REQUEST_MADE])
        )
        rows.append(
            _row(
                rng,
                plan,
                CallOutcome.REQUEST_MADE,
                began,
                caller=(caller.phone, ids[draft.patient]),
                now=now,
            )
        )
        extra = int(others_per_booking) + (rng.random() < others_per_booking % 1)
        for _ in range(extra):
            outcome = rng.choices(outcomes, weights)[0]
            # Around the same days and hours as the clinic's phone bookings.
            shift = timedelta(days=rng.randint(-14, 14), minutes=rng.randint(-90, 90))
            began = draft.created_at + shift
            if began > now:
                continue
            known = rng.random() < KNOWN_CALLER
            who = patients[rng.randrange(len(patients))] if known else None
            number = who.phone if who else _stranger(rng)
            patient_id = ids[who.index] if who and who.phone else None
            rows.append(_row(rng, plan, outcome, began, caller=(number, patient_id), now=now))
    rows.sort(key=lambda row: row["started_at"])
    return rows


def _row(
    rng: random.Random,
    plan: ClinicPlan,
    outcome: CallOutcome,
    began: datetime,
    *,
    caller: tuple[str | None, int | None],
    now: datetime,
) -> dict[str, Any]:
    number, patient_id = caller
    seconds = rng.randint(*SECONDS[outcome])
    ended = began + timedelta(seconds=seconds)
    followed_up = None
    if outcome in OWED and rng.random() < CALLED_BACK:
        followed_up = began + timedelta(minutes=rng.randint(10, 240))
        followed_up = followed_up if followed_up < now else None
    return {
        "clinic_id": plan.clinic_id,
        "call_sid": f"CA{rng.getrandbits(128):032x}",
        "from_number": number,
        "to_number": CLINIC_NUMBER,
        "patient_id": patient_id,
        "booking_id": None,
        "outcome": outcome,
        "last_step": None,
        "twilio_status": "no-answer" if outcome == CallOutcome.MISSED else "completed",
        "started_at": began,
        "ended_at": min(ended, now),
        "duration_seconds": seconds,
        "followed_up_at": followed_up,
    }


def _stranger(rng: random.Random) -> str | None:
    """A number the clinic does not know: mostly mobiles, some landlines, a few withheld."""
    draw = rng.random()
    if draw < 0.1:
        return None
    if draw < 0.3:
        return f"+813{rng.randint(10_000_000, 99_999_999)}"
    return f"+8190{rng.randint(10_000_000, 99_999_999)}"
