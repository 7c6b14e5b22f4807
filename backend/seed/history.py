"""Bookings and visits from the first day of the history to four weeks past `now`.

Patients are simulated in the order of the day they want to come (a heap of intents). Each
intent is placed at a free time that suits the patient, or moved a few days, or dropped:
the occupancy grid makes a double booking impossible. What happens to the booking then
(completed, cancelled, no-show, still ahead) decides the patient's next intent.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from backend.models import BookingStatus, Source, StaffRole
from backend.seed import journeys, outcomes, timing, visits
from backend.seed.clinic import ClinicPlan
from backend.seed.drafts import BookingDraft, PatientDraft
from backend.seed.journeys import Journey
from backend.seed.occupancy import Occupancy
from backend.seed.setup import CourseSpec

Progress = Callable[[str, int, int], None]
STAGE = "予約・来院を生成"
SEARCH_DAYS = 8
FUTURE_DAYS = 28
AHEAD = (BookingStatus.CONFIRMED, BookingStatus.REQUESTED)
# A no-show held its slot until the time passed, so nobody else could have booked it.
HELD = (*AHEAD, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
# How much each kind of patient wants a start time: (morning 9–12, 15–17, 17–20, Saturday).
HABITS = {
    "evening": (0.1, 0.4, 5.0, 4.0),
    "student": (0.05, 1.5, 4.0, 3.0),
    "morning": (5.0, 1.2, 0.3, 2.0),
    "flexible": (2.0, 1.5, 1.5, 2.0),
}


@dataclass(frozen=True)
class Intent:
    """A patient wanting a visit around `day`; the booking is made no earlier than
    `not_before`, exactly at `made` for a rebooking, or at the counter after a visit."""

    journey: int
    day: date
    not_before: datetime
    made: datetime | None = None
    at_counter: bool = False


@dataclass(frozen=True)
class Slot:
    """Where a booking was placed."""

    day: date
    start: int
    staff_id: int | None
    bed_id: int
    nominated: bool


def preference(habit: str, weekday: int, minute: int) -> float:
    """How much a patient with `habit` wants to start at a minute of a weekday."""
    morning, afternoon, evening, saturday = HABITS[habit]
    if weekday == 5:
        return saturday * (1.3 if minute < 12 * 60 else 0.6)
    if minute < 12 * 60:
        return morning
    return afternoon if minute < 17 * 60 else evening


class History:
    """The simulation: journeys, the occupancy grid, and the bookings made so far."""

    def __init__(
        self, plan: ClinicPlan, rng: random.Random, *, first_day: date, now: datetime
    ) -> None:
        self.plan = plan
        self.rng = rng
        self.now = now
        self.first_day = first_day
        self.today = now.astimezone(plan.zone).date()
        self.last_day = self.today + timedelta(days=FUTURE_DAYS)
        self.occupancy = Occupancy(plan)
        self.patients: list[PatientDraft] = []
        self.journeys: list[Journey] = []
        self.bookings: list[BookingDraft] = []
        self._heap: list[tuple[int, int, Intent]] = []
        self._count = 0
        self.clinic_opened = timing.at_hour(first_day - timedelta(days=1), 10, plan.zone)

    def start(self, patients: list[PatientDraft]) -> None:
        """Give every patient a journey and queue their first wish for a visit."""
        self.patients = patients
        for draft in patients:
            if draft.arrival is not None:
                journey, day = journeys.start_new(self.rng, draft)
                not_before = timing.at_hour(draft.arrival, 7, self.plan.zone)
            else:
                started = journeys.start_earlier(self.rng, draft, self.first_day, self.today)
                if started is None:
                    continue
                journey, day = started
                not_before = self.clinic_opened
            self.journeys.append(journey)
            self._push(Intent(len(self.journeys) - 1, day, max(not_before, self.clinic_opened)))

    def run(self, progress: Progress | None = None) -> None:
        """Play every intent in day order until the queue is empty."""
        total = (self.last_day - self.first_day).days
        reported = -1
        while self._heap:
            _ordinal, _count, intent = heapq.heappop(self._heap)
            done = min(max((intent.day - self.first_day).days, 0), total)
            if progress is not None and done > reported:
                progress(STAGE, done, total)
                reported = done
            self._handle(intent)
        if progress is not None:
            progress(STAGE, total, total)

    def _push(self, intent: Intent) -> None:
        if intent.day > self.last_day:
            return
        self._count += 1
        heapq.heappush(self._heap, (intent.day.toordinal(), self._count, intent))

    def _handle(self, intent: Intent) -> None:
        journey = self.journeys[intent.journey]
        course = self.plan.course(journey.course)
        slot = self._place(journey, course, intent.day)
        if slot is None:
            outcomes.drop(journey, self.today)
            return
        booking = self._book(journey, course, slot, intent)
        if booking is None:
            return  # the patient has not made this booking yet at `now`
        self.bookings.append(booking)
        if booking.status in HELD:
            self.occupancy.take(slot.day, slot.start, course, slot.staff_id, slot.bed_id)
        if booking.status in AHEAD:
            journey.booked_ahead = True
            return
        self._follow(intent, journey, course, slot, booking)

    def _place(self, journey: Journey, course: CourseSpec, desired: date) -> Slot | None:
        """A free slot near `desired` that suits the patient: with the nominated
        practitioner (指名) when there is one, at a liked time before any other time."""
        candidates = self.plan.practitioners()
        nominee = journey.nominee if course.staff_minutes else None
        for liked_only in (True, False):
            if nominee is not None:
                slot = self._search(journey, course, desired, [nominee], liked_only)
                if slot is not None:
                    return Slot(slot.day, slot.start, slot.staff_id, slot.bed_id, True)
            slot = self._search(journey, course, desired, candidates, liked_only)
            if slot is not None:
                return slot
        return None

    def _days(self, journey: Journey, desired: date) -> list[date]:
        window = [desired + timedelta(days=offset) for offset in range(SEARCH_DAYS)]
        window = [day for day in window if day <= self.last_day]
        if not journeys.keeps_weekday(journey):
            return window
        liked = [day for day in window if day.weekday() in journey.patient.weekdays]
        return liked + [day for day in window if day not in liked]

    def _search(
        self,
        journey: Journey,
        course: CourseSpec,
        desired: date,
        candidates: list[int],
        liked_only: bool,
    ) -> Slot | None:
        habit = journey.patient.habit
        for day in self._days(journey, desired):
            for start in self._starts(habit, course, day, liked_only):
                slot = self._fit(journey, course, day, start, candidates)
                if slot is not None:
                    return slot
        return None

    def _starts(self, habit: str, course: CourseSpec, day: date, liked_only: bool) -> list[int]:
        """Start minutes in the order this patient would try them (weighted shuffle)."""
        keyed = []
        for start in self.occupancy.starts(day, course):
            weight = preference(habit, day.weekday(), start)
            if liked_only and weight < 1.0:
                continue
            keyed.append((self.rng.random() ** (1.0 / weight), start))
        return [start for _key, start in sorted(keyed, reverse=True)]

    def _fit(
        self, journey: Journey, course: CourseSpec, day: date, start: int, candidates: list[int]
    ) -> Slot | None:
        staff_id: int | None = None
        if course.staff_minutes:
            free = self.occupancy.free_staff(day, start, course, candidates)
            if not free:
                return None
            staff_id = self._choose_staff(journey, day, free)
        bed_id = self.occupancy.free_bed(day, start, course)
        if bed_id is None:
            return None
        return Slot(day, start, staff_id, bed_id, False)

    def _choose_staff(self, journey: Journey, day: date, free: list[int]) -> int:
        """The 院長 sees most first visits; otherwise the less busy practitioner."""
        weights = []
        for staff_id in free:
            busy = self.occupancy.busy_minutes(day, staff_id)
            owner = self.plan.staff[staff_id].role == StaffRole.OWNER
            weights.append((3.0 if owner and journey.first_visit else 1.0) / (1 + busy / 120))
        return self.rng.choices(free, weights)[0]

    def _book(
        self, journey: Journey, course: CourseSpec, slot: Slot, intent: Intent
    ) -> BookingDraft | None:
        starts_at = timing.moment(slot.day, slot.start, self.plan.zone)
        source, made = self._made(journey, intent, starts_at)
        if made > self.now:
            return None
        booking = BookingDraft(
            patient=journey.patient.index,
            course=course.key,
            staff_id=slot.staff_id,
            nominated=slot.nominated,
            bed_id=slot.bed_id,
            starts_at=starts_at,
            source=source,
            status=BookingStatus.CONFIRMED,
            created_at=made,
            actor=outcomes.actor_for(source, self.plan),
        )
        outcomes.settle(
            self.rng, booking, course, plan=self.plan, now=self.now, first=journey.first_visit
        )
        return booking

    def _made(
        self, journey: Journey, intent: Intent, starts_at: datetime
    ) -> tuple[Source, datetime]:
        """Through which channel and when the booking was made."""
        if intent.at_counter:
            return Source.STAFF, intent.not_before
        source = outcomes.channel(self.rng, journey.patient, first=journey.first_visit)
        if intent.made is not None:
            return source, intent.made
        if source == Source.STAFF:  # a walk-in booked at the desk on the day
            return source, max(intent.not_before, starts_at - timedelta(minutes=20))
        made = timing.made_at(
            self.rng, starts_at=starts_at, not_before=intent.not_before, zone=self.plan.zone
        )
        return source, made

    def _follow(
        self,
        intent: Intent,
        journey: Journey,
        course: CourseSpec,
        slot: Slot,
        booking: BookingDraft,
    ) -> None:
        """Queue what the patient does next after a visit, a cancellation or a no-show."""
        if booking.status == BookingStatus.COMPLETED:
            self._completed(intent.journey, course, slot, booking)
            return
        again = outcomes.rebooking(self.rng, journey, booking, slot.day)
        if again is None:
            outcomes.drop(journey, self.today)
            return
        day, not_before, made = again
        self._push(Intent(intent.journey, day, not_before, made))

    def _completed(self, index: int, course: CourseSpec, slot: Slot, booking: BookingDraft) -> None:
        journey = self.journeys[index]
        visit = visits.make_visit(self.rng, journey, course, slot.day)
        booking.visit = visit
        after = outcomes.after_visit(
            self.rng, journey, visit, slot.day, slot.staff_id, plan=self.plan, today=self.today
        )
        if after is None:
            return
        assert booking.finished_at is not None
        counter = self.rng.random() < outcomes.counter_share(journey)
        self._push(Intent(index, after, booking.finished_at, at_counter=counter))
