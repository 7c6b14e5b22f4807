"""Effects of the staff conversations: redeeming link codes, answering requests, the agenda.

Each performer calls the domain inside a savepoint, so a refusal leaves nothing half done,
and answers with JSON-friendly data; the caller commits. A request is answered only while
it waits for staff, checked under the clinic's schedule lock: of two staff tapping at once,
the second finds the request answered and is told by whom.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from backend import booking, notify, staff_links
from backend.conversation.model import Effect, Facts, Result
from backend.dialogue.runner import Performer
from backend.errors import DomainError, IllegalTransition, Invalid, NotFound, SlotUnavailable
from backend.models import Awaiting, Booking, BookingChange, BookingStatus, Clinic, Staff

Body = Callable[[Session, Facts, Mapping[str, Any]], dict[str, Any]]

MAX_SLOTS = 6  # quick replies staff pick a proposal from
SLOT_DAYS = 14  # how far after the requested day to look for them
MAX_ALTERNATIVES = 3  # times offered to a declined patient
NEAR_DAYS = 7  # around the declined day
MAX_CARDS = 10  # LINE shows at most 12 bubbles in a carousel
MAX_DAY_BOOKINGS = 100
LISTED = (
    BookingStatus.REQUESTED,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
)


class NotStaff(DomainError):
    """Only a linked staff member may answer requests."""

    code = "not_staff"
    status = 403


def _performer(name: str, body: Body) -> Performer:
    """Run `body` in a savepoint; a DomainError becomes a refusal naming its code."""

    def perform(session: Session, facts: Facts, effect: Effect) -> Result:
        try:
            with session.begin_nested():
                data = body(session, facts, effect.args)
        except DomainError as error:
            return Result(name, ok=False, data=_refusal(session, facts, effect.args, error))
        return Result(name, data=data)

    return perform


def _redeem_staff_code(session: Session, facts: Facts, args: Mapping[str, Any]) -> dict[str, Any]:
    # 1:1 the conversation's subject is the LINE user id.
    if not facts.subject:
        raise Invalid("no LINE user to link", field="line_user_id")
    link = staff_links.redeem(
        session,
        code=str(args["code"]),
        line_user_id=facts.subject,
        clinic_id=facts.clinic.id,
        now=facts.now,
    )
    member = session.get(Staff, link.staff_id)
    assert member is not None
    return {"staff_id": member.id, "name": member.name}


def _redeem_group_code(session: Session, facts: Facts, args: Mapping[str, Any]) -> dict[str, Any]:
    # In a group the subject is "<group id>:<user id>"; LINE ids never contain a colon.
    group_id = facts.subject.partition(":")[0]
    staff_links.redeem(
        session, code=str(args["code"]), group_id=group_id, clinic_id=facts.clinic.id, now=facts.now
    )
    return {"clinic": facts.clinic.name}


def _approve(session: Session, facts: Facts, args: Mapping[str, Any]) -> dict[str, Any]:
    request = _waiting(session, facts, args["booking_id"])
    done = booking.confirm(session, booking_id=request.id, actor=facts.actor, now=facts.now)
    notify.confirmed(session, booking=done, now=facts.now)
    return _answered(session, facts, done)


def _decline(session: Session, facts: Facts, args: Mapping[str, Any]) -> dict[str, Any]:
    request = _waiting(session, facts, args["booking_id"])
    reason = args.get("reason")
    done = booking.decline(
        session, booking_id=request.id, actor=facts.actor, now=facts.now, reason=reason
    )
    alternatives = _alternatives(session, facts, done)
    notify.declined(session, booking=done, now=facts.now, reason=reason, alternatives=alternatives)
    zone = _zone(session, facts)
    offered = [start.astimezone(zone).isoformat() for start in alternatives]
    return _answered(session, facts, done, reason=reason, alternatives=offered)


def _next_slots(session: Session, facts: Facts, args: Mapping[str, Any]) -> dict[str, Any]:
    request = _waiting(session, facts, args["booking_id"])
    zone = _zone(session, facts)
    day = request.starts_at.astimezone(zone).date()
    starts = booking.free_starts(
        session,
        clinic_id=request.clinic_id,
        course_id=request.course_id,
        first_day=day,
        last_day=day + timedelta(days=SLOT_DAYS - 1),
        now=facts.now,
        staff_id=_nominated(request),
    )
    later = [start for start in starts if start > request.starts_at][:MAX_SLOTS]
    return {
        "booking": _booking(request, zone),
        "slots": [start.astimezone(zone).isoformat() for start in later],
    }


def _propose(session: Session, facts: Facts, args: Mapping[str, Any]) -> dict[str, Any]:
    request = _waiting(session, facts, args["booking_id"])
    starts_at = _moment(str(args["starts_at"]))
    if starts_at <= facts.now:
        # A quick reply tapped long after it was offered.
        raise SlotUnavailable("that time has passed", reason="past")
    done = booking.propose(
        session, booking_id=request.id, starts_at=starts_at, actor=facts.actor, now=facts.now
    )
    notify.proposed(session, booking=done, now=facts.now)
    return _answered(session, facts, done)


def _agenda(session: Session, facts: Facts, args: Mapping[str, Any]) -> dict[str, Any]:
    _require_staff(facts)
    if args.get("pending"):
        return _pending(session, facts)
    day = date.fromisoformat(str(args["day"]))
    return {"kind": "day", "day": day.isoformat(), "bookings": _day(session, facts, day)}


def _waiting(session: Session, facts: Facts, booking_id: object) -> Booking:
    """The request, under the schedule lock, if it still waits for staff; otherwise refuse,
    naming its status and who answered it."""
    _require_staff(facts)
    booking.lock_schedule(session, facts.clinic.id)
    request = session.get(Booking, int(str(booking_id)), populate_existing=True)
    if request is None or request.clinic_id != facts.clinic.id:
        raise NotFound(f"booking {booking_id} not found", field="booking_id")
    if request.status == BookingStatus.REQUESTED and _hold_ran_out(request, facts.now):
        raise IllegalTransition("the request expired", status="expired", handled_by="system")
    if request.status != BookingStatus.REQUESTED or request.awaiting == Awaiting.PATIENT:
        raise IllegalTransition(
            "the request was already answered",
            status=request.status.value,
            awaiting=request.awaiting.value if request.awaiting else None,
            handled_by=_last_actor(session, request.id),
        )
    return request


def _require_staff(facts: Facts) -> None:
    # The tables refuse first; this keeps the ledger safe from a table that forgot to.
    if not facts.actor.startswith("staff:"):
        raise NotStaff("only linked staff may see and answer requests")


def _hold_ran_out(request: Booking, now: datetime) -> bool:
    # The schedule already treats such a request as gone; `expire_holds` records it later.
    return request.hold_until is not None and request.hold_until <= now


def _last_actor(session: Session, booking_id: int) -> str | None:
    return session.scalar(
        select(BookingChange.actor)
        .where(BookingChange.booking_id == booking_id)
        .order_by(BookingChange.id.desc())
        .limit(1)
    )


def _alternatives(session: Session, facts: Facts, declined: Booking) -> tuple[datetime, ...]:
    """The free starts nearest the declined time (same course and 指名), earliest first."""
    zone = _zone(session, facts)
    day = declined.starts_at.astimezone(zone).date()
    first_day = max(facts.now.astimezone(zone).date(), day - timedelta(days=NEAR_DAYS))
    last_day = day + timedelta(days=NEAR_DAYS)
    if last_day < first_day:
        return ()
    try:
        starts = booking.free_starts(
            session,
            clinic_id=declined.clinic_id,
            course_id=declined.course_id,
            first_day=first_day,
            last_day=last_day,
            now=facts.now,
            staff_id=_nominated(declined),
        )
    except DomainError:
        return ()  # a course or staff member gone since: decline without offers
    others = [start for start in starts if not declined.starts_at <= start < declined.ends_at]
    nearest = sorted(others, key=lambda start: abs(start - declined.starts_at))
    return tuple(sorted(nearest[:MAX_ALTERNATIVES]))


def _nominated(item: Booking) -> int | None:
    return item.staff_id if item.nominated else None


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise Invalid(f"not a moment: {text!r}", field="starts_at") from error
    if moment.tzinfo is None:
        raise Invalid("starts_at needs a timezone", field="starts_at")
    return moment


def _day(session: Session, facts: Facts, day: date) -> list[dict[str, Any]]:
    zone = _zone(session, facts)
    first = datetime.combine(day, time(), tzinfo=zone)
    rows = session.scalars(
        _listing()
        .where(
            Booking.clinic_id == facts.clinic.id,
            Booking.starts_at >= first,
            Booking.starts_at < first + timedelta(days=1),
            Booking.status.in_(LISTED),
            or_(Booking.status != BookingStatus.REQUESTED, _holding(facts.now)),
        )
        .limit(MAX_DAY_BOOKINGS)
    )
    return [_booking(item, zone) for item in rows]


def _pending(session: Session, facts: Facts) -> dict[str, Any]:
    clinic = _clinic(session, facts)
    zone = ZoneInfo(clinic.timezone)
    pending = (
        Booking.clinic_id == facts.clinic.id,
        Booking.status == BookingStatus.REQUESTED,
        _holding(facts.now),
    )
    total = session.scalar(select(func.count(Booking.id)).where(*pending)) or 0
    rows = session.scalars(_listing().where(*pending).limit(MAX_CARDS))
    requests = [
        {
            "booking": _booking(item, zone),
            "rows": [list(row) for row in notify.booking_rows(clinic, item)],
        }
        for item in rows
    ]
    return {"kind": "pending", "requests": requests, "total": total}


def _listing() -> Select[Booking]:
    return (
        select(Booking)
        .options(
            selectinload(Booking.patient), selectinload(Booking.course), selectinload(Booking.staff)
        )
        .order_by(Booking.starts_at, Booking.id)
    )


def _holding(now: datetime) -> ColumnElement[bool]:
    return or_(Booking.hold_until.is_(None), Booking.hold_until > now)


def _answered(session: Session, facts: Facts, done: Booking, **extra: object) -> dict[str, Any]:
    patient = done.patient
    return {
        "booking": _booking(done, _zone(session, facts)),
        "by": _staff_name(session, facts.actor),
        "patient_on_line": bool(patient.line_user_id and patient.line_reachable),
        **extra,
    }


def _booking(item: Booking, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": item.id,
        "start": item.starts_at.astimezone(zone).isoformat(),
        "patient": item.patient.name,
        "course": item.course.name,
        "staff": item.staff.name if item.staff else None,
        "status": item.status.value,
        "awaiting": item.awaiting.value if item.awaiting else None,
    }


def _refusal(
    session: Session, facts: Facts, args: Mapping[str, Any], error: DomainError
) -> dict[str, Any]:
    data: dict[str, Any] = {"code": error.code, "message": error.message}
    data |= {key: _plain(value) for key, value in error.context.items()}
    if "booking_id" in args:
        data["booking_id"] = args["booking_id"]
        found = session.get(Booking, int(str(args["booking_id"])))
        if found is not None and found.clinic_id == facts.clinic.id:
            data["booking"] = _booking(found, _zone(session, facts))
    # Named here, not only from facts.staff: that lists practitioners, and reception
    # staff answer requests too.
    data["handled_by_name"] = _staff_name(session, data.get("handled_by"))
    return data


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def _staff_name(session: Session, actor: object) -> str | None:
    if not isinstance(actor, str) or not actor.startswith("staff:"):
        return None
    staff_id = actor.removeprefix("staff:")
    member = session.get(Staff, int(staff_id)) if staff_id.isdigit() else None
    return member.name if member else None


def _clinic(session: Session, facts: Facts) -> Clinic:
    clinic = session.get(Clinic, facts.clinic.id)
    assert clinic is not None
    return clinic


def _zone(session: Session, facts: Facts) -> ZoneInfo:
    return ZoneInfo(_clinic(session, facts).timezone)


PERFORMERS: dict[str, Performer] = {
    name: _performer(name, body)
    for name, body in {
        "redeem_staff_code": _redeem_staff_code,
        "redeem_group_code": _redeem_group_code,
        "approve": _approve,
        "decline": _decline,
        "next_slots": _next_slots,
        "propose": _propose,
        "agenda": _agenda,
    }.items()
}
