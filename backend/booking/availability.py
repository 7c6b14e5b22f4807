"""Free start times for a course, and the staff member and bed a new booking gets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from backend.booking import masks, schedule
from backend.errors import Invalid, NotFound
from backend.models import Clinic, Course, Staff, StaffRole
from backend.plain import Plain

MAX_DAYS = 62


@dataclass(frozen=True)
class Rules:
    """What availability needs of a clinic and a course, read in one query."""

    id: int
    timezone: str
    schedule_token: str
    config_token: str
    slot_step_minutes: int
    holidays_closed: bool
    lead_time_minutes: int
    horizon_days: int
    staff_minutes: int
    minutes: int


@dataclass(frozen=True)
class Starts:
    """Free starts as minutes after a local midnight (`origin`), with ways to show them."""

    zone: ZoneInfo
    origin: datetime
    minutes: list[int]

    def datetimes(self) -> list[datetime]:
        """The starts as aware UTC datetimes."""
        return [self.origin + timedelta(minutes=minute) for minute in self.minutes]

    def iso(self) -> list[str]:
        """The starts as ISO 8601 text in the clinic's zone (2026-12-01T09:00:00+09:00)."""
        if not self.minutes:
            return []
        last = self.origin + timedelta(minutes=self.minutes[-1])
        offset = self.origin.astimezone(self.zone).utcoffset()
        if offset is None or last.astimezone(self.zone).utcoffset() != offset:
            # A daylight-saving change inside the window: let datetime do the arithmetic.
            return [start.astimezone(self.zone).isoformat() for start in self.datetimes()]
        # One fixed offset and whole days from local midnight: plain string arithmetic,
        # several times faster than formatting hundreds of datetimes.
        first_day = self.origin.astimezone(self.zone).date()
        suffix = ":00" + _offset_text(offset)
        days: dict[int, str] = {}
        texts = []
        for minute in self.minutes:
            day, time_of_day = divmod(minute, 1440)
            if day not in days:
                days[day] = (first_day + timedelta(days=day)).isoformat() + "T"
            texts.append(f"{days[day]}{_HHMM[time_of_day]}{suffix}")
        return texts


_HHMM = [f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(1440)]


