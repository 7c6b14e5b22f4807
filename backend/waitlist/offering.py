"""Freed starts offered to the waitlist, and the first patient to accept taking one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking, messaging
from backend.api import deps
from backend.booking import availability
from backend.conversation import words
from backend.conversation.model import Choice, Say
from backend.errors import IllegalTransition, NotFound, SlotUnavailable
from backend.models import (
    Booking,
    Channel,
    Clinic,
    Course,
    MessageKind,
    OutboxMessage,
    Patient,
    Source,
    WaitlistEntry,
    WaitlistOffer,
    WaitStatus,
)
from backend.waitlist import freeing, joining

TAKE = "この時間で予約する"


def offer_freed(store: deps.Store, *, now: datetime) -> int:
    """The worker step: offer every freed start not offered yet, each in its own
    transaction (one failure holds back no other); return how many offers were made."""
    with store.reader() as session:
        candidates = freeing.freed(session, now=now)
    made = 0
    for one in candidates:
        with store.transaction() as session:
            found = offer(session, booking_id=one.booking_id, starts_at=one.starts_at, now=now)
            made += found is not None
    return made


def offer(
    session: Session, *, booking_id: int, now: datetime, starts_at: datetime | None = None
) -> WaitlistOffer | None:
    """Offer a start the booking gave up (by default its own, when it was cancelled,
    declined or expired; `starts_at` for one it moved away from) to everyone waiting for
    that day whose course fits there; None when it was offered before or fits nobody."""
    # Row-locking the freed booking makes a second worker wait here, then see the offer.
    freed_booking = session.scalars(
        select(Booking).where(Booking.id == booking_id).with_for_update()
    ).one_or_none()
    if freed_booking is None:
        return None
    start = starts_at or freed_booking.starts_at
    if start == freed_booking.starts_at and freed_booking.status not in freeing.FREED:
        return None  # the booking still holds it
    if start <= now or freeing.offered(session, freeing.Freed(booking_id, start)):
        return None
    clinic = availability.get_clinic(session, freed_booking.clinic_id)
    zone = ZoneInfo(clinic.timezone)
    day = start.astimezone(zone).date()
    waiting = joining.waiting(session, clinic.id, day)
    waiters = [
        entry
        for entry in joining.without_booked(session, waiting, day=day, zone=zone, now=now)
        if _on_line(session, entry) and _fits(session, entry, start, now)
    ]
    if not waiters:
        return None
    made = WaitlistOffer(
        clinic_id=clinic.id,
        starts_at=start,
        course_id=freed_booking.course_id,
        staff_id=freed_booking.staff_id,
        freed_by_booking_id=freed_booking.id,
        created_at=now,
    )
    session.add(made)
    session.flush()
    for entry in waiters:
        _send_offer(session, clinic, made, entry, now)
    return made


def _on_line(session: Session, entry: WaitlistEntry) -> bool:
    # The offer is taken with a LINE button; an SMS or email could not carry it.
    patient = session.get(Patient, entry.patient_id)
    if patient is None:
        return False
    found = messaging.routes(patient, kind=MessageKind.TRANSACTIONAL)
    return bool(found) and found[0].channel == Channel.LINE


def _fits(session: Session, entry: WaitlistEntry, start: datetime, now: datetime) -> bool:
    """Whether the waiter's course (and nominee) is free at `start`, as the engine sees it."""
    starts = booking.free_starts(
        session,
        clinic_id=entry.clinic_id,
        course_id=entry.course_id,
        first_day=entry.wanted_on,
        last_day=entry.wanted_on,
        now=now,
        staff_id=entry.staff_id,
    )
    return start in starts


