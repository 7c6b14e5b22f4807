"""The demo clinic seed: deterministic, never double-booked, and shaped like a real clinic."""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking, migrate
from backend.booking import schedule
from backend.db import Database
from backend.models import (
    OCCUPYING,
    Bed,
    Booking,
    BookingChange,
    BookingStatus,
    CallLog,
    CallOutcome,
    Clinic,
    ClosedDay,
    Course,
    Media,
    OpeningHours,
    Patient,
    PaymentKind,
    Source,
    Staff,
    StaffDayOff,
    StaffRole,
    StaffShift,
    Visit,
)
from backend.seed import SeedSummary, seed_clinic
from backend.seed import calls as seed_calls
from tests.factories import NOW

JST = ZoneInfo("Asia/Tokyo")
SMALL = {"patients": 120, "years": 1}
KATAKANA = re.compile(r"^[\u30a0-\u30ff]+ [\u30a0-\u30ff]+$")
PHONE = re.compile(r"^\+81(90|80|70)\d{8}$|^\+813\d{8}$")
LINE_USER = re.compile(r"^U[0-9a-f]{32}$")


@dataclass(frozen=True)
class Seeded:
    database: Database
    summary: SeedSummary
    calls: list[tuple[str, int, int]]


@pytest.fixture
def seeded(committed: Database) -> Seeded:
    calls: list[tuple[str, int, int]] = []
    summary = seed_clinic(committed, **SMALL, now=NOW, progress=lambda *call: calls.append(call))
    return Seeded(committed, summary, calls)


def rows(seeded: Seeded, query: Callable[[Session], list]) -> list:
    with seeded.database.reader() as session:
        return query(session)


def bookings(seeded: Seeded) -> list[Booking]:
    return rows(seeded, lambda s: list(s.scalars(select(Booking).order_by(Booking.id))))


def local(moment: datetime) -> datetime:
    return moment.astimezone(JST)


def minute_of_day(moment: datetime) -> int:
    moment = local(moment)
    return moment.hour * 60 + moment.minute


def digest(database: Database) -> str:
    """A fingerprint of the seeded rows that ignores ids (they differ between databases)."""
    with database.reader() as session:
        patients = session.scalars(select(Patient).order_by(Patient.id)).all()
        position = {patient.id: index for index, patient in enumerate(patients)}
        names = {
            model.__name__: dict(session.execute(select(model.id, model.name)).all())
            for model in (Staff, Course, Bed, Media)
        }
        parts: list[object] = [
            (p.name, p.kana, p.phone, p.email, p.birth_on, p.gender, p.first_visit_on,
             names["Media"].get(p.media_id), position.get(p.merged_into_id or 0), p.created_at,
             p.line_user_id)
            for p in patients
        ]  # fmt: skip
        parts += [
            (position[b.patient_id], names["Course"][b.course_id], names["Staff"].get(b.staff_id),
             names["Bed"][b.bed_id], b.starts_at, b.status, b.source, b.created_at, b.nominated)
            for b in session.scalars(select(Booking).order_by(Booking.id))
        ]  # fmt: skip
        parts += [
            (position[v.patient_id], v.visited_at, v.outcome, v.treatment, v.copay_yen,
             v.claim_yen, v.self_pay_yen, v.ticket_yen)
            for v in session.scalars(select(Visit).order_by(Visit.id))
        ]  # fmt: skip
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def test_the_same_arguments_give_the_same_rows(committed: Database, tmp_path: Path) -> None:
    first = seed_clinic(committed, **SMALL, now=NOW)
    fresh = Database(f"sqlite:///{tmp_path / 'again.db'}")
    migrate.upgrade(fresh.engine)
    try:
        second = seed_clinic(fresh, **SMALL, now=NOW)
        assert digest(fresh) == digest(committed)
    finally:
        fresh.dispose()
    assert replace(second, clinic_id=first.clinic_id) == first


def test_another_seed_gives_other_patients(committed: Database, tmp_path: Path) -> None:
    seed_clinic(committed, patients=30, years=1, now=NOW, seed=1)
    fresh = Database(f"sqlite:///{tmp_path / 'other.db'}")
    migrate.upgrade(fresh.engine)
    try:
        seed_clinic(fresh, patients=30, years=1, now=NOW, seed=2)
        assert digest(fresh) != digest(committed)
    finally:
        fresh.dispose()


