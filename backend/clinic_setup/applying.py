"""Applying a `spec.Setup` to the database: creating the clinic, or bringing one up to date.

Courses, staff, beds and media are matched by name: updated in place, created when new, and
made inactive (never deleted: bookings and visits point at them) when the set-up leaves
them out. Opening hours, each staff member's shifts and the closed days from today on
become the set-up's; past closed days are history, kept as they are. What the file does
not describe stays: the clinic's LINE group and tokens, staff LINE links and days off.
Only what differs is written, so applying the same set-up twice writes nothing the second
time; what is written replaces the clinic's config token through the ORM
(`backend.models.clinic._touch_config`), so cached availability and conversation facts see
the change at once. Bookings the changes strand are listed (`stranding`), not changed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clinic_setup import stranding
from backend.clinic_setup.spec import (
    BedSpec,
    ClinicSpec,
    ClosedDaySpec,
    CourseSpec,
    Setup,
    StaffSpec,
    Week,
)
from backend.models import Bed, Clinic, ClosedDay, Course, Media, OpeningHours, Staff, StaffShift


@dataclass
class Tally:
    """What happened to one kind of row."""

    created: int = 0
    updated: int = 0
    deactivated: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything of this kind was written."""
        return bool(self.created or self.updated or self.deactivated or self.removed)


@dataclass
class Summary:
    """What `apply` changed."""

    clinic_id: int
    clinic_name: str
    created: bool
    settings_changed: bool
    tallies: dict[str, Tally] = field(default_factory=dict)
    stranded: list[stranding.Stranded] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return (
            self.created or self.settings_changed or any(t.changed for t in self.tallies.values())
        )


