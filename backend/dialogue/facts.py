"""What a conversation step may know: the clinic, its menu, staff, media, and who is talking."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from backend.bounded import Bounded
from backend.conversation.model import (
    ClinicInfo,
    CourseInfo,
    Facts,
    MediaInfo,
    PatientInfo,
    StaffInfo,
)
from backend.models import (
    Clinic,
    Course,
    Media,
    OpeningHours,
    PaymentKind,
    Staff,
    StaffRole,
)

WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True)
class ClinicFacts:
    """What every event of a clinic needs, cached until the clinic's config token changes."""

    clinic: ClinicInfo
    zone: ZoneInfo
    courses: tuple[CourseInfo, ...]
    staff: tuple[StaffInfo, ...]
    media: tuple[MediaInfo, ...]
    staff_group_id: str | None
    # LINE user id → staff id of every active, linked staff member (reception included).
    staff_by_line: Mapping[str, int]


CACHE_SIZE = 32
_cache: Bounded[tuple[int, str], ClinicFacts] = Bounded(CACHE_SIZE)


# A plain statement on the session's connection: every event of every conversation runs it.
_CLINICS = Clinic.__table__
_TOKEN = select(_CLINICS.c.config_token).where(_CLINICS.c.id == bindparam("clinic_id"))


def clinic_facts(session: Session, clinic_id: int, *, token: str | None = None) -> ClinicFacts:
    """The clinic's facts; one small query when nothing changed since they were read, none
    when the caller read the clinic's config token in this transaction (`token`)."""
    if token is None:
        token = session.connection().execute(_TOKEN, {"clinic_id": clinic_id}).scalar()
    if token is None:
        raise LookupError(f"clinic {clinic_id} not found")
    key = (clinic_id, token)
    # A hit leaves the order alone: the facts read longest ago go first, however used.
    found = _cache.peek(key)
    if found is not None:
        return found
    built = _build(session, clinic_id)
    _cache.put(key, built)
    return built


def clear_cache() -> None:
    """Forget cached clinic facts."""
    _cache.clear()


def load(
    session: Session,
    *,
    clinic_id: int,
    now: datetime,
    patient: PatientInfo | None = None,
    actor: str = "",
    subject: str = "",
    known: ClinicFacts | None = None,
) -> Facts:
    """Facts for one event; `now` is converted to the clinic's zone. `known`: the clinic's
    facts read earlier in this transaction, with nothing changed since."""
    return of(
        known or clinic_facts(session, clinic_id),
        now=now,
        patient=patient,
        actor=actor,
        subject=subject,
    )


def of(
    base: ClinicFacts,
    *,
    now: datetime,
    patient: PatientInfo | None = None,
    actor: str = "",
    subject: str = "",
) -> Facts:
    """Facts for one event from clinic facts already at hand: no database at all."""
    return Facts(
        now=now.astimezone(base.zone),
        clinic=base.clinic,
        courses=base.courses,
        staff=base.staff,
        media=base.media,
        patient=patient,
        actor=actor,
        subject=subject,
    )


def _build(session: Session, clinic_id: int) -> ClinicFacts:
    clinic = session.get(Clinic, clinic_id, populate_existing=True)
    assert clinic is not None
    linked = session.execute(
        select(Staff.line_user_id, Staff.id).where(
            Staff.clinic_id == clinic_id, Staff.active.is_(True), Staff.line_user_id.is_not(None)
        )
    )
    return ClinicFacts(
        clinic=_clinic(session, clinic),
        zone=ZoneInfo(clinic.timezone),
        courses=_courses(session, clinic_id),
        staff=_staff(session, clinic_id),
        media=_media(session, clinic_id),
        staff_group_id=clinic.line_staff_group_id,
        staff_by_line={row.line_user_id or "": row.id for row in linked},
    )


def _clinic(session: Session, clinic: Clinic) -> ClinicInfo:
    return ClinicInfo(
        id=clinic.id,
        name=clinic.name,
        phone=clinic.phone,
        address=clinic.address,
        hours_text=hours_text(session, clinic.id, holidays_closed=clinic.holidays_closed),
        auto_approve=clinic.auto_approve,
        cancel_deadline_minutes=clinic.cancel_deadline_minutes,
        line_add_url=clinic.line_add_url,
    )


def _courses(session: Session, clinic_id: int) -> tuple[CourseInfo, ...]:
    rows = session.scalars(
        select(Course)
        .where(Course.clinic_id == clinic_id, Course.active.is_(True))
        .order_by(Course.sort_order, Course.id)
    )
    return tuple(
        CourseInfo(
            id=course.id,
            name=course.name,
            minutes=course.minutes,
            price_yen=course.price_yen,
            insurance=course.payment_kind == PaymentKind.INSURANCE,
            for_first_visit=course.for_first_visit,
        )
        for course in rows
    )


def _staff(session: Session, clinic_id: int) -> tuple[StaffInfo, ...]:
    rows = session.scalars(
        select(Staff)
        .where(
            Staff.clinic_id == clinic_id,
            Staff.active.is_(True),
            Staff.role != StaffRole.RECEPTION,
        )
        .order_by(Staff.id)
    )
    return tuple(StaffInfo(staff.id, staff.name) for staff in rows)


def _media(session: Session, clinic_id: int) -> tuple[MediaInfo, ...]:
    rows = session.scalars(
        select(Media)
        .where(Media.clinic_id == clinic_id, Media.active.is_(True))
        .order_by(Media.sort_order, Media.id)
    )
    return tuple(MediaInfo(media.id, media.name) for media in rows)


def hours_text(session: Session, clinic_id: int, *, holidays_closed: bool) -> str:
    """Opening hours in the words a clinic's sign uses: 「月〜金 9:00〜12:00・15:00〜20:00」."""
    by_day: dict[int, list[str]] = {}
    rows = session.execute(
        select(OpeningHours.weekday, OpeningHours.opens_at, OpeningHours.closes_at)
        .where(OpeningHours.clinic_id == clinic_id)
        .order_by(OpeningHours.weekday, OpeningHours.opens_at)
    )
    for weekday, opens_at, closes_at in rows:
        by_day.setdefault(weekday, []).append(
            f"{opens_at.hour}:{opens_at.minute:02d}〜{closes_at.hour}:{closes_at.minute:02d}"
        )
    lines = [f"{days} {'・'.join(ranges)}" for days, ranges in _group_days(by_day)]
    closed = [WEEKDAYS[day] for day in range(7) if day not in by_day]
    if closed or holidays_closed:
        lines.append("休診日: " + "・".join(closed + (["祝日"] if holidays_closed else [])))
    return "\n".join(lines)


def _group_days(by_day: dict[int, list[str]]) -> list[tuple[str, list[str]]]:
    """Runs of weekdays with the same hours, as 「月〜金」."""
    groups: list[tuple[int, int, list[str]]] = []
    for day in sorted(by_day):
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == by_day[day]:
            groups[-1] = (groups[-1][0], day, by_day[day])
        else:
            groups.append((day, day, by_day[day]))
    return [
        (WEEKDAYS[first] if first == last else f"{WEEKDAYS[first]}〜{WEEKDAYS[last]}", ranges)
        for first, last, ranges in groups
    ]
