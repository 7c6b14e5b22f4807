"""The booking lifecycle: every operation, its history, and every illegal transition."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking
from backend.errors import DeadlinePassed, IllegalTransition, Invalid, NotFound, SlotUnavailable
from backend.models import (
    Awaiting,
    Booking,
    BookingStatus,
    Party,
    PaymentKind,
    Source,
    Visit,
)
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

TEN = jst(2026, 12, 1, 10)
S = BookingStatus


@pytest.fixture
def clinic(session: Session):
    clinic = make_clinic(session)
    make_bed(session, clinic)
    return clinic


@pytest.fixture
def staff(session, clinic):
    return make_staff(session, clinic)


@pytest.fixture
def course(session, clinic):
    return make_course(session, clinic)


@pytest.fixture
def patient(session, clinic):
    return make_patient(session, clinic)


@pytest.fixture
def requested(session, patient, course, staff):
    return make_booking(session, patient=patient, course=course, starts_at=TEN)


def history(item: Booking) -> list[tuple]:
    return [(c.from_status, c.to_status, c.actor) for c in item.changes]


def test_a_request_holds_its_slot_and_waits_for_staff(requested, clinic):
    assert requested.status == S.REQUESTED
    assert requested.awaiting == Awaiting.STAFF
    assert requested.hold_until == NOW + timedelta(minutes=clinic.request_hold_minutes)
    assert requested.ends_at - requested.starts_at == timedelta(minutes=30)
    assert requested.staff_ends_at - requested.starts_at == timedelta(minutes=20)
    assert not requested.nominated
    assert history(requested) == [(None, S.REQUESTED, "test")]


def test_an_auto_approving_clinic_confirms_at_once(session, clinic, staff, course, patient):
    clinic.auto_approve = True
    made = make_booking(session, patient=patient, course=course, starts_at=TEN)
    assert made.status == S.CONFIRMED
    assert made.hold_until is None


def test_staff_bookings_are_confirmed_and_may_be_made_within_the_lead_time(
    session, staff, course, patient
):
    soon = jst(2026, 11, 30, 9)  # one hour after NOW is the earliest a patient may book
    made = make_booking(
        session, patient=patient, course=course, starts_at=soon, source=Source.STAFF
    )
    assert made.status == S.CONFIRMED
    with pytest.raises(SlotUnavailable):
        make_booking(session, patient=patient, course=course, starts_at=jst(2026, 11, 30, 8, 30))


def test_nominating_staff_records_it(session, staff, course, patient):
    made = make_booking(session, patient=patient, course=course, starts_at=TEN, staff=staff)
    assert made.nominated
    assert made.staff_id == staff.id


def test_the_least_busy_staff_member_gets_an_unnominated_booking(
    session, clinic, staff, course, patient
):
    other = make_staff(session, clinic, name="鈴木 一郎")
    make_bed(session, clinic, name="ベッド2")
    first = make_booking(session, patient=patient, course=course, starts_at=TEN, staff=staff)
    second = make_booking(
        session, patient=patient, course=course, starts_at=TEN + timedelta(hours=1)
    )
    assert first.staff_id == staff.id
    assert second.staff_id == other.id


def test_confirm_then_confirm_again_names_who_handled_it(session, requested):
    booking.confirm(session, booking_id=requested.id, actor="staff:1", now=NOW)
    assert requested.status == S.CONFIRMED
    assert requested.awaiting is None
    with pytest.raises(IllegalTransition) as refused:
        booking.confirm(session, booking_id=requested.id, actor="staff:2", now=NOW)
    assert refused.value.context["handled_by"] == "staff:1"
    assert history(requested)[-1] == (S.REQUESTED, S.CONFIRMED, "staff:1")


def test_decline_frees_the_slot(session, requested, patient, course):
    booking.decline(session, booking_id=requested.id, actor="staff:1", now=NOW, reason="満床")
    assert requested.status == S.DECLINED
    assert requested.changes[-1].reason == "満床"
    again = make_booking(session, patient=patient, course=course, starts_at=TEN)
    assert again.status == S.REQUESTED


def test_a_proposal_moves_the_request_and_waits_for_the_patient(session, requested):
    later = TEN + timedelta(hours=1)
    booking.propose(session, booking_id=requested.id, starts_at=later, actor="staff:1", now=NOW)
    assert requested.starts_at == later
    assert requested.awaiting == Awaiting.PATIENT
    with pytest.raises(IllegalTransition):
        booking.confirm(session, booking_id=requested.id, actor="staff:1", now=NOW)
    booking.accept(session, booking_id=requested.id, actor="patient", now=NOW)
    assert requested.status == S.CONFIRMED
    assert [c.starts_at for c in requested.changes] == [TEN, later, later]


def test_accept_needs_a_proposal(session, requested):
    with pytest.raises(IllegalTransition):
        booking.accept(session, booking_id=requested.id, actor="patient", now=NOW)


def test_a_proposal_must_be_free(session, requested, patient, course):
    taken = make_booking(
        session, patient=patient, course=course, starts_at=TEN + timedelta(hours=1)
    )
    with pytest.raises(SlotUnavailable):
        booking.propose(
            session, booking_id=requested.id, starts_at=taken.starts_at, actor="staff:1", now=NOW
        )
    assert requested.starts_at == TEN


def test_a_patient_cancels_before_the_deadline(session, requested):
    deadline = TEN - timedelta(minutes=180)
    booking.cancel(
        session, booking_id=requested.id, by=Party.PATIENT, actor="patient", now=deadline
    )
    assert requested.status == S.CANCELLED
    assert requested.cancelled_by == Party.PATIENT
    assert requested.cancelled_at == deadline


def test_after_the_deadline_a_patient_is_told_to_call(session, requested, clinic):
    booking.confirm(session, booking_id=requested.id, actor="staff:1", now=NOW)
    late = TEN - timedelta(minutes=179)
    with pytest.raises(DeadlinePassed) as refused:
        booking.cancel(
            session, booking_id=requested.id, by=Party.PATIENT, actor="patient", now=late
        )
    assert refused.value.context["phone"] == clinic.phone
    assert requested.status == S.CONFIRMED
    booking.cancel(session, booking_id=requested.id, by=Party.STAFF, actor="staff:1", now=late)
    assert requested.status == S.CANCELLED
    assert requested.cancelled_by == Party.STAFF


def test_a_patient_move_is_a_new_request_and_keeps_the_nominated_staff(
    session, clinic, staff, course, patient
):
    make_staff(session, clinic, name="鈴木 一郎")
    made = make_booking(session, patient=patient, course=course, starts_at=TEN, staff=staff)
    booking.confirm(session, booking_id=made.id, actor="staff:1", now=NOW)
    later = TEN + timedelta(days=1)
    booking.reschedule(
        session, booking_id=made.id, starts_at=later, by=Party.PATIENT, actor="patient", now=NOW
    )
    assert made.status == S.REQUESTED
    assert made.awaiting == Awaiting.STAFF
    assert made.starts_at == later
    assert made.staff_id == staff.id
    assert made.course_id == course.id


def test_a_staff_move_stays_confirmed(session, requested):
    later = TEN + timedelta(hours=5)
    booking.reschedule(
        session, booking_id=requested.id, starts_at=later, by=Party.STAFF, actor="staff:1", now=NOW
    )
    assert requested.status == S.CONFIRMED
    assert requested.ends_at == later + timedelta(minutes=30)


def test_moving_after_the_deadline_is_refused_for_patients(session, requested):
    booking.confirm(session, booking_id=requested.id, actor="staff:1", now=NOW)
    with pytest.raises(DeadlinePassed):
        booking.reschedule(
            session,
            booking_id=requested.id,
            starts_at=TEN + timedelta(days=1),
            by=Party.PATIENT,
            actor="patient",
            now=TEN - timedelta(minutes=30),
        )


def test_a_request_nobody_accepted_can_be_withdrawn_after_the_deadline(session, requested):
    late = TEN - timedelta(minutes=30)
    booking.propose(session, booking_id=requested.id, starts_at=TEN, actor="staff:1", now=late)
    booking.cancel(session, booking_id=requested.id, by=Party.PATIENT, actor="patient", now=late)
    assert requested.status == S.CANCELLED


def test_no_show_only_after_the_start(session, requested):
    booking.confirm(session, booking_id=requested.id, actor="staff:1", now=NOW)
    with pytest.raises(IllegalTransition):
        booking.mark_no_show(session, booking_id=requested.id, actor="staff:1", now=NOW)
    booking.mark_no_show(
        session, booking_id=requested.id, actor="staff:1", now=TEN + timedelta(minutes=15)
    )
    assert requested.status == S.NO_SHOW


def test_completing_creates_the_visit_with_self_pay(session, requested, patient):
    booking.confirm(session, booking_id=requested.id, actor="staff:1", now=NOW)
    visit = booking.complete(
        session, booking_id=requested.id, actor="staff:1", now=TEN + timedelta(minutes=30)
    )
    assert requested.status == S.COMPLETED
    assert (visit.staff_minutes, visit.machine_minutes) == (20, 10)
    assert (visit.self_pay_yen, visit.copay_yen, visit.claim_yen) == (4400, 0, 0)
    assert visit.visited_at == TEN
    assert visit.booking_id == requested.id
    assert patient.first_visit_on.isoformat() == "2026-12-01"


def test_completing_an_insurance_course_splits_copay_and_claim(session, clinic, staff, patient):
    course = make_course(
        session,
        clinic,
        name="保険施術",
        payment_kind=PaymentKind.INSURANCE,
        price_yen=500,
        insurance_claim_yen=1200,
    )
    made = make_booking(session, patient=patient, course=course, starts_at=TEN, source=Source.STAFF)
    visit = booking.complete(
        session,
        booking_id=made.id,
        actor="staff:1",
        now=TEN,
        payments=booking.Payments(ticket_yen=0, self_pay_yen=1000),
    )
    assert (visit.copay_yen, visit.claim_yen, visit.self_pay_yen) == (500, 1200, 1000)
    assert visit.revenue_yen == 2700


def test_completing_before_the_start_is_refused(session, requested):
    booking.confirm(session, booking_id=requested.id, actor="staff:1", now=NOW)
    with pytest.raises(IllegalTransition):
        booking.complete(session, booking_id=requested.id, actor="staff:1", now=NOW)
    assert session.scalar(select(Visit).where(Visit.booking_id == requested.id)) is None


def test_expired_holds_expire(session, requested, clinic):
    assert booking.expire_holds(session, now=requested.hold_until - timedelta(seconds=1)) == 0
    assert booking.expire_holds(session, now=requested.hold_until) == 1
    assert requested.status == S.EXPIRED
    assert history(requested)[-1] == (S.REQUESTED, S.EXPIRED, "system")


def test_confirming_a_request_whose_hold_ran_out_checks_the_slot_again(
    session, clinic, requested, patient, course
):
    after_hold = requested.hold_until + timedelta(minutes=1)
    make_booking(session, patient=patient, course=course, starts_at=TEN, now=after_hold)
    with pytest.raises(SlotUnavailable):
        booking.confirm(session, booking_id=requested.id, actor="staff:1", now=after_hold)
    assert requested.status == S.REQUESTED


OPERATIONS = {
    "confirm": lambda s, b: booking.confirm(s, booking_id=b.id, actor="x", now=NOW),
    "decline": lambda s, b: booking.decline(s, booking_id=b.id, actor="x", now=NOW),
    "propose": lambda s, b: booking.propose(s, booking_id=b.id, starts_at=TEN, actor="x", now=NOW),
    "accept": lambda s, b: booking.accept(s, booking_id=b.id, actor="x", now=NOW),
    "cancel": lambda s, b: booking.cancel(s, booking_id=b.id, by=Party.STAFF, actor="x", now=NOW),
    "reschedule": lambda s, b: booking.reschedule(
        s, booking_id=b.id, starts_at=TEN, by=Party.STAFF, actor="x", now=NOW
    ),
    "no_show": lambda s, b: booking.mark_no_show(s, booking_id=b.id, actor="x", now=NOW),
    "complete": lambda s, b: booking.complete(s, booking_id=b.id, actor="x", now=NOW),
    "expire": None,
}
ILLEGAL = [
    (operation, status)
    for operation, allowed in booking.ALLOWED.items()
    for status in BookingStatus
    if status not in allowed and OPERATIONS[operation] is not None
]


@pytest.mark.parametrize(("operation", "status"), ILLEGAL)
def test_every_illegal_transition_is_refused(session, requested, operation, status):
    requested.status = status
    session.flush()
    with pytest.raises(IllegalTransition, match=f"that is {status.value}"):
        OPERATIONS[operation](session, requested)
    assert requested.status == status


def test_wrong_ids_and_times_are_refused(session, clinic, staff, course, patient):
    with pytest.raises(NotFound):
        booking.confirm(session, booking_id=987654, actor="x", now=NOW)
    other = make_clinic(session, name="別院")
    stranger = make_patient(session, other)
    with pytest.raises(NotFound):
        make_booking(session, patient=stranger, course=course, starts_at=TEN)
    with pytest.raises(Invalid):
        make_booking(session, patient=patient, course=course, starts_at=TEN.replace(tzinfo=None))
    with pytest.raises(Invalid):
        make_booking(session, patient=patient, course=course, starts_at=TEN + timedelta(seconds=30))
    merged = make_patient(session, clinic, merged_into_id=patient.id)
    with pytest.raises(Invalid):
        make_booking(session, patient=merged, course=course, starts_at=TEN)


@pytest.mark.parametrize(
    ("starts_at", "why"),
    [
        (jst(2026, 12, 1, 11, 45), "would run past the 12:00 lunch break"),
        (jst(2026, 12, 6, 10), "Sunday"),
        (jst(2026, 12, 1, 21), "after closing"),
        (NOW + timedelta(days=61), "beyond the horizon"),
    ],
)
def test_closed_or_out_of_window_times_are_refused(session, staff, course, patient, starts_at, why):
    with pytest.raises(SlotUnavailable):
        make_booking(session, patient=patient, course=course, starts_at=starts_at)