def _offset_text(offset: timedelta) -> str:
    total = int(offset.total_seconds() // 60)
    sign = "+" if total >= 0 else "-"
    hours, minutes = divmod(abs(total), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def free_starts(
    session: Session,
    *,
    clinic_id: int,
    course_id: int,
    first_day: date,
    last_day: date,
    now: datetime,
    staff_id: int | None = None,
    exclude_booking_id: int | None = None,
) -> list[datetime]:
    """Every start (UTC) between two local days, inclusive, where the course fits now.

    Honours opening hours, closed days, holidays, staff shifts and days off, bed capacity,
    the course's length, the clinic's lead time and horizon, and held requests. With
    `staff_id`, only starts where that staff member (指名) is free.
    """
    found = find_starts(
        session,
        clinic_id=clinic_id,
        course_id=course_id,
        first_day=first_day,
        last_day=last_day,
        now=now,
        staff_id=staff_id,
        exclude_booking_id=exclude_booking_id,
    )
    return found.datetimes()


def find_starts(
    session: Session,
    *,
    clinic_id: int,
    course_id: int,
    first_day: date,
    last_day: date,
    now: datetime,
    staff_id: int | None = None,
    exclude_booking_id: int | None = None,
) -> Starts:
    """`free_starts`, kept as minutes so callers that only show them skip datetimes. With
    `exclude_booking_id`, that booking's own time counts as free (it is being moved)."""
    if last_day < first_day:
        raise Invalid("last_day is before first_day", field="last_day")
    if (last_day - first_day).days >= MAX_DAYS:
        raise Invalid(f"ask for at most {MAX_DAYS} days at a time", field="last_day")
    rules = _rules(session, clinic_id, course_id)
    if staff_id is not None:
        get_staff(session, get_clinic(session, clinic_id), staff_id)
    zone = ZoneInfo(rules.timezone)
    earliest, latest = booking_window(rules, now)
    first_day = max(first_day, earliest.astimezone(zone).date())
    last_day = min(last_day, latest.astimezone(zone).date())
    if first_day > last_day:
        return Starts(zone, schedule.local_midnight(first_day, zone), [])
    if exclude_booking_id is None:
        plan = schedule.cached(session, clinic=rules, first_day=first_day, last_day=last_day)
    else:
        plan = schedule.load(
            session,
            clinic=rules,
            first_day=first_day,
            last_day=last_day,
            exclude_booking_id=exclude_booking_id,
        )
    frame = plan.frame(now)
    window = masks.interval(_ceil_minute(plan, earliest), plan.minute(latest) + 1)
    starts = fitting_starts(
        frame, staff_minutes=rules.staff_minutes, minutes=rules.minutes, staff_id=staff_id
    )
    starts &= window & masks.every(plan.step, plan.width)
    return Starts(zone, plan.origin, masks.bits(starts))


# Built once: constructing a statement costs more than running it on the warm path.
_RULES = Plain(
    select(
        Clinic.id,
        Clinic.timezone,
        Clinic.schedule_token,
        Clinic.config_token,
        Clinic.slot_step_minutes,
        Clinic.holidays_closed,
        Clinic.lead_time_minutes,
        Clinic.horizon_days,
        Course.staff_minutes,
        (Course.staff_minutes + Course.machine_minutes).label("minutes"),
    )
    .join(Course, Course.clinic_id == Clinic.id)
    .where(
        Clinic.id == bindparam("clinic_id"),
        Course.id == bindparam("course_id"),
        Course.active.is_(True),
    )
)


def _rules(session: Session, clinic_id: int, course_id: int) -> Rules:
    if session.autoflush:  # as the ORM's own query would: a course just added counts
        session.flush()
    row = _RULES.first(session.connection(), {"clinic_id": clinic_id, "course_id": course_id})
    if row is None:
        get_course(session, get_clinic(session, clinic_id), course_id)  # names what is missing
        raise NotFound(f"course {course_id} not found", field="course_id")
    return Rules(**row._asdict())


class Window(Protocol):
    """A clinic's booking window settings."""

    @property
    def lead_time_minutes(self) -> int: ...

    @property
    def horizon_days(self) -> int: ...


def booking_window(clinic: Window, now: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest start a patient may book at `now`."""
    earliest = now + timedelta(minutes=clinic.lead_time_minutes)
    return earliest, now + timedelta(days=clinic.horizon_days)


class BookingClinic(schedule.ClinicRules, Window, Protocol):
    """What finding free times needs of a clinic: a Clinic row, or `booking_rules`."""


class BookingRules(NamedTuple):
    """A clinic's schedule settings and booking window, read without the rest of it."""

    id: int
    timezone: str
    slot_step_minutes: int
    holidays_closed: bool
    schedule_token: str
    config_token: str
    lead_time_minutes: int
    horizon_days: int


# A plain statement built once, on the connection: the phone asks on every call whether
# the clinic is open and looks for free times on most, and a whole clinic row through the
# ORM costs more than the rest of either.
_CLINICS = cast(Table, Clinic.__table__)
_BOOKING_RULES = Plain(
    select(*(_CLINICS.c[name] for name in BookingRules._fields)).where(
        _CLINICS.c.id == bindparam("clinic_id")
    )
)


def booking_rules(session: Session, clinic_id: int) -> BookingRules:
    """The clinic's schedule settings and booking window, or NotFound."""
    row = _BOOKING_RULES.first(session.connection(), {"clinic_id": clinic_id})
    if row is None:
        raise NotFound(f"clinic {clinic_id} not found", field="clinic_id")
    return BookingRules(*row)


def _ceil_minute(plan: schedule.Schedule, moment: datetime) -> int:
    minute = plan.minute(moment)
    return minute if plan.moment(minute) >= moment else minute + 1


def fitting_starts(
    frame: schedule.Frame, *, staff_minutes: int, minutes: int, staff_id: int | None
) -> int:
    """Starts where some staff member (or `staff_id`) is free for `staff_minutes` and some
    bed for `minutes`."""
    width = frame.schedule.width
    if staff_minutes == 0:
        staff_ok = masks.interval(0, width)
    else:
        staff_ids = [staff_id] if staff_id is not None else list(frame.staff_free)
        staff_ok = 0
        for candidate in staff_ids:
            staff_ok |= frame.staff_runs(candidate, staff_minutes)
    bed_ok = 0
    for bed_id in frame.bed_full:
        bed_ok |= frame.bed_runs(bed_id, minutes)
    return staff_ok & bed_ok


class Length(Protocol):
    """How long a course takes: a Course row, or a request's plain course."""

    @property
    def staff_minutes(self) -> int: ...

    @property
    def minutes(self) -> int: ...


def assign(
    frame: schedule.Frame, *, course: Length, start: int, staff_id: int | None
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


def fits(
    frame: schedule.Frame, *, course: Length, start: int, staff_id: int | None, bed_id: int
) -> bool:
    """Whether a start has room with this staff member (when the course needs one) and
    this bed: a place `assign` gave, checked again."""
    bit = 1 << start if start >= 0 else 0
    staff_free = staff_id is not None and frame.staff_runs(staff_id, course.staff_minutes) & bit
    if course.staff_minutes > 0 and not staff_free:
        return False
    return bed_id in frame.bed_full and bool(frame.bed_runs(bed_id, course.minutes) & bit)


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


def get_staff(session: Session, clinic: schedule.ClinicRules, staff_id: int) -> Staff:
    """An active staff member of this clinic who treats patients, or a refusal."""
    staff = session.get(Staff, staff_id)
    if staff is None or staff.clinic_id != clinic.id or not staff.active:
        raise NotFound(f"staff {staff_id} not found", field="staff_id")
    if staff.role == StaffRole.RECEPTION:
        raise Invalid(f"staff {staff_id} works at reception and treats nobody", field="staff_id")
    return staff
