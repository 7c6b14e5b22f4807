"""A realistic, deterministic demo clinic: `seed_clinic(database, patients=…, years=…, now=…)`.

One 整骨院 with staff, beds, courses and media; patients with full カルテ; years of bookings,
visits with 施術録 and payments, cancellations and no-shows; and four weeks of bookings
ahead. The same arguments always give the same rows: every choice comes from one
`random.Random(seed)`, and `now` is the only clock.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from backend.db import Database
from backend.models import BookingStatus, Clinic
from backend.seed import booking_rows, calls, charts, clinic, media, setup, writer
from backend.seed.drafts import PatientDraft
from backend.seed.history import FUTURE_DAYS, History
from backend.seed.patients import make_patients

Progress = Callable[[str, int, int], None]
PATIENT_STAGE = "カルテを作成"


@dataclass(frozen=True)
class SeedSummary:
    """What was seeded: the clinic's id and how many rows of each kind.

    `patients` counts people; `merged_duplicates` are extra カルテ merged into them.
    `upcoming` are confirmed or requested bookings from `now` on; `pending_requests` are
    the requests among them still holding their slot for staff to answer.
    """

    clinic_id: int
    first_day: date
    patients: int
    merged_duplicates: int
    bookings: int
    visits: int
    cancelled: int
    no_shows: int
    upcoming: int
    pending_requests: int
    booking_changes: int
    media_spend_months: int
    calls: int = 0


def seed_clinic(
    database: Database,
    *,
    patients: int = 1500,
    years: int = 2,
    now: datetime,
    seed: int = 1,
    progress: Progress | None = None,
) -> SeedSummary:
    """Create one demo clinic with `patients` カルテ and `years` of history up to `now`.

    Each stage is committed in chunks; `progress(stage, done, total)` is told as work
    advances. The database must already be migrated.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if patients < 1 or years < 1:
        raise ValueError("seed at least one patient and one year")
    # Demo data needs repeatability, not secrecy: one seeded generator drives every choice.
    rng = random.Random(seed)  # noqa: S311
    today = now.astimezone(ZoneInfo(setup.ZONE)).date()
    first_day = years_before(today, years)
    months = media.months_between(first_day, today)
    spend = media.spend_table(months, rng)
    with database.transaction() as session:
        last_day = today + timedelta(days=FUTURE_DAYS)
        plan = clinic.create_clinic(session, rng, first_day=first_day, last_day=last_day, now=now)
        spend_rows = clinic.add_spend(session, plan, spend)
    weights = media.new_patient_weights(months, spend)
    history = _simulate(
        rng, plan, patients, first_day=first_day, weights=weights, now=now, progress=progress
    )
    duplicates = charts.duplicates(rng, history.patients, now)
    changes, logged = _write(
        database, rng, plan=plan, history=history, duplicates=duplicates, progress=progress
    )
    summary = _summary(
        clinic_id=plan.clinic_id,
        first_day=first_day,
        history=history,
        merged=len(duplicates),
        changes=changes,
        spend_rows=spend_rows,
    )
    return dataclasses.replace(summary, calls=logged)


def _simulate(
    rng: random.Random,
    plan: clinic.ClinicPlan,
    patients: int,
    *,
    first_day: date,
    weights: dict[date, dict[str, float]],
    now: datetime,
    progress: Progress | None,
) -> History:
    """Make the patients and play their history; the カルテ are finished as of `now`."""
    history = History(plan, rng, first_day=first_day, now=now)
    if progress is not None:
        progress(PATIENT_STAGE, 0, patients)
    drafts = make_patients(rng, patients, first_day=first_day, today=history.today, weights=weights)
    if progress is not None:
        progress(PATIENT_STAGE, patients, patients)
    history.start(drafts)
    history.run(progress)
    charts.finish(rng, history, drafts)
    return history


def _write(
    database: Database,
    rng: random.Random,
    *,
    plan: clinic.ClinicPlan,
    history: History,
    duplicates: list[PatientDraft],
    progress: Progress | None,
) -> tuple[int, int]:
    """Write patients, bookings, merges and the call log; return how many booking changes
    and calls were written."""
    ids = writer.write_patients(database, plan, history.patients + duplicates, progress)
    # Ids follow the order bookings were made in, as they would in the running system.
    bookings = sorted(history.bookings, key=lambda draft: (draft.created_at, draft.starts_at))
    changes = booking_rows.write_bookings(database, plan, bookings, ids, progress)
    writer.write_merges(database, plan, duplicates, ids)
    logged = calls.write_calls(
        database,
        rng,
        plan=plan,
        bookings=bookings,
        patients=history.patients + duplicates,
        ids=ids,
        now=history.now,
    )
    with database.transaction() as session:
        # Availability caches are keyed by these tokens: fresh ones say "the schedule and
        # what it is made of changed" (the rows above were written without the ORM).
        token = f"{rng.getrandbits(128):032x}"
        session.execute(
            update(Clinic)
            .where(Clinic.id == plan.clinic_id)
            .values(schedule_token=token, config_token=token)
        )
    return changes, logged


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _summary(
    *,
    clinic_id: int,
    first_day: date,
    history: History,
    merged: int,
    changes: int,
    spend_rows: int,
) -> SeedSummary:
    statuses = Counter(booking.status for booking in history.bookings)
    upcoming = sum(
        1
        for booking in history.bookings
        if booking.starts_at >= history.now
        and booking.status in (BookingStatus.CONFIRMED, BookingStatus.REQUESTED)
    )
    return SeedSummary(
        clinic_id=clinic_id,
        first_day=first_day,
        patients=len(history.patients),
        merged_duplicates=merged,
        bookings=len(history.bookings),
        visits=statuses[BookingStatus.COMPLETED],
        cancelled=statuses[BookingStatus.CANCELLED],
        no_shows=statuses[BookingStatus.NO_SHOW],
        upcoming=upcoming,
        pending_requests=statuses[BookingStatus.REQUESTED],
        booking_changes=changes,
        media_spend_months=spend_rows,
    )