def test_no_staff_member_is_ever_booked_twice_at_once(seeded: Seeded) -> None:
    by_staff: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for b in bookings(seeded):
        if b.status in OCCUPYING and b.staff_id is not None and b.staff_ends_at > b.starts_at:
            by_staff[b.staff_id].append((b.starts_at, b.staff_ends_at))
    assert by_staff
    for spans in by_staff.values():
        spans.sort()
        for (_start, end), (next_start, _end) in pairwise(spans):
            assert end <= next_start


def test_no_bed_ever_holds_more_than_its_capacity(seeded: Seeded) -> None:
    capacity = dict(rows(seeded, lambda s: s.execute(select(Bed.id, Bed.capacity)).all()))
    events: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for b in bookings(seeded):
        if b.status in OCCUPYING:
            events[b.bed_id] += [(b.starts_at, 1), (b.ends_at, -1)]
    assert any(capacity[bed] > 1 for bed in events)
    for bed_id, changes in events.items():
        load = 0
        for _moment, step in sorted(changes):  # an end sorts before a start at the same time
            load += step
            assert load <= capacity[bed_id]


def _opening(seeded: Seeded) -> dict[int, list[tuple[time, time]]]:
    ranges: dict[int, list[tuple[time, time]]] = defaultdict(list)
    query = select(OpeningHours.weekday, OpeningHours.opens_at, OpeningHours.closes_at)
    for weekday, opens, closes in rows(seeded, lambda s: s.execute(query).all()):
        ranges[weekday].append((opens, closes))
    return ranges


def _within(ranges: list[tuple[time, time]], start: datetime, end: datetime) -> bool:
    first, last = local(start).time(), local(end).time()
    return local(start).date() == local(end).date() and any(
        opens <= first and last <= closes for opens, closes in ranges
    )


def test_every_booking_is_in_opening_hours_and_its_staff_member_s_shift(seeded: Seeded) -> None:
    opening = _opening(seeded)
    closed = set(rows(seeded, lambda s: list(s.scalars(select(ClosedDay.closed_on)))))
    shifts: dict[tuple[int, int], list[tuple[time, time]]] = defaultdict(list)
    query = select(
        StaffShift.staff_id, StaffShift.weekday, StaffShift.starts_at, StaffShift.ends_at
    )
    for staff_id, weekday, starts, ends in rows(seeded, lambda s: s.execute(query).all()):
        shifts[staff_id, weekday].append((starts, ends))
    leave = set(
        rows(seeded, lambda s: s.execute(select(StaffDayOff.staff_id, StaffDayOff.off_on)).all())
    )
    for b in bookings(seeded):
        day = local(b.starts_at).date()
        assert day not in closed
        assert not schedule.is_holiday(day)
        assert _within(opening[day.weekday()], b.starts_at, b.ends_at)
        if b.staff_id is not None:
            assert (b.staff_id, day) not in leave
            assert _within(shifts[b.staff_id, day.weekday()], b.starts_at, b.staff_ends_at)


def test_the_receptionist_treats_nobody(seeded: Seeded) -> None:
    desk = rows(
        seeded, lambda s: list(s.scalars(select(Staff.id).where(Staff.role == StaffRole.RECEPTION)))
    )
    assert len(desk) == 1
    assert all(b.staff_id != desk[0] for b in bookings(seeded))


def _changes(seeded: Seeded) -> dict[int, list[BookingChange]]:
    found: dict[int, list[BookingChange]] = defaultdict(list)
    query = select(BookingChange).order_by(BookingChange.id)
    for change in rows(seeded, lambda s: list(s.scalars(query))):
        found[change.booking_id].append(change)
    return found


def test_every_booking_has_a_history_that_leads_to_its_status(seeded: Seeded) -> None:
    changes = _changes(seeded)
    visited = set(rows(seeded, lambda s: list(s.scalars(select(Visit.booking_id)))))
    for b in bookings(seeded):
        steps = changes[b.id]
        assert steps[0].from_status is None
        assert steps[0].at == b.created_at < b.starts_at
        assert all(a.to_status == c.from_status for a, c in pairwise(steps))
        assert all(a.at <= c.at <= NOW for a, c in pairwise(steps))
        assert steps[-1].to_status == b.status
        assert (b.status == BookingStatus.COMPLETED) == (b.id in visited)
        if b.status == BookingStatus.CANCELLED:
            assert b.cancelled_at == steps[-1].at
            assert b.cancelled_by is not None
        if b.status == BookingStatus.REQUESTED:
            assert b.hold_until is not None
            assert b.hold_until > NOW


