"""Effects of the staff conversations: redeeming link codes, answering requests, the agenda.

Each performer calls the domain inside a savepoint, so a refusal leaves nothing half done,
and answers with JSON-friendly data; the caller commits. A request is answered only while
it waits for staff, checked under the clinic's schedule lock: of two staff tapping at once,
the second finds the request answered and is told by whom.

The agenda's queries are in staff_agenda_effects, what the performers share in
staff_common; this module gathers the performers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking, calls, notify, staff_links
from backend.conversation import words
from backend.conversation.model import Facts
from backend.dialogue import staff_agenda_effects
from backend.dialogue import staff_common as common
from backend.dialogue.runner import Performer
from backend.errors import DomainError, IllegalTransition, Invalid, NotFound, SlotUnavailable
from backend.models import Awaiting, Booking, BookingChange, BookingStatus, CallLog, Staff

MAX_SLOTS = 6  # quick replies staff pick a proposal from
SLOT_DAYS = 14  # how far after the requested day to look for them
MAX_ALTERNATIVES = 3  # times offered to a declined patient
NEAR_DAYS = 7  # around the declined day


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
    zone = common.zone(session, facts)
    offered = [start.astimezone(zone).isoformat() for start in alternatives]
    return _answered(session, facts, done, reason=reason, alternatives=offered)


def _next_slots(session: Session, facts: Facts, args: Mapping[str, Any]) -> dict[str, Any]:
    request = _waiting(session, facts, args["booking_id"])
    zone = common.zone(session, facts)
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
        "booking": common.booking_data(request, zone),
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


def _waiting(session: Session, facts: Facts, booking_id: object) -> Booking:
    """The request, under the schedule lock, if it still waits for staff; otherwise refuse,
    naming its status and who answered it."""
    common.require_staff(facts)
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
    zone = common.zone(session, facts)
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


def _call_done(session: Session, facts: Facts, args: Mapping[str, Any]) -> dict[str, Any]:
    common.require_staff(facts)
    clinic = common.clinic(session, facts)
    call_id = int(args["call_id"])
    first = calls.follow_up(session, clinic_id=clinic.id, call_id=call_id, now=facts.now)
    call = session.get(CallLog, call_id)
    assert call is not None
    assert call.followed_up_at is not None
    number = words.phone(call.from_number) if call.from_number else "番号非通知"
    if not first:
        at = words.moment(call.followed_up_at.astimezone(common.zone(session, facts)))
        return {"already": True, "at": at, "number": number}
    return {"number": number, "by": common.staff_name(session, facts.actor)}


def _answered(session: Session, facts: Facts, done: Booking, **extra: object) -> dict[str, Any]:
    patient = done.patient
    return {
        "booking": common.booking_data(done, common.zone(session, facts)),
        "by": common.staff_name(session, facts.actor),
        "patient_on_line": bool(patient.line_user_id and patient.line_reachable),
        **extra,
    }


PERFORMERS: dict[str, Performer] = {
    name: common.performer(name, body)
    for name, body in {
        "redeem_staff_code": _redeem_staff_code,
        "redeem_group_code": _redeem_group_code,
        "approve": _approve,
        "decline": _decline,
        "next_slots": _next_slots,
        "propose": _propose,
        "call_done": _call_done,
    }.items()
} | staff_agenda_effects.PERFORMERS
