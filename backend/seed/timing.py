"""When things happen around a booking: made, answered, cancelled, finished."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)
# Staff answer LINE and web requests during opening hours; a request made at night waits.
ANSWER_FROM, ANSWER_UNTIL = 9, 20


def moment(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local day's minute."""
    local = datetime.combine(day, time(), tzinfo=zone) + timedelta(minutes=minute)
    return local.astimezone(UTC)


def at_hour(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local day's full hour."""
    return moment(day, hour * 60, zone)


def made_at(
    rng: random.Random, *, starts_at: datetime, not_before: datetime, zone: ZoneInfo
) -> datetime:
    """When a patient made a booking: mostly a day or two ahead, in waking hours."""
    latest = starts_at - timedelta(hours=2)
    span = min(latest - not_before, timedelta(days=7))
    if span <= timedelta(0):
        return max(not_before, starts_at - timedelta(minutes=30))
    made = latest - span * math.pow(rng.random(), 1.5)
    local = made.astimezone(zone)
    if local.hour < 7:
        # Nobody books at 4 a.m.: move it to the evening before, if that is allowed.
        made -= timedelta(hours=local.hour + rng.randint(2, 5))
    return max(made, not_before).replace(second=0, microsecond=0)


def answered_at(
    rng: random.Random, *, made: datetime, starts_at: datetime, zone: ZoneInfo
) -> datetime:
    """When staff confirmed (or declined) a request."""
    local = made.astimezone(zone)
    if ANSWER_FROM <= local.hour < ANSWER_UNTIL:
        answer = made + timedelta(minutes=rng.randint(5, 90))
    else:
        morning = local.date() + timedelta(days=0 if local.hour < ANSWER_FROM else 1)
        answer = at_hour(morning, ANSWER_FROM, zone) + timedelta(minutes=rng.randint(0, 40))
    return max(made + MINUTE, min(answer, starts_at - timedelta(minutes=10)))


def cancelled_at(rng: random.Random, *, made: datetime, starts_at: datetime) -> datetime:
    """When a patient cancelled: mostly the day before or the same day."""
    room = starts_at - made - timedelta(minutes=10)
    ahead = min(room, timedelta(hours=rng.choice((1, 2, 4, 12, 20, 24, 30, 48, 72))))
    return max(made + MINUTE, starts_at - ahead).replace(second=0, microsecond=0)


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A minute between two instants."""
    span = max(end - start, timedelta(0))
    return (start + span * rng.random()).replace(second=0, microsecond=0)