def test_cancellations_and_no_shows_are_at_a_realistic_rate(seeded: Seeded) -> None:
    past = Counter(b.status for b in bookings(seeded) if b.starts_at < NOW)
    total = sum(past.values())
    assert 0.03 <= past[BookingStatus.CANCELLED] / total <= 0.12
    assert 0.005 <= past[BookingStatus.NO_SHOW] / total <= 0.04
    assert past[BookingStatus.COMPLETED] / total > 0.8


def test_payments_add_up_and_self_pay_is_a_realistic_share(seeded: Seeded) -> None:
    courses = {c.id: c for c in rows(seeded, lambda s: list(s.scalars(select(Course))))}
    visits = rows(seeded, lambda s: list(s.scalars(select(Visit))))
    for visit in visits:
        course = courses[visit.course_id]
        if course.payment_kind == PaymentKind.INSURANCE:
            assert (
                visit.copay_yen + visit.claim_yen == course.price_yen + course.insurance_claim_yen
            )
            assert visit.ticket_yen == 0
        else:
            assert visit.copay_yen == visit.claim_yen == 0
            assert 0 < visit.self_pay_yen + visit.ticket_yen <= course.price_yen
    self_pay = sum(v.self_pay_yen + v.ticket_yen for v in visits)
    assert 0.10 <= self_pay / sum(v.revenue_yen for v in visits) <= 0.70


def test_the_week_has_a_real_clinic_s_rhythm(seeded: Seeded) -> None:
    visits = rows(seeded, lambda s: list(s.scalars(select(Visit.visited_at))))
    hours = Counter(local(moment).hour for moment in visits)
    assert hours[17] + hours[18] > 2 * (hours[13] + hours[14])
    assert not any(local(moment).weekday() == 6 for moment in visits)
    weekdays = Counter(local(moment).weekday() for moment in visits)
    assert weekdays[5] > 0


