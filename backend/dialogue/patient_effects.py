"""The ledger work behind the patient conversation (backend.conversation.patient).

Each performer takes (session, facts, effect) and answers a `Result` of the effect's name.
Performers flush, never commit: the webhook's transaction holds the conversation state,
the booking and the outbox rows together. A refusal of the domain (DomainError) becomes
`Result(ok=False, data={"code": ..., **context})`. Result data is JSON-friendly: ids,
names, and ISO 8601 times in the clinic's zone.

The LINE user is `facts.subject`; the patient is `facts.patient`, and a booking that is
not theirs is "not found".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from backend import audit, booking, notify, outbox, patients
from backend.booking import masks, schedule
from backend.conversation import patient_common as effects
from backend.conversation import patient_window as window
from backend.conversation.model import Card, Effect, Facts, Result
from backend.dialogue.runner import Performer
from backend.errors import (
    DeadlinePassed,
    DomainError,
    IllegalTransition,
    Invalid,
    NotFound,
    SlotUnavailable,
)
from backend.models import (
    AuditAction,
    Awaiting,
    Booking,
    BookingStatus,
    Clinic,
    Party,
    Patient,
    Source,
)

ACTOR = "patient:line"
DAYS_OFFERED = 8
MAX_OFFER = 12
NEAREST = 6
LOOKAHEAD_DAYS = 14
MAX_LISTED = 10

Body = Callable[[Session, Facts, Mapping[str, Any]], Mapping[str, Any] | Result]
PERFORMERS: dict[str, Performer] = {}


def _performs(name: str) -> Callable[[Body], Body]:
    """Register `body` as the performer of effect `name`; refusals become failed Results."""

    def register(body: Body) -> Body:
        def perform(session: Session, facts: Facts, effect: Effect) -> Result:
            try:
                found = body(session, facts, effect.args)
            except DomainError as err:
                return Result(name, ok=False, data=_refusal(err))
            return found if isinstance(found, Result) else Result(name, ok=True, data=found)

        PERFORMERS[name] = perform
        return body

    return register


def _refusal(err: DomainError) -> dict[str, Any]:
    plain = (str, int, float, bool, type(None))
    context = {key: value for key, value in err.context.items() if isinstance(value, plain)}
    return {**context, "code": err.code}


# Looking things up


def _clinic(session: Session, facts: Facts) -> Clinic:
    clinic = session.get(Clinic, facts.clinic.id)
    if clinic is None:
        raise NotFound("clinic not found", field="clinic_id")
    return clinic


def _zone(clinic: Clinic) -> ZoneInfo:
    return ZoneInfo(clinic.timezone)


def _patient(session: Session, facts: Facts) -> Patient:
    patient = session.get(Patient, facts.patient.id) if facts.patient else None
    if patient is None:
        raise NotFound("this LINE user is not registered", field="patient_id")
    return patient


def _own_booking(session: Session, facts: Facts, booking_id: object) -> Booking:
    """The patient's own booking; anyone else's is "not found", never "forbidden"."""
    found = session.get(Booking, booking_id) if isinstance(booking_id, int) else None
    mine = facts.patient is not None and found is not None and found.patient_id == facts.patient.id
    if found is None or not mine or found.clinic_id != facts.clinic.id:
        raise NotFound("booking not found", field="booking_id")
    return found


def _start(value: object) -> datetime:
    try:
        start = datetime.fromisoformat(str(value))
    except ValueError:
        raise Invalid("not a start time", field="start") from None
    if start.tzinfo is None:
        raise Invalid("the start needs a zone", field="start")
    return start


def _date(value: object, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid("not a date", field=field) from None


def _iso(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat()


def _nominee(found: Booking) -> int | None:
    return found.staff_id if found.nominated else None


def _summary(found: Booking, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": found.id,
        "start": _iso(found.starts_at, zone),
        "course": found.course.name,
        "staff": found.staff.name if found.nominated and found.staff else "",
        "status": found.status.value,
        "awaiting": found.awaiting.value if found.awaiting else None,
    }


# Registration and reachability


@_performs(effects.CHECK_PHONE)
def _check_phone(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"phone": patients.normalize_phone(str(args.get("phone", "")))}


@_performs(effects.REGISTER)
def _register(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    if facts.patient is not None:  # registered meanwhile (a second tap): nothing to add
        return {"patient_id": facts.patient.id}
    if not facts.subject:
        raise Invalid("no LINE user to link", field="subject")
    birth = args.get("birth_on")
    fields = {key: args[key] for key in ("kana", "phone", "media_id") if args.get(key)}
    patient = patients.create(
        session,
        clinic_id=facts.clinic.id,
        actor=ACTOR,
        now=facts.now,
        name=str(args.get("name", "")),
        birth_on=_date(birth, "birth_on") if birth else None,
        gender=args.get("gender") or "unknown",
        consent_line=bool(args.get("consent_line")),
        **fields,
    )
    _release_from_merged(session, facts)
    patient.line_user_id = facts.subject
    patient.line_reachable = True
    session.flush()
    return {"patient_id": patient.id}


def _release_from_merged(session: Session, facts: Facts) -> None:
    """A merged duplicate may still hold the LINE account; the new link takes it over."""
    session.execute(
        update(Patient)
        .where(
            Patient.clinic_id == facts.clinic.id,
            Patient.line_user_id == facts.subject,
            Patient.merged_into_id.is_not(None),
        )
        .values(line_user_id=None)
        .execution_options(synchronize_session="fetch")
    )


@_performs(effects.MATCH)
def _match(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any] | Result:
    if facts.patient is not None:
        return {"patient_id": facts.patient.id}
    phone = patients.normalize_phone(str(args.get("phone", "")))
    born = _date(args.get("birth_on"), "birth_on")
    found = session.scalars(
        select(Patient).where(
            Patient.clinic_id == facts.clinic.id,
            Patient.phone == phone,
            Patient.birth_on == born,
            Patient.merged_into_id.is_(None),
            # A カルテ linked to another LINE user is someone else's, however alike.
            or_(Patient.line_user_id.is_(None), Patient.line_user_id == facts.subject),
        )
    ).all()
    if len(found) == 1 and facts.subject:
        return {"patient_id": _link(session, facts, found[0]).id}
    code = "ambiguous" if found else "no_match"
    _ask_staff_to_link(session, facts, phone=phone, born=born, code=code)
    return Result(effects.MATCH, ok=False, data={"code": code})


def _link(session: Session, facts: Facts, patient: Patient) -> Patient:
    _release_from_merged(session, facts)
    patient.line_user_id = facts.subject
    patient.line_reachable = True
    patient.updated_at = facts.now
    session.flush()
    audit.record(
        session,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        actor=ACTOR,
        action=AuditAction.UPDATE,
        now=facts.now,
        detail=audit.fields(["line_user_id"]),
    )
    return patient


def _ask_staff_to_link(
    session: Session, facts: Facts, *, phone: str, born: date, code: str
) -> None:
    """Staff link the LINE user by hand: the card says who asked, never anything medical."""
    clinic = _clinic(session, facts)
    if clinic.line_staff_group_id is None:
        return
    card = Card(
        title="LINE連携の確認",
        rows=(
            ("電話", phone),
            ("生年月日", f"{born.year}年{born.month}月{born.day}日"),
            ("照合結果", "候補が複数あります" if code == "ambiguous" else "該当なし"),
            ("LINE ID", facts.subject),
        ),
        note="通院中の方として登録を希望されています。カルテをご確認のうえ連携してください。",
    )
    outbox.line_replies(
        session,
        clinic_id=clinic.id,
        to=clinic.line_staff_group_id,
        replies=(card,),
        purpose="staff:link-check",
        now=facts.now,
    )


def _set_reachable(session: Session, facts: Facts, reachable: bool) -> Mapping[str, Any]:
    patient = session.get(Patient, facts.patient.id) if facts.patient else None
    if patient is not None and patient.line_reachable != reachable:
        patient.line_reachable = reachable
        patient.updated_at = facts.now
        session.flush()
    return {"patient_id": patient.id if patient else None}


@_performs(effects.REACHABLE)
def _reachable(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    return _set_reachable(session, facts, True)


@_performs(effects.UNREACHABLE)
def _unreachable(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    return _set_reachable(session, facts, False)


# Free time


@_performs(effects.HISTORY)
def _history(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    patient = _patient(session, facts)
    mine = Booking.patient_id == patient.id
    last = session.scalars(
        select(Booking)
        .where(mine, Booking.status.in_(_KEPT))
        .order_by(Booking.starts_at.desc())
        .limit(1)
    ).first()
    completed = select(Booking.id).where(mine, Booking.status == BookingStatus.COMPLETED).limit(1)
    visited = patient.first_visit_on is not None or session.scalar(completed) is not None
    return {
        "visited": visited,
        "course_id": last.course_id if last else None,
        "staff_id": _nominee(last) if last else None,
    }


_KEPT = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


def _free(
    session: Session,
    clinic: Clinic,
    args: Mapping[str, Any],
    *,
    first: date,
    last: date,
    now: datetime,
) -> list[datetime]:
    """Free starts of the course (and nominee) between two local days, in the clinic's zone."""
    course_id, staff_id = args.get("course_id"), args.get("staff_id")
    if not isinstance(course_id, int) or not isinstance(staff_id, int | None):
        raise Invalid("course_id and staff_id must be ids", field="course_id")
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
    zone = _zone(clinic)
    return [start.astimezone(zone) for start in found.datetimes()]


