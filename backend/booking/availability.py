"""Free start times for a course, and the staff member and bed a new booking gets."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.booking import masks, schedule
from backend.errors import Invalid, NotFound
from backend.models import Clinic, Course, Staff, StaffRole

MAX_DAYS = 62


def free_starts(
    session: Session,
    *,
    clinic_id: int,
    course_id: int,
    first_day: date,
    last_day: date,
    now: datetime,
    staff_id: int | None = None,
) -> list[datetime]:
    """Every start (UTC) between two local days, inclusive, where the course fits now.

    Honours opening hours, closed days, holidays, staff shifts and days off, bed capacity,
    the course's length, the clinic's lead time and horizon, and held requests. With
    `staff_id`, only starts where that staff member (指名) is free.
    """
    clinic = get_clinic(session, clinic_id)
    course = get_course(session, clinic, course_id)
    if staff_id is not None:
        get_staff(session, clinic, staff_id)
    if last_day < first_day:
        raise Invalid("last_day is before first_day", field="last_day")
    if (last_day - first_day).days >= MAX_DAYS:
        raise Invalid(f"ask for at most {MAX_DAYS} days at a time", field="last_day")
    earliest, latest = booking_window(clinic, now)
    zone = ZoneInfo(clinic.timezone)
    first_day = max(first_day, earliest.astimezone(zone).date())
    last_day = min(last_day, latest.astimezone(zone).date())
    if first_day > last_day:
        return []
    plan = schedule.cached(session, clinic=clinic, first_day=first_day, last_day=last_day)
    frame = plan.frame(now)
    window = masks.interval(_ceil_minute(plan, earliest), plan.minute(latest) + 1)
    starts = fitting_starts(frame, course=course, staff_id=staff_id)
    starts &= window & masks.every(plan.step, plan.width)
    return [plan.moment(minute) for minute in masks.bits(starts)]


def booking_window(clinic: Clinic, now: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest start a patient may book at `now`."""
    earliest = now + timedelta(minutes=clinic.lead_time_minutes)
    return earliest, now + timedelta(days=clinic.horizon_days)


def _ceil_minute(plan: schedule.Schedule, moment: datetime) -> int:
    minute = plan.minute(moment)
    return minute if plan.moment(minute) >= moment else minute + 1


def fitting_starts(frame: schedule.Frame, *, course: Course, staff_id: int | None) -> int:
    """Starts where some staff member (or `staff_id`) and some bed are free for the course."""
    width = frame.schedule.width
    if course.staff_minutes == 0:
        staff_ok = masks.interval(0, width)
    else:
        staff_ids = [staff_id] if staff_id is not None else list(frame.staff_free)
        staff_ok = 0
        for candidate in staff_ids:
            staff_ok |= frame.staff_runs(candidate, course.staff_minutes)
    bed_ok = 0
    for bed_id in frame.bed_full:
        bed_ok |= frame.bed_runs(bed_id, course.minutes)
    return staff_ok & bed_ok


def assign(
    frame: schedule.Frame, *, course: Course, start: int, staff_id: int | None
) -> tuple[int | None, int] | None:
    """Pick the staff member (least busy first) and bed for a start, or None if it is full."""
    bit = 1 << start if start >= 0 else 0
    chosen_staff: int | None = None
    if course.staff_minutes > 0:
        candidates = [staff_id] if staff_id is not None else _least_busy_first(frame)
        free = [s for s in candidates if frame.staff_runs(s, course.staff_minutes) & bit]
        if not free:
            return None
        chosen_staff = free[0]
    beds = [bed for bed in sorted(frame.bed_full) if frame.bed_runs(bed, course.minutes) & bit]
    if not beds:
        return None
    return chosen_staff, beds[0]


def _least_busy_first(frame: schedule.Frame) -> list[int]:
    shift = frame.schedule.shift

    def busy_minutes(staff_id: int) -> int:
        return (shift[staff_id] & ~frame.staff_free[staff_id]).bit_count()

    return sorted(frame.staff_free, key=lambda staff_id: (busy_minutes(staff_id), staff_id))


def get_clinic(session: Session, clinic_id: int) -> Clinic:
    """The clinic, or NotFound."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound(f"clinic {clinic_id} not found", field="clinic_id")
    return clinic


def get_course(session: Session, clinic: Clinic, course_id: int) -> Course:
    """An active course of this clinic, or NotFound."""
    course = session.get(Course, course_id)
    if course is None or course.clinic_id != clinic.id or not course.active:
        raise NotFound(f"course {course_id} not found", field="course_id")
    return course


def get_staff(session: Session, clinic: Clinic, staff_id: int) -> Staff:
    """An active staff member of this clinic who treats patients, or a refusal."""
    staff = session.get(Staff, staff_id)
    if staff is None or staff.clinic_id != clinic.id or not staff.active:
        raise NotFound(f"staff {staff_id} not found", field="staff_id")
    if staff.role == StaffRole.RECEPTION:
        raise Invalid(f"staff {staff_id} works at reception and treats nobody", field="staff_id")
    return staff
