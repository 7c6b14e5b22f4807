"""予約を入れる, 日時を変更 and キャンセル on a カルテ: staff book a patient at the desk (the
next visit, at checkout) or on the phone, move a booking or cancel it.

Without JavaScript, in two steps: a GET form (day, course, 指名) lists that day's free
times, each a button that books it with a POST. The times come from the booking engine
(`free_starts`: hours, shifts, beds, the course's length, the lead time and horizon); the
booking is made by `booking.request` as source staff, so it is confirmed at once and
capacity is checked again in the transaction, then the patient is sent the clinic's
confirmation through their channel (`notify.confirmed`), as after 承認. A move goes
through `booking.reschedule` (course and 指名 kept, the booking's own time counted free), a
cancellation through `booking.cancel` by staff; the patient is told of either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking, notify
from backend.errors import DomainError, IllegalTransition, Invalid, SlotUnavailable
from backend.models import (
    Booking,
    Clinic,
    Course,
    Party,
    Patient,
    Source,
    Staff,
    Visit,
)
from backend.web import form_text, karte_view, today
from backend.web.answers import ACTOR

DEFAULT_DAYS_AHEAD = 7  # the next visit's day when the course says nothing
SEARCH_DAYS = 14  # a full day is answered with the days with room within this
OTHER_DAYS = 3
NO_STAFF = "0"  # 指名なし
CANCEL_REASONS = {"patient": "患者さまのご都合", "clinic": "院の都合"}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    chosen: bool


@dataclass(frozen=True)
class Slot:
    """A free start: the value the button posts (ISO, UTC) and its label (e.g. 10:30)."""

    value: str
    label: str


@dataclass(frozen=True)
class Moving:
    """The booking 日時を変更 moves: its id and what it is now (e.g. 12月1日（火）10:00 整体)."""

    id: int
    label: str


@dataclass(frozen=True)
class Offer:
    """The 予約を入れる section: the form's choices and, once staff asked, the day's times;
    when moving a booking, that booking (its course and 指名 stay)."""

    day: str  # YYYY-MM-DD, the date input's value
    first_day: str  # the earliest day the date input offers (today)
    courses: list[Choice]
    staff: list[Choice]
    course: str  # the chosen course's id, for the time buttons and links
    nominee: str  # the chosen staff member's id, or NO_STAFF
    searched: bool
    opened: bool
    action: str  # where a time button posts
    moving: Moving | None = None
    day_label: str = ""
    starts: tuple[Slot, ...] = ()
    # (query string, label): the nearest days with room
    other_days: tuple[tuple[str, str], ...] = ()
    error: str = ""


@dataclass(frozen=True)
class Asked:
    """What the form asked for, as typed (query parameters or form fields)."""

    day: str = ""
    course: str = ""
    staff: str = ""
    opened: bool = False  # the section shown open before any search (?book=1)
    move: str = ""  # the id of an upcoming booking to move (?move=ID)


def offer(
    session: Session, *, clinic: Clinic, patient: Patient, asked: Asked, now: datetime
) -> Offer:
    """The section for `patient`; with a day asked for, the free times that day."""
    zone = ZoneInfo(clinic.timezone)
    first = today.local_day(clinic, now)
    courses = _courses(session, clinic)
    members = _staff(session, clinic)
    moved = upcoming(session, patient, form_text.number(asked.move), now)
    if moved is not None:
        course: Course | None = moved.course
        staff_id = moved.staff_id if moved.nominated else None
        default_day = moved.starts_at.astimezone(zone).date()
        action = f"/patients/{patient.id}/bookings/{moved.id}/move"
    else:
        course = _chosen_course(session, patient, courses, asked.course)
        staff_id = form_text.number(asked.staff)
        default_day = first + timedelta(days=_interval(course))
        action = f"/patients/{patient.id}/bookings"
    day = form_text.day(asked.day) if asked.day else None
    found = Offer(
        day=(day or default_day).isoformat(),
        first_day=first.isoformat(),
        courses=[Choice(str(c.id), c.name, c is course) for c in courses],
        staff=[Choice(NO_STAFF, "指名なし", staff_id is None)]
        + [Choice(str(s.id), s.name, s.id == staff_id) for s in members],
        course=str(course.id) if course else "",
        nominee=str(staff_id or NO_STAFF),
        searched=bool(asked.day),
        opened=bool(asked.day) or asked.opened or moved is not None,
        action=action,
        moving=_moving(moved, zone),
    )
    if not asked.day:
        return found
    if day is None:
        return replace(found, error="日付を選んでください。")
    if course is None:
        return replace(found, error="予約できるメニューがありません。")
    if day < first:
        return replace(found, day_label=today.day_label(day), error="過去の日付です。")
    try:
        starts = booking.free_starts(
            session,
            clinic_id=clinic.id,
            course_id=course.id,
            first_day=day,
            last_day=day + timedelta(days=SEARCH_DAYS - 1),
            now=now,
            staff_id=staff_id if staff_id in {s.id for s in members} else None,
            exclude_booking_id=moved.id if moved is not None else None,
        )
    except DomainError:
        return replace(found, day_label=today.day_label(day), error="この条件では探せません。")
    by_day: dict[date, list[datetime]] = {}
    for start in starts:
        by_day.setdefault(start.astimezone(zone).date(), []).append(start)
    same = {"course": found.course, "staff": found.nominee}
    if moved is not None:
        same["move"] = str(moved.id)
    others = tuple(
        (urlencode({"day": other} | same), today.day_label(other))
        for other in sorted(by_day)
        if other != day
    )[:OTHER_DAYS]
    slots = tuple(
        Slot(start.isoformat(), start.astimezone(zone).strftime("%H:%M"))
        for start in by_day.get(day, [])
        if moved is None or start != moved.starts_at
    )
    return replace(found, day_label=today.day_label(day), starts=slots, other_days=others)


def upcoming(
    session: Session, patient: Patient, booking_id: int | None, now: datetime
) -> Booking | None:
    """The patient's booking `booking_id` if it is still ahead and requested or confirmed."""
    if booking_id is None:
        return None
    found = session.get(Booking, booking_id)
    if found is None or found.patient_id != patient.id or found.starts_at < now:
        return None
    return found if found.status in karte_view.UPCOMING else None


