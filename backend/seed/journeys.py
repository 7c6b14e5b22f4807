"""How each patient's story goes: which course, how long they stay, how often they come.

A new patient's fate is settled at the first visit, as it is in a clinic: the media they
came from, the course and the practitioner who saw them first all move the odds of coming
only once, finishing a short course of treatment, becoming a regular or drifting away.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from backend.models import Gender, Outcome
from backend.seed import media, notes, records
from backend.seed.drafts import PatientDraft, VisitDraft
from backend.seed.patients import age_on
from backend.seed.setup import StaffSpec


class Profile(StrEnum):
    """How long a patient stays."""

    ONE_TIME = "one_time"
    SHORT = "short"
    REGULAR = "regular"
    LAPSED = "lapsed"
    RETURNING = "returning"


INSURANCE_KEYS = ("first", "insurance")


@dataclass(slots=True)
class Journey:
    """A patient's plan: the current run (an insurance case or a self-pay course) and after."""

    patient: PatientDraft
    course: str
    profile: Profile | None = None
    remaining: int = 1
    run_visits: int = 0
    closing: Outcome = Outcome.DISCONTINUED
    case: records.Case | None = None
    then: str | None = None
    then_visits: int = 0
    episodes: list[date] = field(default_factory=list)
    nominee: int | None = None
    will_nominate: bool = False
    ticket: bool = False
    addon: bool = False
    first_visit: bool = True
    last_visit: VisitDraft | None = None
    last_day: date | None = None
    booked_ahead: bool = False
    visits: int = 0

    @property
    def insurance(self) -> bool:
        """Whether the current run is an insurance case."""
        return self.course in INSURANCE_KEYS


def self_pay_course(rng: random.Random, draft: PatientDraft, today: date) -> str:
    """The self-pay course that suits the patient (産後 mothers come for 骨盤矯正)."""
    if notes.is_young_mother(draft.family):
        return "pelvis"
    young_woman = draft.gender == Gender.FEMALE and age_on(draft, today) < 50
    weights = (5, 2, 3, 1) if young_woman else (1, 3, 4, 1)
    return rng.choices(("pelvis", "acupuncture", "massage", "ems"), weights)[0]


def start_new(rng: random.Random, draft: PatientDraft) -> tuple[Journey, date]:
    """A new patient's journey and the day they would like to come first."""
    assert draft.arrival is not None
    spec = media.by_name(draft.media)
    sporty = notes.plays_sport(draft.hobbies) and age_on(draft, draft.arrival) < 30
    insured = rng.random() >= spec.self_pay_share * (0.5 if sporty else 1.0)
    course = "first" if insured else self_pay_course(rng, draft, draft.arrival)
    journey = Journey(patient=draft, course=course, addon=insured and rng.random() < 0.25)
    return journey, draft.arrival + timedelta(days=rng.choice((0, 1, 1, 2, 2, 3, 4)))


def start_earlier(
    rng: random.Random, draft: PatientDraft, first_day: date, today: date
) -> tuple[Journey, date] | None:
    """An earlier patient's journey in the history, or None for those who never return."""
    roll = rng.random()
    if roll < 0.07:
        return _earlier_regular(rng, draft, first_day)
    if roll < 0.52:
        return _earlier_returning(rng, draft, first_day, today)
    return None


def _earlier_regular(
    rng: random.Random, draft: PatientDraft, first_day: date
) -> tuple[Journey, date]:
    """A regular from before the history; half of them are still coming at `now`."""
    course = self_pay_course(rng, draft, first_day)
    journey = Journey(patient=draft, course=course, profile=Profile.REGULAR)
    journey.first_visit = False
    journey.remaining = 1_000 if rng.random() < 0.5 else rng.randint(5, 80)
    journey.ticket = rng.random() < 0.5
    journey.will_nominate = rng.random() < 0.6
    return journey, first_day + timedelta(days=rng.randint(0, 13))


def _earlier_returning(
    rng: random.Random, draft: PatientDraft, first_day: date, today: date
) -> tuple[Journey, date]:
    """A former patient who comes back for one to three new injuries or a few visits (再新患).
    Some are mid-treatment when the history starts, so its first weeks are not empty."""
    span = (today - first_day).days
    count = rng.choices((1, 2, 3), (5, 3, 2))[0]
    episodes = sorted(first_day + timedelta(days=rng.randint(0, span)) for _ in range(count))
    if rng.random() < 0.15:
        episodes[0] = first_day + timedelta(days=rng.randint(0, 20))
    journey = Journey(patient=draft, course="insurance", profile=Profile.RETURNING)
    journey.first_visit = False
    journey.episodes = episodes[1:]
    _begin_episode(rng, journey, episodes[0])
    return journey, episodes[0]


