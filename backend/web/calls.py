"""The dashboard's phone numbers (電話): twelve months of calls as a chart, and what the calls
not called back this month may have cost, valued at the clinic's LTV per new patient."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from backend.kpi.report import LtvRow, PhoneReport
from backend.web import charts

# Seed 003: ¥4,000 a visit × 8 visits a month × 18 months, "about ¥500,000".
DEFAULT_LTV_YEN = 500_000
# The LTV horizons trusted for a lost patient's worth, longest first: a shorter one would
# value a patient at a few visits.
LTV_HORIZONS = (24, 12)
LTV_MIN_PATIENTS = 5  # fewer patients than this at a horizon is too thin to stand for all


@dataclass(frozen=True)
class Estimate:
    """The LTV per new patient used for lost calls, and where it comes from, in Japanese."""

    yen: int
    from_history: bool
    basis: str


@dataclass(frozen=True)
class Lost:
    """This month's calls to return that were not recovered, and their estimated worth."""

    calls: int
    ltv: Estimate
    yen: int


def ltv_estimate(rows: Sequence[LtvRow]) -> Estimate:
    """Revenue per patient at the longest trusted horizon with enough patients over every
    media, or seed 003's ¥500,000 when the clinic's history is too short."""
    for months in LTV_HORIZONS:
        points = [point for row in rows for point in row.points if point.months == months]
        patients = sum(point.patients for point in points)
        if patients >= LTV_MIN_PATIENTS:
            total = sum((point.yen_per_patient or 0) * point.patients for point in points)
            value = round(total / patients)
            basis = (
                f"LTVは当院の実績です（初回来院から{months}か月間の売上の患者1人あたり平均、"
                f"{patients:,}人）。"
            )
            return Estimate(value, True, basis)
    return Estimate(
        DEFAULT_LTV_YEN,
        False,
        "当院の来院実績がまだ少ないため、LTVは目安の50万円"
        "（単価4,000円 × 月8回 × 18か月）で計算しています。",
    )


def lost(month: PhoneReport, rows: Sequence[LtvRow]) -> Lost:
    """Calls to return (missed, abandoned, callback asked) not recovered, × the LTV."""
    calls = month.to_follow_up - month.recovered
    ltv = ltv_estimate(rows)
    return Lost(calls=calls, ltv=ltv, yen=calls * ltv.yen)


def chart(months: Sequence[PhoneReport], *, span: str) -> charts.Chart:
    """Calls, answered, requests, calls to return and those recovered, month by month."""

    def series(name: str, pick: Callable[[PhoneReport], int]) -> charts.Series:
        return charts.Series(name, tuple(pick(month) for month in months))

    return charts.line_chart(
        key="phone",
        title="電話（着信・応答・予約依頼・要折り返し・回収済み）" + span,
        labels=[f"{month.month.month}月" for month in months],
        series=[
            series("着信", lambda m: m.calls),
            series("応答", lambda m: m.answered),
            series("予約依頼", lambda m: m.requests),
            series("要折り返し", lambda m: m.to_follow_up),
            series("回収済み", lambda m: m.recovered),
        ],
        unit="件",
    )
