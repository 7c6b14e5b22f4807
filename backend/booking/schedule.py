"""A clinic's schedule over a window of local days, as minute bitmasks.

`load` reads opening hours, closed days, holidays, staff shifts and days off, beds and
the bookings that occupy time, and turns them into masks; all but the bookings are kept
per clinic config token (`_fixed`), so a booking elsewhere costs one query to see.
`Schedule.frame(now)` adds the requests whose hold has not expired, giving what is free
at that moment. `cached` keeps recent schedules per clinic and schedule token: every
booking replaces the token (and every change to what the schedule is made of, the config
token), so a cached schedule is never stale, in this process or any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import ColumnElement, DateTime, bindparam, select, type_coerce
from sqlalchemy.orm import Session

from backend.booking import masks
from backend.bounded import Bounded
from backend.models import (
    OCCUPYING,
    Bed,
    Booking,
    BookingStatus,
    ClosedDay,
    OpeningHours,
    Staff,
    StaffDayOff,
    StaffRole,
    StaffShift,
)
from backend.plain import Plain

CACHE_SIZE = 16


class ClinicRules(Protocol):
    """The clinic settings a schedule depends on (a Clinic row, or availability's Rules)."""

    @property
    def id(self) -> int: ...

    @property
    def timezone(self) -> str: ...

    @property
    def slot_step_minutes(self) -> int: ...

    @property
    def holidays_closed(self) -> bool: ...

    @property
    def schedule_token(self) -> str: ...

    @property
    def config_token(self) -> str: ...


@dataclass(frozen=True)
class Occupant:
    """The time one booking takes: staff from start to staff_end, a bed from start to end."""

    booking_id: int
    staff_id: int | None
    bed_id: int
    start: int
    staff_end: int
    end: int
    hold_until: datetime | None


@dataclass(frozen=True)
class Frame:
    """What is free at one moment: staff free minutes and bed full minutes."""

    schedule: Schedule
    staff_free: dict[int, int]
    bed_full: dict[int, int]

    def staff_runs(self, staff_id: int, minutes: int) -> int:
        """Starts where `staff_id` is free for `minutes`."""
        return masks.runs(self.staff_free.get(staff_id, 0), minutes, self.schedule.width)

    def bed_runs(self, bed_id: int, minutes: int) -> int:
        """Starts where `bed_id` has a free place for `minutes`, within opening hours."""
        free = self.schedule.open_mask & ~self.bed_full[bed_id]
        return masks.runs(free, minutes, self.schedule.width)


@dataclass
class Schedule:
    """Masks over [origin, origin + width minutes) for one clinic."""

    clinic_id: int
    zone: ZoneInfo
    first_day: date
    last_day: date
    origin: datetime
    width: int
    step: int
    open_mask: int = 0
    shift: dict[int, int] = field(default_factory=dict)
    staff_busy: dict[int, int] = field(default_factory=dict)
    bed_capacity: dict[int, int] = field(default_factory=dict)
    bed_levels: dict[int, list[int]] = field(default_factory=dict)
    pending: list[Occupant] = field(default_factory=list)

    def minute(self, moment: datetime) -> int:
        """Minutes from the origin to `moment` (floor)."""
        return int((moment - self.origin).total_seconds() // 60)

    def moment(self, minute: int) -> datetime:
        """The UTC instant `minute` minutes after the origin."""
        return self.origin + timedelta(minutes=minute)

    def frame(self, now: datetime) -> Frame:
        """Free time at `now`: firm bookings plus requests still holding their slot."""
        busy = dict(self.staff_busy)
        levels = {bed: list(stack) for bed, stack in self.bed_levels.items()}
        for occupant in self.pending:
            if occupant.hold_until is not None and occupant.hold_until <= now:
                continue
            _occupy(busy, levels, occupant)
        staff_free = {staff: on & ~busy.get(staff, 0) for staff, on in self.shift.items()}
        bed_full = {
            bed: masks.full_at(levels.get(bed, []), capacity)
            for bed, capacity in self.bed_capacity.items()
        }
        return Frame(self, staff_free, bed_full)


def _occupy(busy: dict[int, int], levels: dict[int, list[int]], occupant: Occupant) -> None:
    if occupant.staff_id is not None and occupant.staff_end > occupant.start:
        staff_time = masks.interval(occupant.start, occupant.staff_end)
        busy[occupant.staff_id] = busy.get(occupant.staff_id, 0) | staff_time
    masks.add_layer(
        levels.setdefault(occupant.bed_id, []), masks.interval(occupant.start, occupant.end)
    )


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day starts."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


@lru_cache(maxsize=8)
def _japanese_holidays(first_year: int, last_year: int) -> frozenset[date]:
    calendar = holidays.country_holidays("JP", years=range(first_year, last_year + 1))
    return frozenset(calendar.keys())


def warm(today: date) -> None:
    """Load this year's and next year's holidays now, so no request pays for it."""
    _japanese_holidays(today.year, today.year)
    _japanese_holidays(today.year + 1, today.year + 1)


def is_holiday(day: date) -> bool:
    """Whether `day` is a Japanese public holiday (祝日・振替休日)."""
    return day in _japanese_holidays(day.year, day.year)


def load(
    session: Session,
    *,
    clinic: ClinicRules,
    first_day: date,
    last_day: date,
    exclude_booking_id: int | None = None,
) -> Schedule:
    """Read everything that decides free time between two local days, inclusive."""
    zone = ZoneInfo(clinic.timezone)
    origin = local_midnight(first_day, zone)
    end = local_midnight(last_day + timedelta(days=1), zone)
    schedule = Schedule(
        clinic_id=clinic.id,
        zone=zone,
        first_day=first_day,
        last_day=last_day,
        origin=origin,
        width=int((end - origin).total_seconds() // 60),
        step=clinic.slot_step_minutes,
    )
    fixed = _fixed(session, clinic, schedule)
    schedule.open_mask, schedule.shift, schedule.bed_capacity = fixed
    _load_bookings(session, schedule, end, exclude_booking_id)
    return schedule


class _Fixed(NamedTuple):
    """What a schedule is made of besides bookings: shared between schedules, never changed."""

    open_mask: int
    shift: dict[int, int]
    bed_capacity: dict[int, int]


_fixed_cache: Bounded[tuple[int, str, date, date], _Fixed] = Bounded(CACHE_SIZE)


def _fixed(session: Session, clinic: ClinicRules, schedule: Schedule) -> _Fixed:
    """Opening hours, shifts and beds over the window, reused while the clinic's config
    token is unchanged (every change to them replaces it: backend.models.clinic), so
    that a booking, which changes only the schedule token, costs one query to see."""
    key = (clinic.id, clinic.config_token, schedule.first_day, schedule.last_day)
    found = _fixed_cache.get(key)
    if found is not None:
        return found
    open_days = _open_days(session, clinic, schedule.first_day, schedule.last_day)
    schedule.open_mask = _opening_mask(session, schedule, open_days)
    built = _Fixed(
        schedule.open_mask, _shift_masks(session, schedule, open_days), _beds(session, schedule)
    )
    _fixed_cache.put(key, built)
    return built


# Built once: the phone asks whether the clinic is open on every call.
_CLOSED_ON = (
    select(ClosedDay.id)
    .where(ClosedDay.clinic_id == bindparam("clinic_id"), ClosedDay.closed_on == bindparam("day"))
    .limit(1)
)
_HOURS = select(OpeningHours.opens_at, OpeningHours.closes_at).where(
    OpeningHours.clinic_id == bindparam("clinic_id"),
    OpeningHours.weekday == bindparam("weekday"),
)


def is_open(session: Session, *, clinic: ClinicRules, now: datetime) -> bool:
    """Whether `now` is inside the clinic's opening hours, as `load`'s open mask would say,
    without reading staff, beds and bookings (the phone asks this on every call)."""
    local = now.astimezone(ZoneInfo(clinic.timezone))
    today = local.date()
    if clinic.holidays_closed and is_holiday(today):
        return False
    moment = local.time().replace(tzinfo=None)
    return any(opens <= moment < closes for opens, closes in _hours_on(session, clinic, today))


Hours = tuple[tuple[time, time], ...]
_hours_cache: Bounded[tuple[int, str, date], Hours] = Bounded(CACHE_SIZE)


def _hours_on(session: Session, clinic: ClinicRules, day: date) -> Hours:
    """The day's opening ranges (none on a closed day), kept while the clinic's config token
    is unchanged, as the schedule's fixed part is: every call asks on its first turn."""
    key = (clinic.id, clinic.config_token, day)
    found = _hours_cache.get(key)
    if found is not None:  # a closed day's () is found too
        return found
    # On the connection: two small reads of rows no phone turn changes, which the ORM's
    # statement handling (and autoflush) would cost more than.
    connection = session.connection()
    hours: Hours = ()
    if connection.execute(_CLOSED_ON, {"clinic_id": clinic.id, "day": day}).first() is None:
        found_hours = connection.execute(_HOURS, {"clinic_id": clinic.id, "weekday": day.weekday()})
        hours = tuple((opens, closes) for opens, closes in found_hours)
    _hours_cache.put(key, hours)
    return hours


def _days(first_day: date, last_day: date) -> list[date]:
    return [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]


def _open_days(
    session: Session, clinic: ClinicRules, first_day: date, last_day: date
) -> list[date]:
    closed = set(
        session.scalars(
            select(ClosedDay.closed_on).where(
                ClosedDay.clinic_id == clinic.id,
                ClosedDay.closed_on.between(first_day, last_day),
            )
        )
    )
    days = [day for day in _days(first_day, last_day) if day not in closed]
    if clinic.holidays_closed:
        days = [day for day in days if not is_holiday(day)]
    return days


def _range_mask(schedule: Schedule, day: date, starts: time, ends: time) -> int:
    start = datetime.combine(day, starts, tzinfo=schedule.zone)
    end = datetime.combine(day, ends, tzinfo=schedule.zone)
    return masks.interval(schedule.minute(start), schedule.minute(end))


def _weekly_mask(
    schedule: Schedule, days: list[date], ranges: dict[int, list[tuple[time, time]]]
) -> int:
    mask = 0
    for day in days:
        for starts, ends in ranges.get(day.weekday(), []):
            mask |= _range_mask(schedule, day, starts, ends)
    return mask


def _opening_mask(session: Session, schedule: Schedule, open_days: list[date]) -> int:
    ranges: dict[int, list[tuple[time, time]]] = {}
    rows = session.execute(
        select(OpeningHours.weekday, OpeningHours.opens_at, OpeningHours.closes_at).where(
            OpeningHours.clinic_id == schedule.clinic_id
        )
    )
    for weekday, opens_at, closes_at in rows:
        ranges.setdefault(weekday, []).append((opens_at, closes_at))
    return _weekly_mask(schedule, open_days, ranges)


def _shift_masks(session: Session, schedule: Schedule, open_days: list[date]) -> dict[int, int]:
    shifts: dict[int, dict[int, list[tuple[time, time]]]] = {}
    staff_ids = session.scalars(select(Staff.id).where(*_treating(schedule.clinic_id))).all()
    for staff_id in staff_ids:
        shifts[staff_id] = {}
    rows = session.execute(
        select(StaffShift.staff_id, StaffShift.weekday, StaffShift.starts_at, StaffShift.ends_at)
        .join(Staff)
        .where(*_treating(schedule.clinic_id))
    )
    for staff_id, weekday, starts_at, ends_at in rows:
        shifts[staff_id].setdefault(weekday, []).append((starts_at, ends_at))
    days_off = _days_off(session, schedule)
    return {
        staff_id: _weekly_mask(
            schedule, [day for day in open_days if (staff_id, day) not in days_off], ranges
        )
        & schedule.open_mask
        for staff_id, ranges in shifts.items()
    }


def _treating(clinic_id: int) -> tuple[ColumnElement[bool], ...]:
    """Active staff who treat patients (reception does not)."""
    return (
        Staff.clinic_id == clinic_id,
        Staff.active.is_(True),
        Staff.role != StaffRole.RECEPTION,
    )


def _days_off(session: Session, schedule: Schedule) -> set[tuple[int, date]]:
    rows = session.execute(
        select(StaffDayOff.staff_id, StaffDayOff.off_on)
        .join(Staff)
        .where(
            Staff.clinic_id == schedule.clinic_id,
            StaffDayOff.off_on.between(schedule.first_day, schedule.last_day),
        )
    )
    return {(staff_id, off_on) for staff_id, off_on in rows}


def _beds(session: Session, schedule: Schedule) -> dict[int, int]:
    rows = session.execute(
        select(Bed.id, Bed.capacity).where(
            Bed.clinic_id == schedule.clinic_id, Bed.active.is_(True)
        )
    )
    return {row.id: row.capacity for row in rows}


# Built once: every booking and every search for free times reads the bookings, and
# building this statement cost as much as running it. The three times come as the driver
# gives them (SQLite's naive UTC, psycopg's aware values), not as UTCDateTime: they only
# become minutes from the origin, and converting each to an aware datetime first was a
# third of reading a busy day (80 bookings: 320 values).
_DRIVERS = DateTime(timezone=True)
_SELECT_BOOKINGS = select(
    Booking.id,
    Booking.staff_id,
    Booking.bed_id,
    type_coerce(Booking.starts_at, _DRIVERS).label("starts_at"),
    type_coerce(Booking.staff_ends_at, _DRIVERS).label("staff_ends_at"),
    type_coerce(Booking.ends_at, _DRIVERS).label("ends_at"),
    Booking.status,
    Booking.hold_until,
).where(
    Booking.clinic_id == bindparam("clinic_id"),
    Booking.status.in_(OCCUPYING),
    Booking.starts_at < bindparam("end"),
    Booking.ends_at > bindparam("origin"),
)
_BOOKINGS = Plain(_SELECT_BOOKINGS)
_BOOKINGS_BUT_ONE = Plain(_SELECT_BOOKINGS.where(Booking.id != bindparam("excluded")))


def _load_bookings(
    session: Session, schedule: Schedule, end: datetime, exclude_booking_id: int | None
) -> None:
    params = {"clinic_id": schedule.clinic_id, "end": end, "origin": schedule.origin}
    if exclude_booking_id is None:
        query = _BOOKINGS
    else:
        query, params["excluded"] = _BOOKINGS_BUT_ONE, exclude_booking_id
    # What the ORM's execution would flush first: a booking being moved or made in this
    # session must be read as it now is. The rows themselves come without the ORM.
    session.flush()
    origin = schedule.origin
    naive = origin.astimezone(UTC).replace(tzinfo=None)  # SQLite's values: naive UTC
    for row in query.all(session.connection(), params):
        base = naive if row.starts_at.tzinfo is None else origin
        occupant = Occupant(
            booking_id=row.id,
            staff_id=row.staff_id,
            bed_id=row.bed_id,
            start=int((row.starts_at - base).total_seconds() // 60),
            staff_end=int((row.staff_ends_at - base).total_seconds() // 60),
            end=int((row.ends_at - base).total_seconds() // 60),
            hold_until=row.hold_until if row.status == BookingStatus.REQUESTED else None,
        )
        if occupant.hold_until is not None:
            schedule.pending.append(occupant)
        else:
            _occupy(schedule.staff_busy, schedule.bed_levels, occupant)


_cache: Bounded[tuple[int, str, str, date, date], Schedule] = Bounded(CACHE_SIZE)


def cached(session: Session, *, clinic: ClinicRules, first_day: date, last_day: date) -> Schedule:
    """A schedule for the window, reused while the clinic's tokens are unchanged."""
    key = (clinic.id, clinic.schedule_token, clinic.config_token, first_day, last_day)
    found = _cache.get(key)
    if found is not None:
        return found
    schedule = load(session, clinic=clinic, first_day=first_day, last_day=last_day)
    _cache.put(key, schedule)
    return schedule


def clear_cache() -> None:
    """Forget every cached schedule (benchmarks measure the cold path with this)."""
    _cache.clear()
    _fixed_cache.clear()
    _hours_cache.clear()
