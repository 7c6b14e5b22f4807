"""The waitlist on a real database: joining, offering a freed start to the waiters it fits,
first accept wins, the others told, past days expiring, and two accepts racing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import booking, waitlist
from backend.conversation import codec
from backend.conversation.model import Say
from backend.db import Database
from backend.errors import DomainError, IllegalTransition, Invalid, NotFound, SlotUnavailable
from backend.models import (
    Booking,
    BookingStatus,
    Clinic,
    Course,
    OutboxMessage,
    Party,
    Patient,
    WaitlistEntry,
    WaitlistOffer,
    WaitStatus,
)
from tests.conftest import SessionStore
from tests.factories import (
    NOW,
    jst,
    make_bed,
    make_booking,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)

TUESDAY = date(2026, 12, 1)
TEN = jst(2026, 12, 1, 10)


@dataclass
class Place:
    """One practitioner, one bed: a single place per time. A 30-minute course at 10:00 and
    another at 10:30, so cancelling the first frees exactly 10:00–10:30."""

    clinic: Clinic
    pelvis: Course
    long: Course
    freed: Booking
    blocker: Booking


def place(session: Session) -> Place:
    clinic = make_clinic(session)
    make_staff(session, clinic)
    make_bed(session, clinic)
    pelvis = make_course(session, clinic)
    long = make_course(session, clinic, name="全身調整", staff_minutes=60, machine_minutes=0)
    holder = make_patient(session, clinic, name="予約 済子", phone="+819011112222")
    freed = make_booking(session, patient=holder, course=pelvis, starts_at=TEN)
    blocker = make_booking(
        session, patient=holder, course=pelvis, starts_at=TEN + timedelta(minutes=30)
    )
    return Place(clinic, pelvis, long, freed, blocker)


def waiter(session: Session, at: Place, name: str, course: Course, **overrides: object) -> Patient:
    """A LINE patient waiting for Tuesday with `course`."""
    number = 1000 + len(name) * 7 + sum(map(ord, name)) % 900
    patient = make_patient(
        session,
        at.clinic,
        name=name,
        phone=f"+8190{number:08d}",
        line_user_id=f"U{name.encode().hex()}"[:33],
        **overrides,
    )
    waitlist.join(
        session,
        clinic_id=at.clinic.id,
        patient_id=patient.id,
        course_id=course.id,
        staff_id=None,
        wanted_on=TUESDAY,
        now=NOW,
    )
    return patient


def cancel(session: Session, made: Booking) -> None:
    booking.cancel(session, booking_id=made.id, by=Party.PATIENT, actor="patient", now=NOW)


def rows(session: Session, purpose: str) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == purpose).order_by(OutboxMessage.id)
        )
    )


def offered(session: Session) -> int:
    return waitlist.offer_freed(SessionStore(session), now=NOW)


def test_join_once_per_day_and_leave(session: Session) -> None:
    at = place(session)
    patient = make_patient(session, at.clinic, line_user_id="U1")
    args = {
        "clinic_id": at.clinic.id,
        "patient_id": patient.id,
        "course_id": at.pelvis.id,
        "staff_id": None,
        "wanted_on": TUESDAY,
        "now": NOW,
    }

    entry, new = waitlist.join(session, **args)
    again, new_again = waitlist.join(session, **args | {"course_id": at.long.id})

    assert (new, new_again) == (True, False)
    assert again.id == entry.id
    assert (entry.status, entry.course_id, entry.wanted_on) == (
        WaitStatus.WAITING,
        at.pelvis.id,
        TUESDAY,
    )
    assert waitlist.entries(session, patient_id=patient.id, today=TUESDAY) == [entry]
    with pytest.raises(Invalid):
        waitlist.join(session, **args | {"wanted_on": date(2026, 11, 29)})
    other = make_patient(session, at.clinic, name="他人", phone="+819055556666")
    with pytest.raises(NotFound):
        waitlist.leave(session, entry_id=entry.id, patient_id=other.id, now=NOW)

    waitlist.leave(session, entry_id=entry.id, patient_id=patient.id, now=NOW)

    assert entry.status == WaitStatus.CANCELLED
    assert waitlist.entries(session, patient_id=patient.id, today=TUESDAY) == []


def test_a_cancellation_is_offered_only_to_waiters_it_fits(session: Session) -> None:
    at = place(session)
    fits = waiter(session, at, "合う 人", at.pelvis)
    waiter(session, at, "長い 人", at.long)  # 60 minutes do not fit in the 30 freed
    waiter(session, at, "電話 人", at.pelvis, line_reachable=False)  # blocked LINE: no button
    elsewhere = make_patient(session, at.clinic, name="別日", phone="+819077778888")
    waitlist.join(
        session,
        clinic_id=at.clinic.id,
        patient_id=elsewhere.id,
        course_id=at.pelvis.id,
        staff_id=None,
        wanted_on=date(2026, 12, 2),
        now=NOW,
    )
    assert offered(session) == 0  # nothing freed yet

    cancel(session, at.freed)
    assert offered(session) == 1

    offer = session.scalars(select(WaitlistOffer)).one()
    assert (offer.starts_at, offer.course_id, offer.freed_by_booking_id) == (
        TEN,
        at.pelvis.id,
        at.freed.id,
    )
    assert offer.closed_at is None
    (sent,) = rows(session, "waitlist:offer")
    assert (sent.patient_id, sent.recipient) == (fits.id, fits.line_user_id)
    (say,) = codec.load(sent.payload["replies"])
    assert isinstance(say, Say)
    assert "12月1日(火) 10:00〜 骨盤矯正 に空きが出ました" in say.text
    assert [(c.label, c.value) for c in say.choices] == [
        ("この時間で予約する", f"waitoffer:{offer.id}")
    ]
    # The next tick finds it offered already: no second offer, no second message.
    assert offered(session) == 0
    assert len(rows(session, "waitlist:offer")) == 1


def test_a_waiter_who_booked_that_day_another_way_gets_no_offer(session: Session) -> None:
    at = place(session)
    booked_otherwise = waiter(session, at, "別口 人", at.pelvis)
    still_waiting = waiter(session, at, "待つ 人", at.pelvis)
    # Booked Tuesday evening by phone after joining the waitlist for Tuesday.
    make_booking(
        session, patient=booked_otherwise, course=at.pelvis, starts_at=jst(2026, 12, 1, 17)
    )

    cancel(session, at.freed)
    assert offered(session) == 1

    (sent,) = rows(session, "waitlist:offer")
    assert sent.patient_id == still_waiting.id
    entries = {entry.patient_id: entry.status for entry in session.scalars(select(WaitlistEntry))}
    assert entries == {booked_otherwise.id: WaitStatus.BOOKED, still_waiting.id: WaitStatus.WAITING}


def test_a_declined_request_frees_its_start_too(session: Session) -> None:
    at = place(session)
    waiter(session, at, "合う 人", at.pelvis)
    booking.decline(session, booking_id=at.freed.id, actor="staff", now=NOW)
    assert offered(session) == 1


def test_a_booking_moved_away_frees_its_old_start(session: Session) -> None:
    at = place(session)
    fits = waiter(session, at, "合う 人", at.pelvis)
    booking.reschedule(
        session,
        booking_id=at.freed.id,
        starts_at=jst(2026, 12, 1, 15),
        by=Party.PATIENT,
        actor="patient",
        now=NOW,
    )

    assert waitlist.freed(session, now=NOW) == [waitlist.Freed(at.freed.id, TEN)]
    assert offered(session) == 1
    offer = session.scalars(select(WaitlistOffer)).one()
    assert (offer.starts_at, offer.freed_by_booking_id) == (TEN, at.freed.id)
    assert [row.patient_id for row in rows(session, "waitlist:offer")] == [fits.id]
    assert waitlist.freed(session, now=NOW) == []
    assert offered(session) == 0


def test_no_offer_when_the_start_was_taken_again(session: Session) -> None:
    at = place(session)
    waiter(session, at, "合う 人", at.pelvis)
    cancel(session, at.freed)
    quick = make_patient(session, at.clinic, name="早い 人", phone="+819033334444")
    make_booking(session, patient=quick, course=at.pelvis, starts_at=TEN)
    assert offered(session) == 0
    assert rows(session, "waitlist:offer") == []


def test_first_accept_wins_and_the_others_are_told(session: Session) -> None:
    at = place(session)
    first = waiter(session, at, "一番 さん", at.pelvis)
    second = waiter(session, at, "二番 さん", at.pelvis)
    cancel(session, at.freed)
    offered(session)
    offer = session.scalars(select(WaitlistOffer)).one()
    later = NOW + timedelta(minutes=5)

    made = waitlist.accept(
        session, offer_id=offer.id, patient_id=first.id, now=later, actor="patient:line"
    )

    assert (made.patient_id, made.starts_at, made.status) == (
        first.id,
        TEN,
        BookingStatus.REQUESTED,
    )
    assert (offer.taken_by_booking_id, offer.closed_at) == (made.id, later)
    entries = {e.patient_id: e.status for e in session.scalars(select(WaitlistEntry))}
    assert entries[first.id] == WaitStatus.BOOKED
    assert entries[second.id] == WaitStatus.WAITING
    (told,) = rows(session, "waitlist:taken")
    assert told.patient_id == second.id
    assert "先に埋まりました" in codec.load(told.payload["replies"])[0].text  # type: ignore[union-attr]

    with pytest.raises(IllegalTransition) as refused:
        waitlist.accept(
            session, offer_id=offer.id, patient_id=second.id, now=later, actor="patient:line"
        )
    assert refused.value.context["reason"] == "taken"


def test_an_offer_for_a_start_gone_by_or_taken_meanwhile_is_refused(session: Session) -> None:
    at = place(session)
    patient = waiter(session, at, "合う 人", at.pelvis)
    cancel(session, at.freed)
    offered(session)
    offer = session.scalars(select(WaitlistOffer)).one()
    quick = make_patient(session, at.clinic, name="早い 人", phone="+819033334444")
    make_booking(session, patient=quick, course=at.pelvis, starts_at=TEN)

    with pytest.raises(SlotUnavailable):
        waitlist.accept(
            session, offer_id=offer.id, patient_id=patient.id, now=NOW, actor="patient:line"
        )
    with pytest.raises(SlotUnavailable) as past:
        waitlist.accept(
            session,
            offer_id=offer.id,
            patient_id=patient.id,
            now=TEN + timedelta(minutes=1),
            actor="patient:line",
        )
    assert past.value.context["reason"] == "past"


def test_past_days_expire_and_past_offers_close(session: Session) -> None:
    at = place(session)
    patient = waiter(session, at, "合う 人", at.pelvis)
    cancel(session, at.freed)
    offered(session)
    waitlist.join(
        session,
        clinic_id=at.clinic.id,
        patient_id=patient.id,
        course_id=at.pelvis.id,
        staff_id=None,
        wanted_on=date(2026, 12, 2),
        now=NOW,
    )
    # Tuesday 23:59 in Tokyo: the day is not over yet.
    assert waitlist.expire(session, now=jst(2026, 12, 1, 23, 59)) == 0
    offer = session.scalars(select(WaitlistOffer)).one()
    assert offer.closed_at == jst(2026, 12, 1, 23, 59)

    assert waitlist.expire(session, now=jst(2026, 12, 2, 0, 0)) == 1

    statuses = dict(session.execute(select(WaitlistEntry.wanted_on, WaitlistEntry.status)).all())
    assert statuses == {TUESDAY: WaitStatus.EXPIRED, date(2026, 12, 2): WaitStatus.WAITING}


def test_two_accepts_at_once_give_one_booking(committed: Database) -> None:
    with committed.transaction() as session:
        at = place(session)
        patients = [waiter(session, at, f"競争 {n}", at.pelvis).id for n in range(2)]
        cancel(session, at.freed)
    offered_now = waitlist.offer_freed(committed, now=NOW)
    assert offered_now == 1
    with committed.reader() as session:
        offer_id = session.scalars(select(WaitlistOffer.id)).one()
    barrier = threading.Barrier(len(patients))

    def accept(patient_id: int) -> Callable[[], object]:
        def call() -> object:
            barrier.wait()
            try:
                with committed.transaction() as session:
                    return waitlist.accept(
                        session, offer_id=offer_id, patient_id=patient_id, now=NOW, actor="p"
                    ).id
            except DomainError as error:
                return error

        return call

    with ThreadPoolExecutor(max_workers=len(patients)) as pool:
        results = list(pool.map(lambda call: call(), [accept(p) for p in patients]))

    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, IllegalTransition) for r in results) == 1
    with committed.reader() as session:
        at_ten = session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.starts_at == TEN, Booking.status == BookingStatus.REQUESTED)
        )
        offer = session.get(WaitlistOffer, offer_id)
        assert at_ten == 1
        assert offer is not None
        assert offer.taken_by_booking_id in results


def test_two_workers_offering_one_freed_start_make_one_offer(committed: Database) -> None:
    with committed.transaction() as session:
        at = place(session)
        waiter(session, at, "合う 人", at.pelvis)
        cancel(session, at.freed)
        freed_id = at.freed.id
    barrier = threading.Barrier(2)

    def work() -> object:
        barrier.wait()
        with committed.transaction() as session:
            made = waitlist.offer(session, booking_id=freed_id, now=NOW)
            return made.id if made else None

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: work(), range(2)))

    assert sorted(results, key=lambda r: r is None)[1] is None
    with committed.reader() as session:
        assert session.scalar(select(func.count()).select_from(WaitlistOffer)) == 1
        sent = select(func.count()).select_from(OutboxMessage)
        assert session.scalar(sent.where(OutboxMessage.purpose == "waitlist:offer")) == 1