@_performs(effects.FIND_DAYS)
def _find_days(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    clinic = _clinic(session, facts)
    zone = _zone(clinic)
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
    clinic = _clinic(session, facts)
    zone = _zone(clinic)
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
    found = _Found(starts=[_iso(start, zone) for start in starts], more=more)
    if hits and asked.first == asked.last:
        found.exact = _iso(hits[0], zone)
    if not hits and (asked.kind == "exact" or not starts):
        found.reason = _why_none(session, clinic, asked, args.get("staff_id"), facts.now)
    if not starts:
        later = _after(session, clinic, args, asked.end(zone), facts.now)
        found.alternatives = [_iso(start, zone) for start in later]
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
    session: Session, clinic: Clinic, asked: window.Window, staff_id: object, now: datetime
) -> str:
    """Say why the time asked for has no room: beyond the horizon, past, a closed day,
    outside hours, the nominee's day off, or full."""
    zone = _zone(clinic)
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
    session: Session, clinic: Clinic, args: Mapping[str, Any], end: datetime, now: datetime
) -> list[datetime]:
    """The first free starts from `end` on, looking two weeks ahead."""
    first = max(end.date(), now.astimezone(_zone(clinic)).date())
    free = _free(
        session, clinic, args, first=first, last=first + timedelta(days=LOOKAHEAD_DAYS), now=now
    )
    return [start for start in free if start >= end][:NEAREST]