def _begin_episode(rng: random.Random, journey: Journey, day: date) -> None:
    """A returning patient's new run: a fresh injury, or a few self-pay visits."""
    journey.run_visits = 0
    journey.case = None
    if rng.random() < 0.75:
        journey.course = "insurance"
        journey.remaining = rng.randint(3, 16)
        journey.closing = Outcome.CURED
    else:
        journey.course = self_pay_course(rng, journey.patient, day)
        journey.remaining = rng.randint(1, 3)
        journey.closing = Outcome.DISCONTINUED


def decide_profile(
    rng: random.Random, journey: Journey, staff: StaffSpec | None, day: date
) -> None:
    """Settle a new patient's fate at the first visit, from media, course and practitioner."""
    spec = media.by_name(journey.patient.media)
    retention = staff.retention if staff is not None else 1.0
    insured = journey.insurance
    one_time = (0.2 if insured else 0.36) * spec.churn * retention
    regular = (0.18 if insured else 0.26) * spec.loyalty / retention
    roll = rng.random()
    if roll < one_time:
        profile = Profile.ONE_TIME
    elif roll < one_time + regular:
        profile = Profile.REGULAR
    elif roll < one_time + regular + 0.2:
        profile = Profile.LAPSED
    else:
        profile = Profile.SHORT
    journey.profile = profile
    _plan(rng, journey, insured, day)


def _plan(rng: random.Random, journey: Journey, insured: bool, day: date) -> None:
    """How many visits the first run takes and what follows it."""
    profile = journey.profile
    if profile == Profile.ONE_TIME:
        journey.remaining, journey.closing = 1, Outcome.DISCONTINUED
    elif profile == Profile.LAPSED:
        journey.remaining, journey.closing = rng.randint(2, 9), Outcome.DISCONTINUED
    elif insured:
        journey.remaining = rng.randint(6, 24)
        journey.closing = Outcome.TRANSFERRED if rng.random() < 0.06 else Outcome.CURED
        if profile == Profile.REGULAR:
            journey.then = self_pay_course(rng, journey.patient, day)
            journey.then_visits = rng.randint(4, 24)
    elif profile == Profile.SHORT:
        journey.remaining, journey.closing = rng.randint(2, 5), Outcome.CURED
    else:
        journey.remaining, journey.closing = rng.randint(10, 40), Outcome.DISCONTINUED
        journey.ticket = rng.random() < 0.45
    if profile != Profile.ONE_TIME and rng.random() < (0.2 if insured else 0.45):
        journey.will_nominate = True  # the practitioner of the first visit


def interval(rng: random.Random, journey: Journey, revisit_days: int) -> int:
    """Days until the next visit: close together early in an injury, then the course's pace."""
    if journey.insurance:
        done = journey.run_visits
        low, high = (1, 2) if done <= 3 else (2, 3) if done <= 10 else (3, 6)
        return rng.randint(low, high)
    if journey.run_visits == 1:
        return rng.randint(3, 8)  # the second visit checks how the first one went
    if journey.ticket:
        return revisit_days + rng.choice((-1, 0, 0, 1))
    drift = 3 * (journey.run_visits // 5) if journey.profile == Profile.LAPSED else 0
    return max(3, revisit_days + rng.randint(0, 10) + drift)


def keeps_weekday(journey: Journey) -> bool:
    """Whether the next visit goes to the patient's usual weekday (not in an acute injury)."""
    return not journey.insurance or journey.run_visits > 3


def close_run(journey: Journey, day: date, today: date) -> None:
    """Write the 転帰 on the run's last visit. 中止 is only known a month after the last visit."""
    visit = journey.last_visit
    if visit is None:
        return
    outcome = journey.closing
    closed_on = day + timedelta(days=30) if outcome == Outcome.DISCONTINUED else day
    if closed_on > today:
        return
    visit.outcome = outcome
    visit.completed_on = closed_on
    closing = records.closing_progress(outcome, insurance=journey.insurance)
    if closing is not None:
        visit.record["progress"] = closing


def next_run(rng: random.Random, journey: Journey, day: date) -> date | None:
    """After a run ends: the self-pay course a cured patient continues with, the next
    episode of a returning patient, or None when the story is over."""
    if journey.then is not None:
        journey.course, journey.then = journey.then, None
        journey.remaining, journey.run_visits = journey.then_visits, 0
        journey.case, journey.closing = None, Outcome.DISCONTINUED
        journey.ticket = rng.random() < 0.4
        return day + timedelta(days=rng.randint(5, 14))
    while journey.episodes:
        start = journey.episodes.pop(0)
        # A month apart at least: a case closed as 中止 is only closed a month after.
        if start > day + timedelta(days=30):
            _begin_episode(rng, journey, start)
            return start
    return None
