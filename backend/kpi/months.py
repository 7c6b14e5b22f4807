"""Monthly reports: the month's KPIs, or a trend of consecutive months from one set of queries."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.kpi import calendar, ledger
from backend.kpi.report import MonthReport, rate, yen


@dataclass(frozen=True)
class _Facts:
    """What the queries returned, for every month asked for and the month before them."""

    clinic_id: int
    zone: ZoneInfo
    span: list[date]
    people: ledger.People
    totals: dict[int, ledger.Totals]
    present: dict[int, set[int]]
    firsts: dict[int, ledger.FirstVisit]
    flows: dict[str, Counter[int]]
    next_booked: Counter[int]


def month(session: Session, *, clinic_id: int, month: date, now: datetime) -> MonthReport:
    """The KPIs of the month `month` falls in."""
    return trend(session, clinic_id=clinic_id, months=1, until=month, now=now)[0]


def trend(
    session: Session, *, clinic_id: int, months: int, until: date, now: datetime
) -> list[MonthReport]:
    """The KPIs of `months` consecutive months ending with `until`'s month, oldest first."""
    asked = calendar.months_until(until, months)
    # The month before the first tells who was carried over into it.
    facts = _load(session, clinic_id, [calendar.add_months(asked[0], -1), *asked])
    return [_report(facts, index, now) for index in range(1, len(facts.span))]


def _load(session: Session, clinic_id: int, span: list[date]) -> _Facts:
    zone = calendar.clinic_zone(session, clinic_id)
    edges = calendar.month_edges(span, zone)
    people = ledger.people(session, clinic_id=clinic_id)
    return _Facts(
        clinic_id=clinic_id,
        zone=zone,
        span=span,
        people=people,
        totals=ledger.totals(session, clinic_id=clinic_id, edges=edges),
        present=ledger.presence(session, clinic_id=clinic_id, edges=edges, people=people),
        firsts=ledger.first_visits(session, clinic_id=clinic_id, people=people, zone=zone),
        flows=ledger.booking_flows(session, clinic_id=clinic_id, edges=edges),
        next_booked=ledger.next_booked(
            session, clinic_id=clinic_id, edges=edges, people=people, zone=zone
        ),
    )


def _report(facts: _Facts, index: int, now: datetime) -> MonthReport:
    first_day = facts.span[index]
    next_month = calendar.add_months(first_day, 1)
    sums = facts.totals.get(index, ledger.Totals())
    patients = len(facts.present.get(index, set()))
    return MonthReport(
        clinic_id=facts.clinic_id,
        month=first_day,
        complete=now >= calendar.midnight(next_month, facts.zone),
        visits=sums.visits,
        patients=patients,
        frequency=rate(sums.visits, patients),
        second_visit_final=now >= calendar.cohort_end(first_day, facts.zone),
        **_split(facts, index),
        **_bookings(facts, index, sums.visits),
        **_money(sums),
        **_genders(facts, index),
    )


def _split(facts: _Facts, index: int) -> dict[str, Any]:
    """持ち越し / 新患 / 再新患, and how many of the new patients came back within 14 days."""
    this_month, last_month = facts.span[index], facts.span[index - 1]
    before = facts.present.get(index - 1, set())
    carried = new = back = 0
    for person in facts.present.get(index, set()):
        first = facts.firsts[person]
        if calendar.first_of(first.day) == this_month:
            new += 1
            back += first.came_back()
        elif person in before or calendar.first_of(first.day) == last_month:
            carried += 1
    patients = len(facts.present.get(index, set()))
    return {
        "carried_over": carried,
        "new_patients": new,
        "returning": patients - carried - new,
        "second_visits": back,
        "second_visit_rate": rate(back, new),
    }


def _bookings(facts: _Facts, index: int, visits: int) -> dict[str, Any]:
    made = facts.flows["made"][index]
    cancelled = facts.flows["cancelled"][index]
    booked = facts.next_booked[index]
    return {
        "bookings_made": made,
        "cancellations": cancelled,
        "cancellation_rate": rate(cancelled, made),
        "no_shows": facts.flows["no_shows"][index],
        "next_booked_visits": booked,
        "next_booking_rate": rate(booked, visits),
    }


def _money(sums: ledger.Totals) -> dict[str, Any]:
    self_pay = sums.self_pay_yen + sums.ticket_yen
    revenue = sums.insurance_yen + self_pay
    per_minute = yen(sums.hands_on_revenue_yen * 10, sums.hands_on_minutes)
    return {
        "revenue_yen": revenue,
        "insurance_yen": sums.insurance_yen,
        "self_pay_yen": self_pay,
        "ticket_yen": sums.ticket_yen,
        "self_pay_share": rate(self_pay, revenue),
        "average_yen": yen(revenue, sums.visits),
        "hands_on_minutes": sums.hands_on_minutes,
        "yen_per_10_minutes": per_minute,
    }


def _genders(facts: _Facts, index: int) -> dict[str, int]:
    counted = Counter(facts.people.gender.get(person) for person in facts.present.get(index, ()))
    female, male = counted["female"], counted["male"]
    return {
        "female_patients": female,
        "male_patients": male,
        "other_patients": counted.total() - female - male,
    }
