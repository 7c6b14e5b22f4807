"""KPIs by day and hour: daily flows, the weekday × hour heat map, and 予約残数 at day ends."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.errors import Invalid
from backend.kpi import calendar, ledger
from backend.kpi.report import BacklogDay, DayReport, Heatmap
from backend.models import Booking, Visit

BACKLOG_WEEKS = (1, 2, 3, 4)
MAX_DAYS = 366


def daily(session: Session, *, clinic_id: int, month: date) -> list[DayReport]:
    """Bookings made, cancellations, no-shows and visits on each day of `month`'s month."""
    zone = calendar.clinic_zone(session, clinic_id)
    days = _days_of(calendar.first_of(month))
    edges = [calendar.midnight(day, zone) for day in days] + [calendar.day_end(days[-1], zone)]
    flows = ledger.booking_flows(session, clinic_id=clinic_id, edges=edges)
    visits = ledger.totals(session, clinic_id=clinic_id, edges=edges)
    return [
        DayReport(
            day=day,
            bookings_made=flows["made"][index],
            cancellations=flows["cancelled"][index],
            no_shows=flows["no_shows"][index],
            visits=visits.get(index, ledger.Totals()).visits,
        )
        for index, day in enumerate(days)
    ]


def _days_of(month: date) -> list[date]:
    count = (calendar.add_months(month, 1) - month).days
    return [month + timedelta(days=offset) for offset in range(count)]


def heatmap(session: Session, *, clinic_id: int, month: date, months: int = 1) -> Heatmap:
    """Visits by local weekday (0 = Monday) and starting hour, over `months` months ending
    with `month`'s."""
    zone = calendar.clinic_zone(session, clinic_id)
    span = calendar.months_until(month, months)
    edges = calendar.month_edges(span, zone)
    counts = [[0] * 24 for _ in range(7)]
    moments = session.scalars(
        select(Visit.visited_at).where(
            Visit.clinic_id == clinic_id, calendar.within(Visit.visited_at, edges)
        )
    )
    for moment in moments:
        local = moment.astimezone(zone)
        counts[local.weekday()][local.hour] += 1
    return Heatmap(month=span[-1], months=months, counts=tuple(tuple(row) for row in counts))


def backlog_trend(
    session: Session, *, clinic_id: int, days: int, until: date, now: datetime
) -> list[BacklogDay]:
    """予約残数 at the end of each of `days` days ending with `until`, oldest first: bookings
    held at that moment (made by then, not cancelled by then, never declined or expired)
    starting within 1, 2, 3 and 4 weeks after it. Bookings are where they stand now: one
    moved since counts at its new time. Days after `now`'s day are left out; `now`'s own
    day is counted as it stands."""
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"ask for 1 to {MAX_DAYS} days", field="days")
    zone = calendar.clinic_zone(session, clinic_id)
    until = min(until, calendar.local_day(now, zone))
    span = [until - timedelta(days=back) for back in range(days - 1, -1, -1)]
    held = _held(session, clinic_id, calendar.day_end(span[0], zone), span[-1], zone)
    return [_backlog(day, held, zone) for day in span]


def _held(
    session: Session, clinic_id: int, first_end: datetime, last: date, zone: ZoneInfo
) -> list[tuple[datetime, datetime, datetime | None]]:
    last_end = calendar.day_end(last, zone)
    horizon = calendar.day_end(last + timedelta(weeks=BACKLOG_WEEKS[-1]), zone)
    rows = session.execute(
        select(Booking.created_at, Booking.starts_at, Booking.cancelled_at).where(
            Booking.clinic_id == clinic_id,
            Booking.status.not_in(ledger.NEVER_BOOKED),
            Booking.created_at < last_end,
            Booking.starts_at >= first_end,
            Booking.starts_at < horizon,
            or_(Booking.cancelled_at.is_(None), Booking.cancelled_at >= first_end),
        )
    )
    return [(created, starts, cancelled) for created, starts, cancelled in rows]


def _backlog(
    day: date, held: list[tuple[datetime, datetime, datetime | None]], zone: ZoneInfo
) -> BacklogDay:
    end = calendar.day_end(day, zone)
    limits = [calendar.day_end(day + timedelta(weeks=weeks), zone) for weeks in BACKLOG_WEEKS]
    counts = [0] * len(limits)
    for created, starts, cancelled in held:
        if created < end <= starts and (cancelled is None or cancelled >= end):
            for index, limit in enumerate(limits):
                counts[index] += starts < limit
    return BacklogDay(day, *counts)