def _near(
    session: Session, clinic: Clinic, args: Mapping[str, Any], start: datetime, now: datetime
) -> list[datetime]:
    """Free starts nearest to a start that was taken: that day, else the days after."""
    local = start.astimezone(_zone(clinic))
    same_day = _free(session, clinic, args, first=local.date(), last=local.date(), now=now)
    others = [free for free in same_day if free != local]
    if others:
        return window.nearest(others, local.time(), NEAREST)
    end = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
    return _after(session, clinic, args, end, now)


# Booking


def _made(made: Booking, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "booking_id": made.id,
        "status": made.status.value,
        "start": _iso(made.starts_at, zone),
        "course": made.course.name,
    }


def _taken(
    session: Session,
    facts: Facts,
    *,
    name: str,
    err: DomainError,
    args: Mapping[str, Any],
    start: datetime,
) -> Result:
    """The slot went meanwhile: refuse with the nearest free starts, and what to book them
    with (course, nominee, the booking being moved)."""
    clinic = _clinic(session, facts)
    zone = _zone(clinic)
    starts = _near(session, clinic, args, start, facts.now)
    data = {
        **_refusal(err),
        **args,
        "start": _iso(start, zone),
        "starts": [_iso(free, zone) for free in starts],
    }
    return Result(name, ok=False, data=data)


def _book(
    session: Session, facts: Facts, name: str, args: Mapping[str, Any], start: datetime
) -> Mapping[str, Any] | Result:
    """Request a booking from LINE; staff get the request card (or a notice when the
    clinic confirmed it at once)."""
    patient = _patient(session, facts)
    course_id, staff_id = args.get("course_id"), args.get("staff_id")
    if not isinstance(course_id, int) or not isinstance(staff_id, int | None):
        raise Invalid("course_id and staff_id must be ids", field="course_id")
    try:
        made = booking.request(
            session,
            clinic_id=facts.clinic.id,
            patient_id=patient.id,
            course_id=course_id,
            starts_at=start,
            now=facts.now,
            source=Source.LINE,
            actor=ACTOR,
            staff_id=staff_id,
        )
    except SlotUnavailable as err:
        return _taken(session, facts, name=name, err=err, args=args, start=start)
    notify.request_created(session, booking=made, now=facts.now)
    return _made(made, _zone(_clinic(session, facts)))


@_performs(effects.REQUEST)
def _request(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any] | Result:
    chosen = {"course_id": args.get("course_id"), "staff_id": args.get("staff_id")}
    return _book(session, facts, effects.REQUEST, chosen, _start(args.get("start")))


@_performs(effects.REBOOK)
def _rebook(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any] | Result:
    old = _own_booking(session, facts, args.get("booking_id"))
    start = _start(args.get("start"))
    again = session.scalars(
        select(Booking).where(
            Booking.patient_id == old.patient_id,
            Booking.starts_at == start,
            Booking.status.in_((BookingStatus.REQUESTED, BookingStatus.CONFIRMED)),
        )
    ).first()
    if again is not None:  # the button was tapped twice
        return _made(again, _zone(_clinic(session, facts)))
    if old.status in (BookingStatus.REQUESTED, BookingStatus.CONFIRMED):
        raise IllegalTransition("the booking is still active", status=old.status.value)
    chosen = {"course_id": old.course_id, "staff_id": _nominee(old)}
    return _book(session, facts, effects.REBOOK, chosen, start)


