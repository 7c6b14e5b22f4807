"""Never double-book: concurrent writers on real connections, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from backend import booking
from backend.db import Database
from backend.errors import DomainError, IllegalTransition, SlotUnavailable
from backend.models import Booking, BookingStatus, Source
from tests.factories import NOW, jst, make_bed, make_clinic, make_course, make_patient, make_staff

TEN = jst(2026, 12, 1, 10)


def setup_clinic(database: Database, *, patients: int, hold_minutes: int = 1440) -> dict:
    """One staff member, one bed: a single place per time. Committed for other connections."""
    with database.transaction() as session:
        clinic = make_clinic(session, request_hold_minutes=hold_minutes)
        make_staff(session, clinic)
        make_bed(session, clinic, capacity=1)
        course = make_course(session, clinic)
        people = [make_patient(session, clinic, name=f"患者{n}") for n in range(patients)]
        return {"clinic": clinic.id, "course": course.id, "patients": [p.id for p in people]}


def race(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call at once (released together by a barrier); return results or errors."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> object:
        barrier.wait()
        try:
            return call()
        except DomainError as error:
            return error

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def occupying_at(database: Database, clinic_id: int, status: BookingStatus) -> int:
    with database.reader() as session:
        return session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.clinic_id == clinic_id, Booking.status == status)
        )


def test_fifty_concurrent_requests_for_one_place_make_one_booking(committed: Database) -> None:
    ids = setup_clinic(committed, patients=50)

    def request(patient_id: int) -> Callable[[], object]:
        def call() -> object:
            with committed.transaction() as session:
                made = booking.request(
                    session,
                    clinic_id=ids["clinic"],
                    patient_id=patient_id,
                    course_id=ids["course"],
                    starts_at=TEN,
                    now=NOW,
                    source=Source.LINE,
                    actor=f"patient:{patient_id}",
                )
                return made.id

        return call

    results = race([request(patient_id) for patient_id in ids["patients"]])
    made = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, SlotUnavailable)]
    assert len(made) == 1
    assert len(refused) == 49
    assert occupying_at(committed, ids["clinic"], BookingStatus.REQUESTED) == 1


def test_two_staff_confirming_two_requests_for_one_place_confirm_one(committed: Database) -> None:
    # Both requests' holds ran out unanswered, so neither holds the place any more; each
    # confirmation re-checks the slot, and only one can have it.
    ids = setup_clinic(committed, patients=2, hold_minutes=5)
    made = []
    for offset, patient_id in enumerate(ids["patients"]):
        with committed.transaction() as session:
            made.append(
                booking.request(
                    session,
                    clinic_id=ids["clinic"],
                    patient_id=patient_id,
                    course_id=ids["course"],
                    starts_at=TEN,
                    now=NOW + timedelta(minutes=10 * offset),
                    source=Source.LINE,
                    actor="patient",
                ).id
            )
    later = NOW + timedelta(hours=1)

    def confirm(booking_id: int, staff: str) -> Callable[[], object]:
        def call() -> object:
            with committed.transaction() as session:
                return booking.confirm(session, booking_id=booking_id, actor=staff, now=later).id

        return call

    results = race([confirm(made[0], "staff:1"), confirm(made[1], "staff:2")])
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, SlotUnavailable) for r in results) == 1
    assert occupying_at(committed, ids["clinic"], BookingStatus.CONFIRMED) == 1


def test_two_staff_tapping_approve_on_one_request_one_wins(committed: Database) -> None:
    ids = setup_clinic(committed, patients=1)
    with committed.transaction() as session:
        request_id = booking.request(
            session,
            clinic_id=ids["clinic"],
            patient_id=ids["patients"][0],
            course_id=ids["course"],
            starts_at=TEN,
            now=NOW,
            source=Source.LINE,
            actor="patient",
        ).id

    def confirm(staff: str) -> Callable[[], object]:
        def call() -> object:
            with committed.transaction() as session:
                return booking.confirm(session, booking_id=request_id, actor=staff, now=NOW).id

        return call

    results = race([confirm("staff:1"), confirm("staff:2")])
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, IllegalTransition)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert losers[0].context["handled_by"] in {"staff:1", "staff:2"}
    with committed.reader() as session:
        changes = session.get(Booking, request_id).changes
        assert [c.to_status for c in changes] == [BookingStatus.REQUESTED, BookingStatus.CONFIRMED]
