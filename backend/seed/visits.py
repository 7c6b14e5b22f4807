"""Visits as a clinic records them: what was paid and what the 施術録 says."""

from __future__ import annotations

import random
from datetime import date

from backend.seed import records
from backend.seed.drafts import VisitDraft
from backend.seed.journeys import Journey
from backend.seed.patients import age_on
from backend.seed.setup import CourseSpec

ADD_ON_YEN = 1_100  # a self-pay option (e.g. ハイボルテージ) taken with an insurance visit
TICKET_DISCOUNT = 0.9  # a 回数券 sells its visits at 10 % off


def _round10(yen: float) -> int:
    return int(round(yen / 10) * 10)


def insurance_split(course: CourseSpec, age: int) -> tuple[int, int]:
    """The patient's co-pay and the claim to the insurer; from 70 the co-pay is 2割, from 75
    1割 (the course's price is the usual 3割). Their sum is the same 療養費 either way."""
    total = course.price_yen + course.claim_yen
    if age >= 75:
        copay = _round10(total * 0.1)
    elif age >= 70:
        copay = _round10(total * 0.2)
    else:
        copay = course.price_yen
    return copay, total - copay


def make_visit(rng: random.Random, journey: Journey, course: CourseSpec, day: date) -> VisitDraft:
    """The payments and 施術録 entry of the journey's next visit, given on `day`."""
    number = journey.run_visits + 1
    if course.insurance:
        if journey.case is None:
            journey.case = records.new_case(rng, day)
        copay, claim = insurance_split(course, age_on(journey.patient, day))
        add_on = ADD_ON_YEN if journey.addon and rng.random() < 0.8 else 0
        record = records.insurance_record(rng, journey.case, number)
        return VisitDraft(copay, claim, add_on, 0, record)
    record = records.self_pay_record(rng, course.key, number)
    if journey.first_visit and course.first_price_yen is not None:
        return VisitDraft(0, 0, course.first_price_yen, 0, record)
    if journey.ticket:
        return VisitDraft(0, 0, 0, _round10(course.price_yen * TICKET_DISCOUNT), record)
    return VisitDraft(0, 0, course.price_yen, 0, record)