def _send_offer(
    session: Session, clinic: Clinic, made: WaitlistOffer, entry: WaitlistEntry, now: datetime
) -> None:
    when = words.moment(made.starts_at.astimezone(ZoneInfo(clinic.timezone)))
    course = session.get(Course, entry.course_id)
    patient = session.get(Patient, entry.patient_id)
    assert course is not None
    assert patient is not None
    text = (
        f"キャンセル待ちのお知らせです。\n{when}〜 {course.name} に空きが出ました。\n"
        f"ご希望の場合は「{TAKE}」を押してください。先着順のため、埋まり次第締め切らせていただきます。"
    )
    messaging.send(
        session,
        clinic=clinic,
        patient=patient,
        replies=(Say(text, (Choice(TAKE, f"waitoffer:{made.id}"),)),),
        purpose="waitlist:offer",
        idempotency_key=f"{_offer_key(made)}{entry.patient_id}",
        now=now,
    )


def _offer_key(made: WaitlistOffer) -> str:
    return f"waitlist:offer:{made.id}:"


# Accepting


def accept(
    session: Session, *, offer_id: int, patient_id: int, now: datetime, actor: str
) -> Booking:
    """The patient takes the offered slot: a booking request (confirmed at once if the
    clinic auto-approves) for their own course and nominee. The first to accept wins."""
    found = session.get(WaitlistOffer, offer_id)
    if found is None:
        raise NotFound("no such offer", field="offer_id")
    # Everyone accepting waits at the clinic's lock, then reads the offer as it is now.
    booking.lock_schedule(session, found.clinic_id)
    session.refresh(found)
    if found.closed_at is not None:
        raise IllegalTransition(
            "the offered slot was taken", reason=_taker(session, found, patient_id)
        )
    if found.starts_at <= now:
        raise SlotUnavailable("the offered slot has passed", reason="past")
    entry = _entry_for(session, found, patient_id)
    made = booking.request(
        session,
        clinic_id=found.clinic_id,
        patient_id=patient_id,
        course_id=entry.course_id,
        starts_at=found.starts_at,
        now=now,
        source=Source.LINE,
        actor=actor,
        staff_id=entry.staff_id,
    )
    found.taken_by_booking_id, found.closed_at = made.id, now
    entry.status, entry.updated_at = WaitStatus.BOOKED, now
    _tell_taken(session, found, winner=patient_id, now=now)
    session.flush()
    return made


def _taker(session: Session, found: WaitlistOffer, patient_id: int) -> str:
    """Whose the slot became: "yours" for a second tap of the winner, else "taken"."""
    taken = session.get(Booking, found.taken_by_booking_id) if found.taken_by_booking_id else None
    return "yours" if taken is not None and taken.patient_id == patient_id else "taken"


def _entry_for(session: Session, found: WaitlistOffer, patient_id: int) -> WaitlistEntry:
    clinic = availability.get_clinic(session, found.clinic_id)
    day = found.starts_at.astimezone(ZoneInfo(clinic.timezone)).date()
    found_entries = joining.waiting(session, clinic.id, day, patient_id=patient_id)
    if not found_entries:
        raise NotFound("the patient is not waiting for that day", field="offer_id")
    return found_entries[0]


def _tell_taken(session: Session, found: WaitlistOffer, *, winner: int, now: datetime) -> None:
    """Tell everyone else who was offered the slot that it has gone."""
    offered = session.scalars(
        select(OutboxMessage.patient_id).where(
            OutboxMessage.idempotency_key.startswith(_offer_key(found), autoescape=True),
            OutboxMessage.patient_id != winner,
        )
    )
    clinic = availability.get_clinic(session, found.clinic_id)
    when = words.moment(found.starts_at.astimezone(ZoneInfo(clinic.timezone)))
    text = (
        f"申し訳ありません、先ほどご案内した{when}〜の枠は先に埋まりました。\n"
        "キャンセル待ちはそのまま承っております。また空きが出ましたらお知らせします。"
    )
    for patient_id in sorted({patient_id for patient_id in offered if patient_id}):
        patient = session.get(Patient, patient_id)
        if patient is None:
            continue
        messaging.send(
            session,
            clinic=clinic,
            patient=patient,
            replies=(Say(text),),
            purpose="waitlist:taken",
            idempotency_key=f"waitlist:taken:{found.id}:{patient_id}",
            now=now,
        )
