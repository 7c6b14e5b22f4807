"""Rules that follow a patient's visits: thanks after the first visit (transactional), and
the second-visit follow-up, the next-visit nudge and the lapsed-patient messages
(marketing: consent, quiet hours and the cap apply in backend.messaging)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from backend import message_rules
from backend.models import Clinic, Course, MessageRule, Patient, Visit
from reminders import templates
from reminders.rules import common

# Thanks go out this long after the first visit's due time, at the latest.
THANK_YOU_LATE = timedelta(hours=24)


def thank_you(session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime) -> int:
    """Thanks `hours_after` a patient's first ever visit (late by at most a day)."""
    latest = now - timedelta(hours=float(message_rules.param(rule, "hours_after")))
    earlier = aliased(Visit)
    query = (
        select(Patient)
        .join(Visit, Visit.patient_id == Patient.id)
        .where(
            common.live(clinic),
            Visit.visited_at > latest - THANK_YOU_LATE,
            Visit.visited_at <= latest,
            ~select(earlier.id)
            .where(earlier.patient_id == Visit.patient_id, earlier.visited_at < Visit.visited_at)
            .exists(),
        )
    )
    messages = [
        common.Message(
            patient, f"rule:thank_you:{patient.id}", templates.patient_values(clinic, patient)
        )
        for patient in session.scalars(query).unique()
    ]
    return common.deliver(session, clinic=clinic, rule=rule, messages=messages, now=now)


def second_visit(session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime) -> int:
    """New patients `days` after their first visit with no second visit and nothing booked."""
    if not common.reached(clinic, rule, now):
        return 0
    days = int(message_rules.param(rule, "days"))
    due = common.today(clinic, now) - timedelta(days=days)
    visits = select(func.count(Visit.id)).where(Visit.patient_id == Patient.id)
    query = select(Patient).where(
        common.live(clinic),
        common.consented(),
        Patient.first_visit_on >= due - timedelta(days=common.LATE_DAYS),
        Patient.first_visit_on <= due,
        visits.scalar_subquery() <= 1,
        common.nothing_booked(now),
    )
    messages = [
        common.Message(
            patient,
            f"rule:second_visit:{patient.id}",
            {**templates.patient_values(clinic, patient), "days": days},
        )
        for patient in session.scalars(query)
    ]
    return common.deliver(session, clinic=clinic, rule=rule, messages=messages, now=now)


def _last_visits(
    session: Session, clinic: Clinic, *, first: date, last: date, now: datetime
) -> Sequence[tuple[Patient, datetime, Course | None]]:
    """Patients whose last visit fell on a local day in [first, last], with nothing booked,
    with that visit's time and course."""
    latest = (
        select(Visit.patient_id, func.max(Visit.visited_at).label("at"))
        .where(Visit.clinic_id == clinic.id)
        .group_by(Visit.patient_id)
        .having(func.max(Visit.visited_at) >= common.day_start(clinic, first))
        .having(func.max(Visit.visited_at) < common.day_start(clinic, last + timedelta(days=1)))
        .subquery()
    )
    query = (
        select(Patient, latest.c.at, Course)
        .join(latest, latest.c.patient_id == Patient.id)
        .join(Visit, (Visit.patient_id == Patient.id) & (Visit.visited_at == latest.c.at))
        .outerjoin(Course, Course.id == Visit.course_id)
        .where(common.live(clinic), common.consented(), common.nothing_booked(now))
        .order_by(Patient.id)
    )
    rows = session.execute(query).all()
    seen: set[int] = set()
    found = []
    for patient, at, course in rows:
        if patient.id not in seen:  # two visits at the same instant: one message
            seen.add(patient.id)
            found.append((patient, at, course))
    return found


def next_visit(session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime) -> int:
    """Patients whose last visit plus its course's revisit interval has come (up to
    LATE_DAYS ago) and who have nothing booked."""
    if not common.reached(clinic, rule, now):
        return 0
    intervals = [
        days
        for days in session.scalars(
            select(Course.revisit_interval_days).where(Course.clinic_id == clinic.id).distinct()
        )
        if days is not None
    ]
    if not intervals:
        return 0
    day = common.today(clinic, now)
    first = day - timedelta(days=max(intervals) + common.LATE_DAYS)
    last = day - timedelta(days=min(intervals))
    messages = []
    for patient, at, course in _last_visits(session, clinic, first=first, last=last, now=now):
        if course is None or course.revisit_interval_days is None:
            continue
        visited = common.local_day(clinic, at)
        due = visited + timedelta(days=course.revisit_interval_days)
        if not day - timedelta(days=common.LATE_DAYS) <= due <= day:
            continue
        values = {
            **templates.patient_values(clinic, patient),
            "days": (day - visited).days,
            "course": course.name,
        }
        key = f"rule:next_visit:{patient.id}:{visited.isoformat()}"
        messages.append(common.Message(patient, key, values))
    return common.deliver(session, clinic=clinic, rule=rule, messages=messages, now=now)


def lapsed(session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime) -> int:
    """Patients whose last visit was `threshold` days ago (or up to LATE_DAYS more), once
    per threshold and per last visit: a patient who comes back and lapses again hears
    from the clinic again."""
    if not common.reached(clinic, rule, now):
        return 0
    day = common.today(clinic, now)
    messages = []
    for threshold in sorted({int(value) for value in message_rules.param(rule, "thresholds")}):
        last = day - timedelta(days=threshold)
        first = last - timedelta(days=common.LATE_DAYS)
        for patient, at, _course in _last_visits(session, clinic, first=first, last=last, now=now):
            visited = common.local_day(clinic, at)
            values = {**templates.patient_values(clinic, patient), "days": threshold}
            key = f"rule:lapsed:{patient.id}:{visited.isoformat()}:{threshold}"
            messages.append(common.Message(patient, key, values))
    return common.deliver(session, clinic=clinic, rule=rule, messages=messages, now=now)
