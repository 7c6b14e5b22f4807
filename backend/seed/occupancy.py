"""Who and what is taken while history is generated, so no visit is ever double-booked.

Each local day is a set of minute masks (bit m = minute m after local midnight), the same
representation the booking engine uses: a staff member is busy for the course's hands-on
minutes, a bed holds one more patient for the whole course, up to its capacity.
"""

from __future__ import annotations

from datetime import date

from backend.booking import masks
from backend.seed.clinic import ClinicPlan
from backend.seed.setup import OPENING, CourseSpec

STEP_MINUTES = 15


class Occupancy:
    """Staff and bed time taken so far, by local day."""

    def __init__(self, plan: ClinicPlan) -> None:
        self.plan = plan
        self._open: dict[date, int] = {}
        self._shift: dict[tuple[date, int], int] = {}
        self._staff_busy: dict[tuple[date, int], int] = {}
        self._bed_levels: dict[tuple[date, int], list[int]] = {}

    def open_mask(self, day: date) -> int:
        """Minutes the clinic is open on a day (0 when closed)."""
        found = self._open.get(day)
        if found is None:
            found = 0
            if self.plan.is_open(day):
                for opens, closes in OPENING[day.weekday()]:
                    found |= masks.interval(opens, closes)
            self._open[day] = found
        return found

    def shift_mask(self, day: date, staff_id: int) -> int:
        """Minutes a staff member works on a day: the weekly shift, not on leave, while open."""
        key = (day, staff_id)
        found = self._shift.get(key)
        if found is None:
            found = 0
            if (staff_id, day) not in self.plan.days_off:
                for starts, ends in self.plan.staff[staff_id].shifts.get(day.weekday(), ()):
                    found |= masks.interval(starts, ends)
            found &= self.open_mask(day)
            self._shift[key] = found
        return found

    def starts(self, day: date, course: CourseSpec) -> list[int]:
        """Slot starts on the day where the whole course fits inside one opening range."""
        if not self.open_mask(day):
            return []
        return [
            start
            for opens, closes in OPENING[day.weekday()]
            for start in range(opens, closes - course.minutes + 1, STEP_MINUTES)
        ]

    def free_staff(
        self, day: date, start: int, course: CourseSpec, candidates: list[int]
    ) -> list[int]:
        """The candidates on shift and not busy for the course's hands-on minutes."""
        need = masks.interval(start, start + course.staff_minutes)
        return [
            staff_id
            for staff_id in candidates
            if self.shift_mask(day, staff_id) & need == need
            and not self._staff_busy.get((day, staff_id), 0) & need
        ]

    def free_bed(self, day: date, start: int, course: CourseSpec) -> int | None:
        """The first bed of a kind the course prefers with a free place for the whole course."""
        need = masks.interval(start, start + course.minutes)
        if self.open_mask(day) & need != need:
            return None
        for kind in course.beds:
            for bed_id, spec in self.plan.beds.items():
                if spec.kind != kind:
                    continue
                levels = self._bed_levels.get((day, bed_id), [])
                if not masks.full_at(levels, spec.capacity) & need:
                    return bed_id
        return None

    def take(
        self, day: date, start: int, course: CourseSpec, staff_id: int | None, bed_id: int
    ) -> None:
        """Mark the staff member's hands-on time and a place on the bed as taken."""
        if staff_id is not None and course.staff_minutes:
            key = (day, staff_id)
            need = masks.interval(start, start + course.staff_minutes)
            self._staff_busy[key] = self._staff_busy.get(key, 0) | need
        levels = self._bed_levels.setdefault((day, bed_id), [])
        masks.add_layer(levels, masks.interval(start, start + course.minutes))

    def busy_minutes(self, day: date, staff_id: int) -> int:
        """How many hands-on minutes a staff member already has on a day."""
        return self._staff_busy.get((day, staff_id), 0).bit_count()
