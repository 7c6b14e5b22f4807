"""Future bookings an apply strands: for a course or a staff member it made inactive, on a
day it closed, outside the opening hours it set, or outside a staff member's new shifts.
They are listed for staff to move or cancel (the カルテ's 日時を変更 / キャンセル), never
changed here: which patient to call, and what to offer them, is the clinic's decision.

Only what the apply changed is looked at, so a booking an earlier apply stranded is not
listed again, and an apply that changes nothing reads no bookings at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from backend.booking import schedule
from backend.models import (
    Booking,
    BookingStatus,
    Clinic,
    Course,
    OpeningHours,
    Patient,
    Staff,
    StaffShift,
)

# Bookings still to come: a completed or cancelled one strands nobody.
WAITING = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED)
_FUTURE = (
    select(
        Booking.id,
        Booking.starts_at,
        Booking.ends_at,
        Booking.staff_ends_at,
        Booking.course_id,
        Booking.staff_id,
        Booking.nominated,
        Patient.name.label("patient"),
        Course.name.label("course"),
        Staff.name.label("staff"),
    )
    .join(Patient, Patient.id == Booking.patient_id)
    .join(Course, Course.id == Booking.course_id)
    .outerjoin(Staff, Staff.id == Booking.staff_id)
    .where(
        Booking.clinic_id == bindparam("clinic_id"),
        Booking.status.in_(WAITING),
        Booking.starts_at > bindparam("now"),
    )
    .order_by(Booking.starts_at, Booking.id)
)

Reason = tuple[str, str]  # Japanese, English


@dataclass
class Changes:
    """What an apply changed that a booking may depend on."""

    courses: set[int] = field(default_factory=set)  # made inactive
    staff: set[int] = field(default_factory=set)  # made inactive
    shifts: set[int] = field(default_factory=set)  # staff whose shifts changed
    closed: dict[date, str | None] = field(default_factory=dict)  # newly closed, with reasons
    hours: bool = False  # the opening hours or the clinic's zone changed
    holidays: bool = False  # 祝日は休診 turned on

    def __bool__(self) -> bool:
        """Whether any of it changed."""
        return bool(
            self.courses or self.staff or self.shifts or self.closed or self.hours or self.holidays
        )


@dataclass(frozen=True)
class Stranded:
    """A booking that no longer fits the set-up, and why."""

    booking_id: int
    starts_at: datetime  # in the clinic's zone
    patient: str
    reasons: tuple[Reason, ...]


def stranded(
    session: Session, *, clinic: Clinic, changes: Changes, now: datetime
) -> list[Stranded]:
    """The clinic's bookings after `now`, requested or confirmed, that `changes` strand,
    soonest first. Reads the rows as flushed: call it after the apply's writes."""
    if not changes:
        return []
    zone = ZoneInfo(clinic.timezone)
    hours = _hours(session, clinic.id) if changes.hours else {}
    shifts = _shifts(session, changes.shifts - changes.staff)
    found = []
    for row in session.execute(_FUTURE, {"clinic_id": clinic.id, "now": now}):
        reasons = _reasons(row, changes, hours, zone) + _off_shift(row, shifts, zone)
        if reasons:
            starts = row.starts_at.astimezone(zone)
            found.append(Stranded(row.id, starts, row.patient, tuple(reasons)))
    return found


def _hours(session: Session, clinic_id: int) -> dict[int, list[tuple[time, time]]]:
    """The clinic's opening ranges by weekday, as the apply left them."""
    ranges: dict[int, list[tuple[time, time]]] = {}
    rows = session.execute(
        select(OpeningHours.weekday, OpeningHours.opens_at, OpeningHours.closes_at).where(
            OpeningHours.clinic_id == clinic_id
        )
    )
    for weekday, opens_at, closes_at in rows:
        ranges.setdefault(weekday, []).append((opens_at, closes_at))
    return ranges


def _shifts(session: Session, staff_ids: set[int]) -> dict[int, dict[int, list[tuple[time, time]]]]:
    """The new shifts of these staff members: staff id → weekday → ranges."""
    found: dict[int, dict[int, list[tuple[time, time]]]] = {staff_id: {} for staff_id in staff_ids}
    if not staff_ids:
        return found
    rows = session.execute(
        select(
            StaffShift.staff_id, StaffShift.weekday, StaffShift.starts_at, StaffShift.ends_at
        ).where(StaffShift.staff_id.in_(staff_ids))
    )
    for staff_id, weekday, starts_at, ends_at in rows:
        found[staff_id].setdefault(weekday, []).append((starts_at, ends_at))
    return found


def _off_shift(
    row: Any, shifts: dict[int, dict[int, list[tuple[time, time]]]], zone: ZoneInfo
) -> list[Reason]:
    """Whether the booking's staff member, whose shifts changed, no longer works its
    hands-on time (start to staff end)."""
    week = shifts.get(row.staff_id)
    if week is None:
        return []
    starts, ends = row.starts_at.astimezone(zone), row.staff_ends_at.astimezone(zone)
    if _inside(week.get(starts.weekday(), []), starts, ends):
        return []
    return [(f"「{row.staff}」の勤務時間外", "outside the staff member's new shifts")]


def _reasons(
    row: Any, changes: Changes, hours: dict[int, list[tuple[time, time]]], zone: ZoneInfo
) -> list[Reason]:
    reasons: list[Reason] = []
    if row.course_id in changes.courses:
        reasons.append((f"メニュー「{row.course}」は使用停止", "course made inactive"))
    if row.staff_id in changes.staff:
        if row.nominated:
            reasons.append((f"指名の「{row.staff}」は使用停止", "nominated staff made inactive"))
        else:
            reasons.append((f"担当の「{row.staff}」は使用停止", "assigned staff made inactive"))
    starts, ends = row.starts_at.astimezone(zone), row.ends_at.astimezone(zone)
    day = starts.date()
    if day in changes.closed:
        why = changes.closed[day]
        reasons.append((f"休診日（{why}）" if why else "休診日", "on a new closed day"))
    elif changes.holidays and schedule.is_holiday(day):
        reasons.append(("祝日は休診", "on a holiday, now closed"))
    elif changes.hours and not _inside(hours.get(day.weekday(), []), starts, ends):
        reasons.append(("診療時間外", "outside the new opening hours"))
    return reasons


def _inside(ranges: list[tuple[time, time]], starts: datetime, ends: datetime) -> bool:
    """Whether one opening range holds the whole booking (the bed's time, as the engine
    places it: start to end)."""
    if ends.date() != starts.date():
        return False
    begin, end = starts.time(), ends.time()
    return any(opens <= begin and end <= closes for opens, closes in ranges)