class _Named(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def active(self) -> bool: ...


R = TypeVar("R", bound=_Named)
S = TypeVar("S", CourseSpec, StaffSpec, BedSpec, str)
K = TypeVar("K", bound=Hashable)


def apply(session: Session, *, clinic: Clinic | None, setup: Setup, now: datetime) -> Summary:
    """Make `clinic` (a new clinic when None) what `setup` describes, and list the future
    bookings that strands; flushes, never commits. The set-up's closed days must not be
    before `now`'s day in the clinic's zone (`reading.read` refuses them by their place)."""
    created = clinic is None
    if clinic is None:
        clinic = Clinic(created_at=now)
        session.add(clinic)
    before = (clinic.timezone, clinic.holidays_closed)
    settings_changed = _assign(clinic, _settings(setup.clinic)) and not created
    session.flush()  # the clinic's id (and a new one's zone), for the rows below
    today = now.astimezone(ZoneInfo(clinic.timezone)).date()
    summary = Summary(clinic.id, clinic.name, created, settings_changed)
    changes = stranding.Changes(
        hours=clinic.timezone != before[0], holidays=clinic.holidays_closed and not before[1]
    )
    summary.tallies["hours"] = _hours(session, clinic.id, setup.hours)
    changes.hours |= summary.tallies["hours"].changed
    summary.tallies["closed_days"], changes.closed = _closed_days(
        session, clinic.id, setup.closed_days, today=today
    )
    summary.tallies["courses"], changes.courses = _courses(session, clinic.id, setup.courses)
    summary.tallies["staff"], changes.staff, changes.shifts = _staff(
        session, clinic.id, setup.staff, now=now
    )
    summary.tallies["beds"] = _beds(session, clinic.id, setup.beds)
    summary.tallies["media"] = _media(session, clinic.id, setup.media)
    session.flush()
    if not created:  # a new clinic has no bookings
        summary.stranded = stranding.stranded(session, clinic=clinic, changes=changes, now=now)
    return summary


def _settings(spec: ClinicSpec) -> dict[str, Any]:
    # Only the keys the file gives: the others keep the clinic's value (or the default).
    return {key: getattr(spec, key) for key in spec.model_fields_set}


def _assign(row: object, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; whether any did. An attribute set to its own value
    would still mark the row dirty, and a dirty config row replaces the config token."""
    changed = False
    for key, wanted in values.items():
        if getattr(row, key) != wanted:
            setattr(row, key, wanted)
            changed = True
    return changed


def _replace(
    session: Session,
    rows: Iterable[Any],
    wanted: Iterable[K],
    key: Callable[[Any], K],
    make: Callable[[K], object],
) -> Tally:
    """Delete the rows whose key is not wanted (or repeats one) and add the missing keys."""
    tally = Tally()
    missing = dict.fromkeys(wanted)
    for row in rows:
        if key(row) in missing:
            del missing[key(row)]
        else:
            session.delete(row)
            tally.removed += 1
    for item in missing:
        session.add(make(item))
        tally.created += 1
    return tally


def _hours(session: Session, clinic_id: int, week: Week) -> Tally:
    rows = session.scalars(select(OpeningHours).where(OpeningHours.clinic_id == clinic_id))
    return _replace(
        session,
        rows.all(),
        sorted(week.spans()),
        lambda row: (row.weekday, row.opens_at, row.closes_at),
        lambda span: OpeningHours(
            clinic_id=clinic_id, weekday=span[0], opens_at=span[1], closes_at=span[2]
        ),
    )


def _closed_days(
    session: Session, clinic_id: int, days: list[ClosedDaySpec], *, today: date
) -> tuple[Tally, dict[date, str | None]]:
    """The closed days from `today` on become `days`; with the days newly closed."""
    past = [day.on.isoformat() for day in days if day.on < today]
    if past:
        raise ValueError(f"closed days before {today}: {', '.join(past)}")
    rows = session.scalars(
        select(ClosedDay).where(ClosedDay.clinic_id == clinic_id, ClosedDay.closed_on >= today)
    ).all()
    wanted = {day.on: day.reason for day in days}
    had = {row.closed_on for row in rows}
    tally = _replace(
        session,
        rows,
        sorted(wanted),
        lambda row: row.closed_on,
        lambda on: ClosedDay(clinic_id=clinic_id, closed_on=on, reason=wanted[on]),
    )
    for row in rows:
        if row.closed_on in wanted and _assign(row, {"reason": wanted[row.closed_on]}):
            tally.updated += 1
    return tally, {on: reason for on, reason in wanted.items() if on not in had}


def _sync(
    session: Session,
    rows: Sequence[R],
    specs: Sequence[S],
    values: Callable[[int, S], dict[str, Any]],
    make: Callable[[dict[str, Any]], R],
) -> tuple[Tally, list[tuple[R, bool]], set[int]]:
    """Rows matched to specs by name (an active row first), updated or created, and the
    unmatched ones made inactive; with each spec's row, in order, and whether it was
    already counted as created or updated, and the ids of the rows made inactive."""
    tally = Tally()
    by_name: dict[str, R] = {}
    for row in sorted(rows, key=lambda row: (not row.active, row.id)):
        by_name.setdefault(row.name, row)
    matched: list[tuple[R, bool]] = []
    for index, spec in enumerate(specs):
        wanted = values(index, spec) | {"active": True}
        found = by_name.pop(wanted["name"], None)
        if found is None:
            found = make(wanted)
            session.add(found)
            tally.created += 1
            matched.append((found, True))
        else:
            changed = _assign(found, wanted)
            tally.updated += changed
            matched.append((found, changed))
    kept = {id(row) for row, _counted in matched}
    gone = {row.id for row in rows if id(row) not in kept and row.active}
    for row in rows:
        if row.id in gone:
            _assign(row, {"active": False})
            tally.deactivated += 1
    return tally, matched, gone


def _courses(session: Session, clinic_id: int, courses: list[CourseSpec]) -> tuple[Tally, set[int]]:
    rows = session.scalars(select(Course).where(Course.clinic_id == clinic_id)).all()

    def values(index: int, spec: CourseSpec) -> dict[str, Any]:
        return {
            "name": spec.name,
            "staff_minutes": spec.staff_minutes,
            "machine_minutes": spec.machine_minutes,
            "price_yen": spec.price_yen,
            "payment_kind": spec.payment,
            "insurance_claim_yen": spec.insurance_claim_yen,
            "revisit_interval_days": spec.revisit_interval_days,
            "for_first_visit": spec.for_first_visit,
            "sort_order": index,
        }

    tally, _rows, gone = _sync(
        session, rows, courses, values, lambda wanted: Course(clinic_id=clinic_id, **wanted)
    )
    return tally, gone


def _staff(
    session: Session, clinic_id: int, staff: list[StaffSpec], *, now: datetime
) -> tuple[Tally, set[int], set[int]]:
    """The tally, the staff made inactive, and the staff whose shifts changed."""
    rows = session.scalars(select(Staff).where(Staff.clinic_id == clinic_id)).all()
    tally, members, gone = _sync(
        session,
        rows,
        staff,
        lambda _index, spec: {"name": spec.name, "kana": spec.kana, "role": spec.role},
        lambda wanted: Staff(clinic_id=clinic_id, created_at=now, **wanted),
    )
    session.flush()  # ids for the new members' shifts
    reshifted: set[int] = set()
    for (member, counted), spec in zip(members, staff, strict=True):
        if _shifts(session, member, spec.shifts).changed:
            reshifted.add(member.id)
            if not counted:
                tally.updated += 1
    return tally, gone, reshifted


def _shifts(session: Session, member: Staff, week: Week) -> Tally:
    rows = session.scalars(select(StaffShift).where(StaffShift.staff_id == member.id)).all()
    return _replace(
        session,
        rows,
        sorted(week.spans()),
        lambda row: (row.weekday, row.starts_at, row.ends_at),
        lambda span: StaffShift(
            staff_id=member.id, weekday=span[0], starts_at=span[1], ends_at=span[2]
        ),
    )


def _beds(session: Session, clinic_id: int, beds: list[BedSpec]) -> Tally:
    rows = session.scalars(select(Bed).where(Bed.clinic_id == clinic_id)).all()
    tally, _rows, _gone = _sync(
        session,
        rows,
        beds,
        lambda _index, spec: {"name": spec.name, "capacity": spec.capacity},
        lambda wanted: Bed(clinic_id=clinic_id, **wanted),
    )
    return tally


def _media(session: Session, clinic_id: int, names: list[str]) -> Tally:
    rows = session.scalars(select(Media).where(Media.clinic_id == clinic_id)).all()
    tally, _rows, _gone = _sync(
        session,
        rows,
        names,
        lambda index, name: {"name": name, "sort_order": index},
        lambda wanted: Media(clinic_id=clinic_id, **wanted),
    )
    return tally
