"""What becomes of a booking (completed, cancelled, no-show, declined, expired, still ahead)
and what the patient does next."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from backend.models import Awaiting, BookingStatus, Outcome, Party, Source
from backend.seed import journeys, timing
from backend.seed.clinic import ClinicPlan
from backend.seed.drafts import BookingDraft, PatientDraft, VisitDraft
from backend.seed.journeys import Journey
from backend.seed.setup import CourseSpec

S = BookingStatus
HOLD = timedelta(hours=24)  # the clinic's request_hold_minutes (the model default, 1440)
CANCEL_DEADLINE = timedelta(hours=3)  # the clinic's cancel_deadline_minutes (180)
CANCEL_REASONS = (
    "仕事の都合",
    "急な残業のため",
    "子どもの発熱のため",
    "家族の用事",
    "急用のため",
    "天候不良のため",
    "予定を間違えていた",
)
DECLINE_REASON = "ご希望の時間は満員のため、別の日時をご案内"
CHANNEL_ACTORS = {Source.LINE: "patient:line", Source.PHONE: "patient:phone"}
CHANNEL_ACTORS[Source.WEB] = "patient:web"


def staff_actor(staff_id: int) -> str:
    """The actor name of a staff member in booking history."""
    return f"staff:{staff_id}"


def reception(plan: ClinicPlan) -> str:
    """The actor name of the front desk (the receptionist)."""
    desk = next(staff_id for staff_id, spec in plan.staff.items() if not spec.treats)
    return staff_actor(desk)


def actor_for(source: Source, plan: ClinicPlan) -> str:
    """Who made a booking that came in through `source`."""
    return CHANNEL_ACTORS.get(source) or reception(plan)


def channel(rng: random.Random, patient: PatientDraft, *, first: bool) -> Source:
    """How the patient asks for a booking: new ones phone or use the web form, regulars LINE."""
    on_line = patient.line_user_id is not None and patient.line_reachable
    sources = (Source.PHONE, Source.WEB, Source.LINE, Source.STAFF)
    weights = (35, 30, 25 if on_line else 0, 10) if first else (30, 10, 60 if on_line else 0, 0)
    return rng.choices(sources, weights)[0]


def settle(
    rng: random.Random,
    booking: BookingDraft,
    course: CourseSpec,
    *,
    plan: ClinicPlan,
    now: datetime,
    first: bool,
) -> None:
    """Decide the booking's status and the moments it changed, as seen at `now`."""
    if booking.source != Source.STAFF:
        booking.confirmed_at = timing.answered_at(
            rng, made=booking.created_at, starts_at=booking.starts_at, zone=plan.zone
        )
        booking.confirmed_by = reception(plan)
    ends_at = booking.starts_at + timedelta(minutes=course.minutes)
    if ends_at <= now:
        _past(rng, booking, ends_at, plan=plan, now=now, first=first)
    elif booking.starts_at >= now:
        _ahead(rng, booking, plan=plan, now=now)


def _past(
    rng: random.Random,
    booking: BookingDraft,
    ends_at: datetime,
    *,
    plan: ClinicPlan,
    now: datetime,
    first: bool,
) -> None:
    request = booking.source != Source.STAFF
    roll = rng.random()
    cancel = 0.085 if first else 0.07
    no_show = 0.03 if first else 0.018
    if request and roll < 0.005:
        _finish(booking, S.DECLINED, booking.confirmed_at, booking.confirmed_by, DECLINE_REASON)
        booking.confirmed_at = None
    elif request and roll < 0.008:
        booking.hold_until = min(booking.created_at + HOLD, booking.starts_at)
        _finish(booking, S.EXPIRED, booking.hold_until, "system")
        booking.confirmed_at = None
    elif roll < 0.008 + cancel:
        when = timing.cancelled_at(rng, made=booking.created_at, starts_at=booking.starts_at)
        _cancel(rng, booking, when, plan)
    elif roll < 0.008 + cancel + no_show:
        noticed = min(booking.starts_at + timedelta(minutes=30), now)
        _finish(booking, S.NO_SHOW, noticed, reception(plan))
    else:
        done = min(ends_at + timedelta(minutes=rng.randint(1, 8)), now)
        by = staff_actor(booking.staff_id) if booking.staff_id else reception(plan)
        _finish(booking, S.COMPLETED, done, by)


