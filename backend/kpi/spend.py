"""Ad spend (広告費) per media and month: setting it, and each active media's spend next to
the new patients it brought, month by month, with the cost per new patient (新患獲得単価).

A media's new patients in a month are counted as `by_media` counts them for that month
alone: patients with a visit in the month whose first day (in the ledger or on the カルテ)
falls in it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Invalid, NotFound
from backend.kpi import calendar, ledger
from backend.kpi.report import yen
from backend.models import Media, MediaSpend

MAX_YEN = 2_000_000_000  # the column is a 32-bit integer; no clinic spends ¥2 billion a month
MONTHS_AHEAD = 1  # spend may be entered for next month (a contract already signed)


@dataclass(frozen=True)
class SpendMonth:
    """One media's month: spend entered (None: nothing entered), new patients, and
    cost_per_new_yen = spend_yen / new_patients (None without spend or new patients)."""

    month: date
    spend_yen: int | None
    new_patients: int
    cost_per_new_yen: int | None


@dataclass(frozen=True)
class SpendRow:
    """One active media and its months, oldest first."""

    media_id: int
    name: str
    months: tuple[SpendMonth, ...]


def set_spend(
    session: Session, *, clinic_id: int, media_id: int, month: date, amount_yen: int, now: datetime
) -> MediaSpend:
    """Set what a media cost in `month`'s month, replacing what was entered before; Invalid
    for a negative amount or a month after next month (in the clinic's zone)."""
    media = session.get(Media, media_id)
    if media is None or media.clinic_id != clinic_id:
        raise NotFound(f"media {media_id} not found", field="media_id")
    if not 0 <= amount_yen <= MAX_YEN:
        raise Invalid(f"the amount must be 0 to {MAX_YEN} yen", field="amount_yen")
    month = calendar.first_of(month)
    today = calendar.local_day(now, calendar.clinic_zone(session, clinic_id))
    if month > calendar.add_months(calendar.first_of(today), MONTHS_AHEAD):
        raise Invalid("spend can be set up to next month", field="month")
    row = session.scalars(
        select(MediaSpend).where(MediaSpend.media_id == media_id, MediaSpend.month_on == month)
    ).first()
    if row is None:
        row = MediaSpend(clinic_id=clinic_id, media_id=media_id, month_on=month, amount_yen=0)
        session.add(row)
    row.amount_yen = amount_yen
    session.flush()
    return row


def spend_table(session: Session, *, clinic_id: int, until: date, months: int) -> list[SpendRow]:
    """Every active media in display order, with its spend and new patients in each of the
    `months` months ending with `until`'s."""
    span = calendar.months_until(until, months)
    media = session.execute(
        select(Media.id, Media.name)
        .where(Media.clinic_id == clinic_id, Media.active)
        .order_by(Media.sort_order, Media.id)
    ).all()
    spent = _spent(session, clinic_id, span)
    new = _new_patients(session, clinic_id, span)
    return [
        SpendRow(
            media_id=media_id,
            name=name,
            months=tuple(
                _month(spent.get((media_id, month)), new[media_id, month], month) for month in span
            ),
        )
        for media_id, name in media
    ]


def _month(spend_yen: int | None, new_patients: int, month: date) -> SpendMonth:
    cost = None if spend_yen is None else yen(spend_yen, new_patients)
    return SpendMonth(month, spend_yen, new_patients, cost)


def _spent(session: Session, clinic_id: int, span: list[date]) -> dict[tuple[int, date], int]:
    rows = session.execute(
        select(MediaSpend.media_id, MediaSpend.month_on, MediaSpend.amount_yen).where(
            MediaSpend.clinic_id == clinic_id, MediaSpend.month_on.in_(span)
        )
    )
    return {(media_id, month): amount for media_id, month, amount in rows}


def _new_patients(
    session: Session, clinic_id: int, span: list[date]
) -> Counter[tuple[int | None, date]]:
    """New patients by (media, month): present in the month, their first day in it."""
    zone = calendar.clinic_zone(session, clinic_id)
    people = ledger.people(session, clinic_id=clinic_id)
    edges = calendar.month_edges(span, zone)
    present = ledger.presence(session, clinic_id=clinic_id, edges=edges, people=people)
    firsts = ledger.first_visits(session, clinic_id=clinic_id, people=people, zone=zone)
    found: Counter[tuple[int | None, date]] = Counter()
    for index, month in enumerate(span):
        for person in present.get(index, set()):
            if calendar.first_of(firsts[person].day) == month:
                found[people.media_id.get(person), month] += 1
    return found
