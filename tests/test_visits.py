"""Visits: walk-ins with course defaults, amendments that keep earlier text, audited reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking, visits
from backend.errors import Invalid, NotFound
from backend.models import AuditAction, AuditLog, Outcome, PaymentKind, Visit, VisitAmendment
from tests.factories import NOW, jst, make_clinic, make_course, make_patient, make_staff

LATER = NOW + timedelta(hours=3)


@pytest.fixture
def clinic(session: Session):
    return make_clinic(session, hours=False)


@pytest.fixture
def patient(session: Session, clinic):
    return make_patient(session, clinic)


@pytest.fixture
def staff(session: Session, clinic):
    return make_staff(session, clinic, shifts=False)


@pytest.fixture
def walk_in(session: Session, clinic, patient):
    def record(**fields) -> Visit:
        return visits.record(
            session,
            clinic_id=clinic.id,
            patient_id=patient.id,
            actor="reception",
            now=NOW,
            **fields,
        )

    return record


def audit_details(session: Session, patient_id: int) -> list[tuple[AuditAction, str | None]]:
    rows = session.execute(
        select(AuditLog.action, AuditLog.detail)
        .where(AuditLog.patient_id == patient_id)
        .order_by(AuditLog.id)
    )
    return [(row.action, row.detail) for row in rows]


def test_self_pay_walk_in_takes_minutes_and_price_from_the_course(
    session: Session, clinic, staff, walk_in
) -> None:
    course = make_course(session, clinic)
    visit = walk_in(course_id=course.id, staff_id=staff.id, visited_at=jst(2026, 11, 30, 7, 30))
    assert (visit.staff_minutes, visit.machine_minutes) == (20, 10)
    assert (visit.self_pay_yen, visit.copay_yen, visit.claim_yen, visit.ticket_yen) == (
        4400,
        0,
        0,
        0,
    )
    assert visit.outcome == Outcome.CONTINUING
    assert visit.patient.first_visit_on == date(2026, 11, 30)


def test_insurance_walk_in_defaults_to_copay_and_claim(session: Session, clinic, walk_in) -> None:
    course = make_course(
        session,
        clinic,
        payment_kind=PaymentKind.INSURANCE,
        price_yen=600,
        insurance_claim_yen=1800,
    )
    visit = walk_in(course_id=course.id)
    assert (visit.copay_yen, visit.claim_yen, visit.self_pay_yen) == (600, 1800, 0)
    assert visit.visited_at == NOW


def test_given_payments_and_minutes_win_over_the_course(session: Session, clinic, walk_in) -> None:
    course = make_course(session, clinic)
    visit = walk_in(
        course_id=course.id,
        staff_minutes=35,
        payments=booking.Payments(self_pay_yen=0, ticket_yen=4000),
    )
    assert (visit.staff_minutes, visit.machine_minutes) == (35, 10)
    assert (visit.self_pay_yen, visit.ticket_yen) == (0, 4000)


def test_without_a_course_nothing_is_owed(walk_in) -> None:
    visit = walk_in(treatment="電気治療")
    assert (visit.staff_minutes, visit.revenue_yen, visit.course_id) == (0, 0, None)


def test_walk_in_refuses_foreign_and_future_references(
    session: Session, clinic, patient, walk_in
) -> None:
    other = make_clinic(session, hours=False, name="別の院")
    with pytest.raises(NotFound) as foreign_staff:
        walk_in(staff_id=make_staff(session, other, shifts=False).id)
    assert foreign_staff.value.context["field"] == "staff_id"
    with pytest.raises(NotFound) as foreign_course:
        walk_in(course_id=make_course(session, other).id)
    assert foreign_course.value.context["field"] == "course_id"
    with pytest.raises(NotFound) as foreign_patient:
        visits.record(
            session,
            clinic_id=other.id,
            patient_id=patient.id,
            actor="a",
            now=NOW,
        )
    assert foreign_patient.value.context["field"] == "patient_id"
    with pytest.raises(Invalid) as future:
        walk_in(visited_at=NOW + timedelta(hours=1))
    assert future.value.context["field"] == "visited_at"
    with pytest.raises(Invalid):
        walk_in(booking_id=1)


def test_amendments_keep_every_earlier_value(session: Session, walk_in) -> None:
    visit = walk_in(treatment="マッサージ", injury_part="腰部")
    visits.amend(session, visit_id=visit.id, actor="a", now=LATER, reason="誤記", treatment="鍼")
    visits.amend(
        session,
        visit_id=visit.id,
        actor="b",
        now=LATER + timedelta(minutes=5),
        reason="追記",
        treatment="鍼、温熱",
        injury_on=date(2026, 11, 28),
        outcome="cured",
        copay_yen=500,
    )
    session.expire_all()
    visit = session.get(Visit, visit.id)
    assert visit.treatment == "鍼、温熱"
    assert visit.outcome == Outcome.CURED
    assert visit.updated_at == LATER + timedelta(minutes=5)
    first, second = visit.amendments
    assert (first.actor, first.reason, first.at) == ("a", "誤記", LATER)
    assert first.changes == {"treatment": {"old": "マッサージ", "new": "鍼"}}
    assert second.changes == {
        "treatment": {"old": "鍼", "new": "鍼、温熱"},
        "injury_on": {"old": None, "new": "2026-11-28"},
        "outcome": {"old": "continuing", "new": "cured"},
        "copay_yen": {"old": 0, "new": 500},
    }


def test_an_amendment_that_changes_nothing_is_not_written(session: Session, walk_in) -> None:
    visit = walk_in(treatment="マッサージ")
    visits.amend(
        session, visit_id=visit.id, actor="a", now=LATER, reason="確認", treatment="マッサージ"
    )
    assert session.scalars(select(VisitAmendment)).all() == []
    assert visit.updated_at == NOW


@pytest.mark.parametrize(
    ("reason", "changes", "field"),
    [
        ("", {"treatment": "x"}, "reason"),
        ("   ", {"treatment": "x"}, "reason"),
        ("x" * 201, {"treatment": "x"}, "reason"),
        ("why", {"visited_at": NOW}, "visited_at"),
        ("why", {"patient_id": 1}, "patient_id"),
        ("why", {"outcome": "healed"}, "outcome"),
        ("why", {"outcome": None}, "outcome"),
        ("why", {"copay_yen": -1}, "copay_yen"),
        ("why", {"ticket_yen": None}, "ticket_yen"),
    ],
)
def test_amend_refuses(session: Session, walk_in, reason: str, changes: dict, field: str) -> None:
    visit = walk_in(treatment="マッサージ")
    with pytest.raises(Invalid) as refused:
        visits.amend(session, visit_id=visit.id, actor="a", now=LATER, reason=reason, **changes)
    assert refused.value.context["field"] == field
    assert visit.treatment == "マッサージ"


def test_every_read_and_change_is_audited_by_field_name(session: Session, patient, walk_in) -> None:
    visit = walk_in(symptoms="右膝の痛み")
    visits.get(session, visit_id=visit.id, actor="a", now=LATER)
    visits.list_for_patient(session, patient_id=patient.id, actor="a", now=LATER)
    visits.amend(session, visit_id=visit.id, actor="a", now=LATER, reason="追記", progress="軽快")
    subject = f"visit {visit.id}"
    assert audit_details(session, patient.id) == [
        (AuditAction.CREATE, f"{subject}: fields symptoms"),
        (AuditAction.READ, subject),
        (AuditAction.READ, "visits (1)"),
        (AuditAction.UPDATE, f"{subject}: fields progress"),
    ]


def test_list_is_newest_first_and_get_refuses_unknown(session: Session, patient, walk_in) -> None:
    older = walk_in(visited_at=NOW - timedelta(days=7))
    newer = walk_in(visited_at=NOW - timedelta(days=1))
    listed = visits.list_for_patient(session, patient_id=patient.id, actor="a", now=NOW)
    assert [visit.id for visit in listed] == [newer.id, older.id]
    with pytest.raises(NotFound):
        visits.get(session, visit_id=newer.id + 999_999, actor="a", now=NOW)
    with pytest.raises(NotFound):
        visits.list_for_patient(session, patient_id=patient.id + 999_999, actor="a", now=NOW)