# The patient's bookings


@_performs(effects.LIST_BOOKINGS)
def _list(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    patient = _patient(session, facts)
    holding = or_(Booking.hold_until.is_(None), Booking.hold_until > facts.now)
    rows = session.scalars(
        select(Booking)
        .where(
            Booking.patient_id == patient.id,
            Booking.clinic_id == facts.clinic.id,
            Booking.starts_at >= facts.now,
            or_(
                Booking.status == BookingStatus.CONFIRMED,
                and_(Booking.status == BookingStatus.REQUESTED, holding),
            ),
        )
        .order_by(Booking.starts_at)
        .limit(MAX_LISTED)
    ).all()
    zone = _zone(_clinic(session, facts))
    return {"bookings": [_summary(row, zone) for row in rows]}


@_performs(effects.GET_BOOKING)
def _get(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    found = _own_booking(session, facts, args.get("booking_id"))
    clinic = _clinic(session, facts)
    deadline = found.starts_at - timedelta(minutes=clinic.cancel_deadline_minutes)
    return {
        **_summary(found, _zone(clinic)),
        "course_id": found.course_id,
        "staff_id": _nominee(found),
        "deadline": _iso(deadline, _zone(clinic)),
    }


@_performs(effects.CANCEL)
def _cancel(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    found = _own_booking(session, facts, args.get("booking_id"))
    try:
        booking.cancel(session, booking_id=found.id, by=Party.PATIENT, actor=ACTOR, now=facts.now)
    except DeadlinePassed:
        notify.late_cancel_attempt(session, booking=found, now=facts.now)
        raise
    notify.patient_cancelled(session, booking=found, now=facts.now)
    zone = _zone(_clinic(session, facts))
    return {
        "booking_id": found.id,
        "start": _iso(found.starts_at, zone),
        "course": found.course.name,
    }


@_performs(effects.RESCHEDULE)
def _reschedule(
    session: Session, facts: Facts, args: Mapping[str, Any]
) -> Mapping[str, Any] | Result:
    found = _own_booking(session, facts, args.get("booking_id"))
    start, previous = _start(args.get("start")), found.starts_at
    try:
        booking.reschedule(
            session,
            booking_id=found.id,
            starts_at=start,
            by=Party.PATIENT,
            actor=ACTOR,
            now=facts.now,
        )
    except SlotUnavailable as err:
        kept = {"course_id": found.course_id, "staff_id": _nominee(found), "booking_id": found.id}
        return _taken(session, facts, name=effects.RESCHEDULE, err=err, args=kept, start=start)
    except DeadlinePassed:
        notify.late_cancel_attempt(session, booking=found, now=facts.now, change=True)
        raise
    notify.patient_moved(session, booking=found, previous_start=previous, now=facts.now)
    zone = _zone(_clinic(session, facts))
    return {**_made(found, zone), "previous": _iso(previous, zone)}


@_performs(effects.ACCEPT_PROPOSAL)
def _accept(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any] | Result:
    found = _own_booking(session, facts, args.get("booking_id"))
    try:
        booking.accept(session, booking_id=found.id, actor=ACTOR, now=facts.now)
    except SlotUnavailable as err:
        kept = {"course_id": found.course_id, "staff_id": _nominee(found)}
        return Result(effects.ACCEPT_PROPOSAL, ok=False, data={**_refusal(err), **kept})
    notify.confirmed(session, booking=found, now=facts.now)
    notify.proposal_accepted(session, booking=found, now=facts.now)
    return _made(found, _zone(_clinic(session, facts)))


@_performs(effects.DECLINE_PROPOSAL)
def _decline(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    found = _own_booking(session, facts, args.get("booking_id"))
    booking.lock_schedule(session, found.clinic_id)
    session.refresh(found)  # staff may have answered meanwhile
    if found.status != BookingStatus.REQUESTED or found.awaiting != Awaiting.PATIENT:
        raise IllegalTransition("no proposal is waiting for the patient", status=found.status.value)
    booking.cancel(
        session,
        booking_id=found.id,
        by=Party.PATIENT,
        actor=ACTOR,
        now=facts.now,
        reason="proposal declined",
    )
    notify.patient_cancelled(session, booking=found, now=facts.now)
    return {"booking_id": found.id, "course_id": found.course_id, "staff_id": _nominee(found)}
