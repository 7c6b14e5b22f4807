"""Finishing the カルテ once history is known: dates, tags, next-visit likelihood, the last
conversation, and the duplicate records that staff later merged."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from backend.models import BookingStatus, Likelihood
from backend.seed import notes, timing
from backend.seed.drafts import BookingDraft, PatientDraft
from backend.seed.history import History
from backend.seed.journeys import Journey

MERGED_SHARE = 0.015


@dataclass
class Seen:
    """What the bookings tell about one patient."""

    first_made: datetime | None = None
    last_visit: datetime | None = None
    courses: frozenset[str] = frozenset()


def _seen(bookings: list[BookingDraft]) -> dict[int, Seen]:
    seen: dict[int, Seen] = {}
    for booking in bookings:
        entry = seen.setdefault(booking.patient, Seen())
        if entry.first_made is None or booking.created_at < entry.first_made:
            entry.first_made = booking.created_at
        if booking.status == BookingStatus.COMPLETED and booking.finished_at is not None:
            if entry.last_visit is None or booking.finished_at > entry.last_visit:
                entry.last_visit = booking.finished_at
            entry.courses |= {booking.course}
    return seen


def finish(rng: random.Random, history: History, patients: list[PatientDraft]) -> None:
    """Fill in what each カルテ says at `now`."""
    journeys = {journey.patient.index: journey for journey in history.journeys}
    seen = _seen(history.bookings)
    for draft in patients:
        entry = seen.get(draft.index, Seen())
        journey = journeys.get(draft.index)
        _dates(draft, entry, history)
        _tag(rng, draft, entry, journey)
        draft.likelihood = _likelihood(rng, journey, history.today)
        if draft.known_since is not None or entry.last_visit is not None:
            draft.last_conversation = notes.conversation(rng) if rng.random() < 0.7 else None


def _dates(draft: PatientDraft, entry: Seen, history: History) -> None:
    if draft.known_since is not None:
        draft.first_visit_on = draft.known_since
        draft.created_at = history.clinic_opened
    elif entry.first_made is not None:
        draft.created_at = entry.first_made
    else:
        assert draft.arrival is not None
        draft.created_at = min(timing.at_hour(draft.arrival, 10, history.plan.zone), history.now)
    draft.updated_at = max(draft.created_at, entry.last_visit or draft.created_at)


def _tag(rng: random.Random, draft: PatientDraft, entry: Seen, journey: Journey | None) -> None:
    """Segments for campaigns from courses and life, never from health (that is 施術録 data)."""
    if journey is not None and journey.ticket:
        draft.tags.add("回数券")
    if "pelvis" in entry.courses and notes.is_young_mother(draft.family):
        draft.tags.add("子育て中")
    if "acupuncture" in entry.courses:
        draft.tags.add("鍼灸")
    if "massage" in entry.courses and rng.random() < 0.5:
        draft.tags.add("もみほぐし")
    if notes.plays_sport(draft.hobbies) and rng.random() < 0.4:
        draft.tags.add("スポーツ")


def _likelihood(rng: random.Random, journey: Journey | None, today: date) -> Likelihood:
    """次回来院の可能性 as staff would judge it now."""
    if journey is None:
        return Likelihood.LOW if rng.random() < 0.7 else Likelihood.UNKNOWN
    if journey.booked_ahead:
        return Likelihood.HIGH
    if journey.last_day is None:
        return Likelihood.UNKNOWN
    recent = (today - journey.last_day).days <= 30
    if journey.remaining > 0 and recent:
        return Likelihood.HIGH if journey.nominee is not None else Likelihood.MEDIUM
    return Likelihood.MEDIUM if recent else Likelihood.LOW


def duplicates(
    rng: random.Random, patients: list[PatientDraft], now: datetime
) -> list[PatientDraft]:
    """Records made twice (a caller's name as heard on the phone) and merged by staff."""
    eligible = [
        draft
        for draft in patients
        if draft.first_visit_on is not None
        and draft.created_at is not None
        and draft.created_at < now - timedelta(days=3)
    ]
    count = min(len(eligible), max(1, round(len(patients) * MERGED_SHARE)))
    made: list[PatientDraft] = []
    for original in sorted(rng.sample(eligible, count), key=lambda draft: draft.index):
        assert original.created_at is not None
        created = timing.between(rng, original.created_at, now - timedelta(days=2))
        merged = min(created + timedelta(days=rng.randint(1, 14)), now)
        made.append(
            replace(
                original,
                index=len(patients) + len(made),
                name=original.kana,  # heard, not seen: staff write the reading
                name_verified=False,
                email=None,
                line_user_id=None,
                notes=notes.Notes(None, None, None, None),
                referrer=None,
                referrer_index=None,
                merged_into=original.index,
                created_at=created,
                updated_at=merged,
                first_visit_on=None,
                last_conversation=None,
                likelihood=Likelihood.UNKNOWN,
                tags=set(),
                consents={},
            )
        )
    return made
