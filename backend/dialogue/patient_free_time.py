"""Free time for the patient conversation: the days with room, the starts inside a window
the patient asked for (and why there are none), and the nearest starts to one just taken.

Starts are free starts of the course (and the nominee, when there is one) from the booking
engine, answered as ISO 8601 times in the clinic's zone. A booking being moved does not
block its own time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from backend import booking
from backend.booking import masks, schedule
from backend.conversation import patient_common as effects
from backend.conversation import patient_window as window
from backend.conversation.model import Facts
from backend.dialogue import patient_common as common
from backend.dialogue.runner import Performer
from backend.errors import Invalid

DAYS_OFFERED = 8
MAX_OFFER = 12
NEAREST = 6
LOOKAHEAD_DAYS = 14

PERFORMERS: dict[str, Performer] = {}
_performs = common.registry(PERFORMERS)


def _free(
    session: Session,
    clinic: booking.BookingClinic,
    args: Mapping[str, Any],
    *,
    first: date,
    last: date,
    now: datetime,
) -> list[datetime]:
    """Free starts of the course (and nominee) between two local days, in the clinic's zone."""
    course_id, staff_id = common.chosen(args)
    moving = args.get("booking_id")
    last = min(last, first + timedelta(days=booking.MAX_DAYS - 1))
    if last < first:
        return []
    found = booking.find_starts(
        session,
        clinic_id=clinic.id,
        course_id=course_id,
        first_day=first,
        last_day=last,
        now=now,
        staff_id=staff_id,
        exclude_booking_id=moving if isinstance(moving, int) else None,
    )
    zone = common.zone(clinic)
    return [start.astimezone(zone) for start in found.datetimes()]


@_performs(effects.FIND_DAYS)
def _find_days(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    clinic = booking.booking_rules(session, facts.clinic.id)
    zone = common.zone(clinic)
    earliest, latest = booking.booking_window(clinic, facts.now)
    first, last = earliest.astimezone(zone).date(), latest.astimezone(zone).date()
    free = _free(session, clinic, args, first=first, last=last, now=facts.now)
    days = list(dict.fromkeys(start.date() for start in free))[:DAYS_OFFERED]
    return {
        "days": [day.isoformat() for day in days],
        "first": first.isoformat(),
        "last": last.isoformat(),
    }


@_performs(effects.FIND_SLOTS)
def _find_slots(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    clinic = booking.booking_rules(session, facts.clinic.id)
    zone = common.zone(clinic)
    try:
        asked = window.Window.from_args(args)
    except (KeyError, TypeError, ValueError):
        raise Invalid("not a day or time window", field="window") from None
    free = _free(session, clinic, args, first=asked.first, last=asked.last, now=facts.now)
    inside = [start for start in free if asked.contains(start)]
    hits = asked.exact_hits(inside)
    if asked.kind == "exact" and asked.time_from is not None:
        starts, more = window.nearest(inside, asked.time_from, NEAREST), False
    else:
        starts, more = inside[:MAX_OFFER], len(inside) > MAX_OFFER
    found = _Found(starts=[common.iso(start, zone) for start in starts], more=more)
    if hits and asked.first == asked.last:
        found.exact = common.iso(hits[0], zone)
    if not hits and (asked.kind == "exact" or not starts):
        found.reason = _why_none(session, clinic, asked, args.get("staff_id"), facts.now)
    if not starts:
        later = _after(session, clinic, args, asked.end(zone), facts.now)
        found.alternatives = [common.iso(start, zone) for start in later]
    return found.as_data()


@dataclass
class _Found:
    """The `find_slots` answer: starts to offer (`more` when there are later ones), the
    exact start when it is free, why the asked time is not, and alternatives after it."""

    starts: list[str]
    more: bool = False
    exact: str | None = None
    reason: str | None = None
    alternatives: list[str] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        return asdict(self)


def _why_none(
    session: Session,
    clinic: booking.BookingClinic,
    asked: window.Window,
    staff_id: object,
    now: datetime,
) -> str:
    """Say why the time asked for has no room: beyond the horizon, past, a closed day,
    outside hours, the nominee's day off, or full."""
    zone = common.zone(clinic)
    earliest, latest = booking.booking_window(clinic, now)
    if asked.first > latest.astimezone(zone).date():
        return "beyond"
    spans = asked.spans(zone)
    if all(end <= earliest for _start, end in spans):
        return "past"
    last = min(asked.last, asked.first + timedelta(days=booking.MAX_DAYS - 1))
    plan = schedule.cached(session, clinic=clinic, first_day=asked.first, last_day=last)
    wanted = 0
    for start, end in spans:
        wanted |= masks.interval(plan.minute(start), plan.minute(end))
    bookable = masks.interval(plan.minute(earliest), plan.minute(latest) + 1)
    return _closed_or_full(plan, wanted, bookable, staff_id)


def _closed_or_full(plan: schedule.Schedule, wanted: int, bookable: int, staff_id: object) -> str:
    """Among open days: closed then, already past, the nominee off, or full."""
    open_wanted = plan.open_mask & wanted
    staff_on = plan.shift.get(staff_id, 0) if isinstance(staff_id, int) else -1
    reasons = (
        ("closed_day", plan.open_mask),
        ("closed_hours", open_wanted),
        ("past", open_wanted & bookable),
        ("staff_off", open_wanted & bookable & staff_on),
    )
    return next((reason for reason, room in reasons if not room), "full")


def _after(
    session: Session,
    clinic: booking.BookingClinic,
    args: Mapping[str, Any],
    end: datetime,
    now: datetime,
) -> list[datetime]:
    """The first free starts from `end` on, looking two weeks ahead."""
    first = max(end.date(), now.astimezone(common.zone(clinic)).date())
    free = _free(
        session, clinic, args, first=first, last=first + timedelta(days=LOOKAHEAD_DAYS), now=now
    )
    return [start for start in free if start >= end][:NEAREST]


def near(
    session: Session,
    clinic: booking.BookingClinic,
    args: Mapping[str, Any],
    start: datetime,
    now: datetime,
) -> list[datetime]:
    """Free starts nearest to a start that was taken: that day, else the days after."""
    local = start.astimezone(common.zone(clinic))
    same_day = _free(session, clinic, args, first=local.date(), last=local.date(), now=now)
    others = [free for free in same_day if free != local]
    if others:
        return window.nearest(others, local.time(), NEAREST)
    end = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
    return _after(session, clinic, args, end, now)
