"""The ad-spend page (広告費): each active media's spend over the last twelve months next to
the new patients it brought, and a form to set one media's spend for one month.

The form's text is read here (a month as YYYY-MM, yen as digits, full-width or with commas
and 円 accepted); the rules (amount, how far ahead) are the domain's, in
`backend.kpi.spend`, and come back as Japanese messages next to the field they concern.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from backend.errors import DomainError
from backend.kpi import calendar, spend
from backend.models import Clinic
from backend.web import form_text, today

MONTHS = 12
YEARS = (2000, 2999)  # "0000-01" is no date at all
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
MESSAGES = {
    "media_id": "媒体を選んでください。",
    "month": "年月は「2026-11」のように入力してください。",
    "amount_yen": "広告費は0円以上の整数（円）で入力してください。",
}


@dataclass(frozen=True)
class Entry:
    """The form as typed, kept to show again with its errors."""

    media_id: str = ""
    month: str = ""
    yen: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    """One media's month as text: spend, new patients, cost per new patient."""

    spend: str
    new_patients: str
    cost: str


@dataclass(frozen=True)
class Row:
    media_id: int
    name: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Page:
    """What the ad-spend page shows."""

    months: tuple[str, ...]  # newest first, e.g. 2026年11月 … 2025年12月
    month_keys: tuple[str, ...]  # the same months as YYYY-MM
    rows: tuple[Row, ...]
    media: tuple[tuple[int, str], ...]  # the form's choices
    latest_month: str  # YYYY-MM: the form's month when nothing was typed
    last_month_allowed: str  # YYYY-MM: next month


def page(session: Session, *, clinic: Clinic, now: datetime) -> Page:
    """The last twelve months of spend for every active media."""
    day = today.local_day(clinic, now)
    rows = spend.spend_table(session, clinic_id=clinic.id, until=day, months=MONTHS)
    months = calendar.months_until(day, MONTHS)
    # Newest first: the month staff enter is the first column, not scrolled out of sight.
    return Page(
        months=tuple(f"{month.year}年{month.month}月" for month in reversed(months)),
        month_keys=tuple(_key(month) for month in reversed(months)),
        rows=tuple(
            Row(row.media_id, row.name, tuple(_cell(item) for item in reversed(row.months)))
            for row in rows
        ),
        media=tuple((row.media_id, row.name) for row in rows),
        latest_month=_key(months[-1]),  # months_until is oldest first
        last_month_allowed=_key(calendar.add_months(months[-1], spend.MONTHS_AHEAD)),
    )


def save(session: Session, *, clinic: Clinic, entry: Entry, now: datetime) -> Entry:
    """Set the spend the form asks for; the entry comes back with errors when it was refused
    (and nothing was changed)."""
    media_id, month, amount = (
        _media_id(entry.media_id),
        _month(entry.month),
        form_text.yen(entry.yen),
    )
    if media_id is None or month is None or amount is None:
        typed = (("media_id", media_id), ("month", month), ("amount_yen", amount))
        return replace(
            entry, errors={name: MESSAGES[name] for name, value in typed if value is None}
        )
    try:
        spend.set_spend(
            session, clinic_id=clinic.id, media_id=media_id, month=month, amount_yen=amount, now=now
        )
    except DomainError as refused:
        return replace(entry, errors={_field(refused): _message(refused, clinic, now)})
    return entry


def _field(refused: DomainError) -> str:
    name = str(refused.context.get("field", "amount_yen"))
    return name if name in MESSAGES else "amount_yen"


def _message(refused: DomainError, clinic: Clinic, now: datetime) -> str:
    name = _field(refused)
    if name == "month":
        last = calendar.add_months(today.local_day(clinic, now), spend.MONTHS_AHEAD)
        return f"広告費を入力できるのは来月（{last.year}年{last.month}月）までです。"
    if name == "amount_yen" and refused.code == "invalid":
        return f"広告費は0円から{spend.MAX_YEN:,}円までの整数で入力してください。"
    return MESSAGES[name]


def _media_id(text: str) -> int | None:
    # Nine digits at most: an id past 64 bits would overflow the database driver.
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _month(text: str) -> date | None:
    found = _MONTH.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if found is None or not (YEARS[0] <= int(found.group(1)) <= YEARS[1]):
        return None
    if not 1 <= int(found.group(2)) <= 12:
        return None
    return date(int(found.group(1)), int(found.group(2)), 1)


def _cell(item: spend.SpendMonth) -> Cell:
    return Cell(
        spend="—" if item.spend_yen is None else f"{item.spend_yen:,}円",
        new_patients=f"{item.new_patients:,}人",
        cost="—" if item.cost_per_new_yen is None else f"{item.cost_per_new_yen:,}円",
    )


def _key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"