def _ahead(rng: random.Random, booking: BookingDraft, *, plan: ClinicPlan, now: datetime) -> None:
    answered = booking.confirmed_at
    if answered is not None and answered > now:
        booking.status = S.REQUESTED
        booking.awaiting = Awaiting.STAFF
        booking.hold_until = min(booking.created_at + HOLD, booking.starts_at)
        booking.confirmed_at = booking.confirmed_by = None
    elif rng.random() < 0.03 and booking.created_at < now:
        when = timing.between(rng, booking.created_at + timing.MINUTE, now)
        booking.status = S.CONFIRMED
        _cancel(rng, booking, when, plan)


def _finish(
    booking: BookingDraft,
    status: BookingStatus,
    at: datetime | None,
    by: str | None,
    reason: str | None = None,
) -> None:
    assert at is not None
    booking.status = status
    booking.finished_at = at
    booking.finished_by = by
    booking.reason = reason


def _cancel(rng: random.Random, booking: BookingDraft, when: datetime, plan: ClinicPlan) -> None:
    """Cancelled by the patient on LINE or the phone line, or entered by the desk when the
    patient phoned after the deadline."""
    if booking.confirmed_at is not None and booking.confirmed_at > when:
        booking.confirmed_at = booking.confirmed_by = None  # withdrawn before staff answered
    late = booking.starts_at - when < CANCEL_DEADLINE
    by_desk = late or rng.random() < 0.1
    self_service = CHANNEL_ACTORS.get(booking.source, CHANNEL_ACTORS[Source.PHONE])
    actor = reception(plan) if by_desk else self_service
    _finish(booking, S.CANCELLED, when, actor, rng.choice(CANCEL_REASONS))
    booking.cancelled_by = Party.STAFF if by_desk else Party.PATIENT


def rebooking(
    rng: random.Random, journey: Journey, booking: BookingDraft, day: date
) -> tuple[date, datetime, datetime | None] | None:
    """After a booking that did not happen: the day wanted instead, the earliest moment
    the new booking can be made, and when it is made for a prompt rebooking; or None."""
    assert booking.finished_at is not None
    attached = journey.ticket or journey.profile == journeys.Profile.REGULAR
    if booking.status == S.NO_SHOW:
        if rng.random() >= (0.85 if attached else 0.6):
            return None
        later = booking.starts_at + timedelta(hours=2)
        return day + timedelta(days=rng.randint(2, 7)), later, None
    keep = 0.7 if journey.first_visit else 0.97 if attached else 0.88
    if rng.random() >= keep:
        return None
    made = booking.finished_at + timedelta(minutes=rng.randint(2, 30))
    gap = rng.randint(1, 3) if journey.insurance else rng.randint(1, 6)
    return day + timedelta(days=gap), made, made


def drop(journey: Journey, today: date) -> None:
    """The patient stops coming: the current run ends as 中止."""
    journey.closing = Outcome.DISCONTINUED
    journey.remaining = 0
    if journey.last_day is not None:
        journeys.close_run(journey, journey.last_day, today)


def after_visit(
    rng: random.Random,
    journey: Journey,
    visit: VisitDraft,
    day: date,
    staff_id: int | None,
    *,
    plan: ClinicPlan,
    today: date,
) -> date | None:
    """Advance the journey past a completed visit; return the day of the next wish, if any."""
    journey.last_visit, journey.last_day = visit, day
    journey.visits += 1
    if journey.first_visit and journey.patient.arrival is not None:
        journey.patient.first_visit_on = day
        staff = plan.staff.get(staff_id) if staff_id is not None else None
        journeys.decide_profile(rng, journey, staff, day)
    journey.first_visit = False
    if journey.will_nominate and journey.nominee is None and staff_id is not None:
        journey.nominee = staff_id
    if journey.course == "first":
        journey.course = "insurance"
    journey.run_visits += 1
    journey.remaining -= 1
    if journey.remaining > 0:
        days = journeys.interval(rng, journey, plan.course(journey.course).revisit_days)
        return day + timedelta(days=days)
    journeys.close_run(journey, day, today)
    return journeys.next_run(rng, journey, day)


def counter_share(journey: Journey) -> float:
    """How likely the next booking is made at the desk before the patient leaves (次回予約)."""
    if journey.ticket or (journey.insurance and journey.run_visits <= 8):
        return 0.75
    return 0.5