def _moving(moved: Booking | None, zone: ZoneInfo) -> Moving | None:
    if moved is None:
        return None
    local = moved.starts_at.astimezone(zone)
    label = f"{today.day_label(local.date())} {local:%H:%M} {moved.course.name}"
    return Moving(moved.id, label)


def book(
    session: Session,
    *,
    clinic: Clinic,
    patient: Patient,
    course: str,
    staff: str,
    start: str,
    now: datetime,
) -> Booking:
    """Book `start` for the patient, confirmed, and queue their confirmation; the engine's
    refusal (`SlotUnavailable` when the time was taken meanwhile, NotFound, Invalid)
    otherwise."""
    starts_at = _moment(start)
    course_id = form_text.number(course)
    if starts_at is None or course_id is None:
        raise SlotUnavailable("the time or the course is not one the form offered")
    made = booking.request(
        session,
        clinic_id=clinic.id,
        patient_id=patient.id,
        course_id=course_id,
        starts_at=starts_at,
        now=now,
        source=Source.STAFF,
        actor=ACTOR,
        staff_id=form_text.number(staff),
    )
    notify.confirmed(session, booking=made, now=now)
    return made


def _courses(session: Session, clinic: Clinic) -> list[Course]:
    query = (
        select(Course)
        .where(Course.clinic_id == clinic.id, Course.active.is_(True))
        .order_by(Course.sort_order, Course.id)
    )
    return list(session.scalars(query))


def _staff(session: Session, clinic: Clinic) -> list[Staff]:
    query = (
        select(Staff).where(Staff.clinic_id == clinic.id, Staff.active.is_(True)).order_by(Staff.id)
    )
    return list(session.scalars(query))


def _chosen_course(
    session: Session, patient: Patient, courses: list[Course], asked: str
) -> Course | None:
    """The course asked for; else the patient's last (visit, else booking); else the first
    course that is not only for first visits."""
    by_id = {course.id: course for course in courses}
    wanted = form_text.number(asked)
    if wanted in by_id:
        return by_id[wanted]
    last_visit = (
        select(Visit.course_id)
        .where(Visit.patient_id == patient.id, Visit.course_id.is_not(None))
        .order_by(Visit.visited_at.desc())
        .limit(1)
    )
    last_booking = (
        select(Booking.course_id)
        .where(Booking.patient_id == patient.id)
        .order_by(Booking.starts_at.desc())
        .limit(1)
    )
    for query in (last_visit, last_booking):
        last = session.scalar(query)
        if last in by_id:
            return by_id[last]
    regular = [course for course in courses if not course.for_first_visit] or courses
    return regular[0] if regular else None


def _interval(course: Course | None) -> int:
    if course is None or not course.revisit_interval_days:
        return DEFAULT_DAYS_AHEAD
    return course.revisit_interval_days


def _moment(text: str) -> datetime | None:
    try:
        found = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


def move(
    session: Session, *, patient: Patient, booking_id: int, start: str, now: datetime
) -> Booking:
    """Move the patient's upcoming booking to `start` (course and 指名 stay; staff moves are
    confirmed) and tell the patient the new time; the engine's refusal otherwise."""
    found = upcoming(session, patient, booking_id, now)
    if found is None:
        raise IllegalTransition("the booking is no longer upcoming")
    starts_at = _moment(start)
    if starts_at is None:
        raise SlotUnavailable("the time is not one the form offered")
    moved = booking.reschedule(
        session, booking_id=found.id, starts_at=starts_at, by=Party.STAFF, actor=ACTOR, now=now
    )
    notify.moved(session, booking=moved, now=now)
    return moved


def cancel(
    session: Session, *, patient: Patient, booking_id: int, why: str, now: datetime
) -> Booking:
    """Cancel the patient's upcoming booking from the desk (no deadline: staff decide) and
    tell the patient: an apology when the clinic cancels, a confirmation when the patient
    asked. The reason is kept in the booking's history."""
    found = upcoming(session, patient, booking_id, now)
    if found is None:
        raise IllegalTransition("the booking is no longer upcoming")
    if why not in CANCEL_REASONS:
        raise Invalid("choose who wanted the cancellation", field="why")
    done = booking.cancel(
        session,
        booking_id=found.id,
        by=Party.STAFF,
        actor=ACTOR,
        now=now,
        reason=CANCEL_REASONS[why],
    )
    if why == "clinic":
        notify.cancelled_by_clinic(session, booking=done, now=now)
    else:
        notify.cancellation_taken(session, booking=done, now=now)
    return done
