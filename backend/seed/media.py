"""来院経路 (acquisition media): how many new patients each brings, what it costs, how they stay.

The numbers tell the story seed 000 describes: a coupon portal brings many cheap new patients
who mostly come once, 紹介 brings fewer who stay longest, flyers work in campaign months.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

Spend = Callable[[date, float, random.Random], int]


def _free(_month: date, _progress: float, _rng: random.Random) -> int:
    return 0


def _homepage(month: date, _progress: float, _rng: random.Random) -> int:
    # Hosting and SEO every month; listing ads in the spring and autumn campaigns.
    return 11_000 + (33_000 if month.month in (3, 4, 9, 10) else 0)


def _portal(_month: date, _progress: float, _rng: random.Random) -> int:
    return 33_000


def _flyer(month: date, _progress: float, rng: random.Random) -> int:
    # Posting is paid per campaign: new-life season, autumn, and the year-end rush.
    if month.month not in (3, 4, 9, 10, 12):
        return 0
    return rng.choice((44_000, 55_000, 66_000))


def _instagram(_month: date, _progress: float, rng: random.Random) -> int:
    return rng.choice((5_000, 8_000, 10_000, 15_000))


def _line_ads(_month: date, progress: float, rng: random.Random) -> int:
    # The owner tried LINE広告 only in the second half of the history.
    return 0 if progress < 0.5 else rng.choice((20_000, 30_000, 40_000))


@dataclass(frozen=True)
class MediaSpec:
    """One media: free new patients a month, yen per paid new patient, and how they stay.

    `churn` multiplies the chance a patient comes only once, `loyalty` the chance they
    become a regular; `self_pay_share` is how many start on a self-pay (coupon) course.
    """

    name: str
    organic: float
    cost_per_new: int | None
    churn: float
    loyalty: float
    self_pay_share: float
    spend: Spend = _free

    @property
    def paid(self) -> bool:
        """Whether the media costs money (and so has monthly MediaSpend rows)."""
        return self.cost_per_new is not None


MEDIA = (
    MediaSpec("ホームページ", 3.0, 6_000, 1.0, 1.0, 0.25, _homepage),
    MediaSpec("Googleマップ", 7.0, None, 1.0, 1.0, 0.15),
    MediaSpec("エキテン", 1.0, 6_000, 1.8, 0.55, 0.6, _portal),
    MediaSpec("チラシ", 0.5, 11_000, 1.1, 0.9, 0.2, _flyer),
    MediaSpec("紹介", 4.5, None, 0.45, 1.6, 0.2),
    MediaSpec("看板・通りがかり", 3.5, None, 0.9, 1.1, 0.1),
    MediaSpec("Instagram", 0.8, 5_000, 1.3, 0.8, 0.5, _instagram),
    MediaSpec("LINE広告", 0.0, 8_000, 1.5, 0.7, 0.4, _line_ads),
)

# Relative new-patient demand by calendar month: the cold and the year-end rush bring
# stiff shoulders and backs, spring brings new jobs and sports, August is holidays.
SEASON = (1.15, 1.05, 1.1, 1.1, 1.0, 0.95, 0.95, 0.8, 0.95, 1.0, 1.0, 1.15)


def months_between(first: date, last: date) -> list[date]:
    """The first day of every month from `first`'s month to `last`'s month."""
    months: list[date] = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def spend_table(months: list[date], rng: random.Random) -> dict[tuple[str, date], int]:
    """What each paid media cost in each month (zero months are left out)."""
    table: dict[tuple[str, date], int] = {}
    for index, month in enumerate(months):
        progress = index / max(len(months) - 1, 1)
        for spec in MEDIA:
            amount = spec.spend(month, progress, rng)
            if amount > 0:
                table[spec.name, month] = amount
    return table


def new_patient_weights(
    months: list[date], spend: dict[tuple[str, date], int]
) -> dict[date, dict[str, float]]:
    """Expected new patients per media per month: organic ones plus what the spend buys."""
    weights: dict[date, dict[str, float]] = {}
    for month in months:
        season = SEASON[month.month - 1]
        weights[month] = {
            spec.name: season * spec.organic + _bought(spec, spend.get((spec.name, month), 0))
            for spec in MEDIA
        }
    return weights


def _bought(spec: MediaSpec, amount: int) -> float:
    return amount / spec.cost_per_new if spec.cost_per_new else 0.0


def by_name(name: str) -> MediaSpec:
    """The spec of a media by its name."""
    return next(spec for spec in MEDIA if spec.name == name)