def test_patients_look_like_real_karte(seeded: Seeded) -> None:
    patients = rows(seeded, lambda s: list(s.scalars(select(Patient))))
    media = rows(seeded, lambda s: list(s.scalars(select(Media.id))))
    genders = Counter(p.gender for p in patients)
    assert genders["female"] > genders["male"] > 0
    assert {p.media_id for p in patients} == set(media)
    assert all(KATAKANA.match(p.kana) for p in patients)
    assert all(p.phone is None or PHONE.match(p.phone) for p in patients)
    assert all(re.fullmatch(r"\d{3}-\d{4}", p.postal_code) for p in patients)
    assert all(LINE_USER.match(p.line_user_id) for p in patients if p.line_user_id)
    assert any(not p.line_reachable for p in patients)
    assert all(15 <= (NOW.date() - p.birth_on).days // 365 <= 86 for p in patients)


def test_some_duplicates_were_merged_and_hold_no_bookings(seeded: Seeded) -> None:
    patients = rows(seeded, lambda s: list(s.scalars(select(Patient))))
    merged = {p.id for p in patients if p.merged_into_id is not None}
    assert merged
    assert seeded.summary.merged_duplicates == len(merged)
    assert not merged & {b.patient_id for b in bookings(seeded)}


def test_the_next_four_weeks_are_already_booked(seeded: Seeded) -> None:
    ahead = [
        b
        for b in bookings(seeded)
        if b.starts_at >= NOW and b.status in (BookingStatus.CONFIRMED, BookingStatus.REQUESTED)
    ]
    assert ahead
    assert max(b.starts_at for b in ahead) <= NOW + timedelta(days=29)
    assert len(ahead) == seeded.summary.upcoming


def test_progress_counts_up_to_the_total_in_every_stage(seeded: Seeded) -> None:
    by_stage: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for stage, done, total in seeded.calls:
        by_stage[stage].append((done, total))
    assert len(by_stage) >= 3
    for counts in by_stage.values():
        done = [count for count, _total in counts]
        assert done == sorted(done)
        assert counts[-1][0] == counts[-1][1]


def test_the_booking_engine_still_answers_for_the_seeded_clinic(seeded: Seeded) -> None:
    with seeded.database.reader() as session:
        clinic = session.get(Clinic, seeded.summary.clinic_id)
        assert clinic is not None
        assert re.fullmatch(r"[0-9a-f]{32}", clinic.schedule_token)
        course = session.scalars(
            select(Course).where(Course.clinic_id == clinic.id, Course.name == "保険施術")
        ).one()
        taken = session.scalars(
            select(Booking).where(
                Booking.clinic_id == clinic.id,
                Booking.status == BookingStatus.CONFIRMED,
                Booking.starts_at > NOW + timedelta(hours=2),
                Booking.staff_id.is_not(None),
            )
        ).first()
        assert taken is not None
        day = local(taken.starts_at).date()
        starts = booking.free_starts(
            session, clinic_id=clinic.id, course_id=course.id, first_day=day, last_day=day,
            now=NOW, staff_id=taken.staff_id,
        )  # fmt: skip
        anyone = booking.free_starts(
            session, clinic_id=clinic.id, course_id=course.id,
            first_day=NOW.date(), last_day=NOW.date() + timedelta(days=13), now=NOW,
        )  # fmt: skip
    assert anyone
    assert taken.starts_at not in starts


def test_the_booking_engine_books_into_the_seeded_schedule(seeded: Seeded) -> None:
    with seeded.database.transaction() as session:
        clinic_id = seeded.summary.clinic_id
        course = session.scalars(select(Course).where(Course.name == "骨盤矯正")).one()
        patient = session.scalars(
            select(Patient).where(Patient.merged_into_id.is_(None)).order_by(Patient.id)
        ).first()
        assert patient is not None
        first_day = local(NOW).date() + timedelta(days=1)
        free = booking.free_starts(
            session, clinic_id=clinic_id, course_id=course.id, first_day=first_day,
            last_day=first_day + timedelta(days=6), now=NOW,
        )  # fmt: skip
        made = booking.request(
            session, clinic_id=clinic_id, patient_id=patient.id, course_id=course.id,
            starts_at=free[0], now=NOW, source=Source.STAFF, actor="test",
        )  # fmt: skip
        assert made.status == BookingStatus.CONFIRMED
        assert made.id > max(b.id for b in bookings(seeded))


def test_now_must_be_aware(committed: Database) -> None:
    with pytest.raises(ValueError, match="aware"):
        seed_clinic(committed, patients=5, now=datetime(2026, 11, 30, 8))  # noqa: DTZ001


def test_history_starts_years_before_now(seeded: Seeded) -> None:
    assert seeded.summary.first_day == date(2025, 11, 30)
    first = min(b.starts_at for b in bookings(seeded))
    assert local(first).date() >= seeded.summary.first_day


def test_the_phone_line_has_a_call_log_behind_its_kpis(seeded: Seeded) -> None:
    logged = rows(seeded, lambda s: list(s.scalars(select(CallLog).order_by(CallLog.id))))
    phone_bookings = [
        item for item in bookings(seeded) if item.source == Source.PHONE and item.created_at <= NOW
    ]

    assert len(logged) == seeded.summary.calls > len(phone_bookings) > 0
    outcomes = Counter(call.outcome for call in logged)
    # Every booking made by phone was a call that made a request.
    assert outcomes[CallOutcome.REQUEST_MADE] == len(phone_bookings)
    assert {CallOutcome.MISSED, CallOutcome.INFORMATION, CallOutcome.TRANSFERRED} <= set(outcomes)
    assert all(call.started_at <= call.ended_at <= NOW for call in logged)
    owed = [call for call in logged if call.outcome in seed_calls.OWED]
    called_back = [call for call in owed if call.followed_up_at is not None]
    assert 0 < len(called_back) < len(owed)
    assert all(call.followed_up_at > call.started_at for call in called_back)
    assert all(call.from_number is None or PHONE.match(call.from_number) for call in logged), (
        "every caller's number is a Japanese mobile or landline, or withheld"
    )
    assert len({call.call_sid for call in logged}) == len(logged)
    assert seed_calls.CLINIC_NUMBER in {call.to_number for call in logged}
