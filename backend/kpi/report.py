"""What the KPI functions return: frozen dataclasses of plain values, for the dashboard and CLI.

Money is integer yen (averages rounded to the yen); rates are floats from 0 to 1, or None
when their denominator is 0. Months are the first day of the month in the clinic's zone.
The definitions are in docs/kpi.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The guides seed 004 gives; the dashboard marks a month that misses one.
FREQUENCY_GUIDE = 4.0  # 来院頻度: at least 4 visits per patient a month
CANCELLATION_GUIDE = 0.10  # キャンセル率: at most 10 % of bookings made
YEN_PER_10_MINUTES_GUIDE = 1_000  # 10分単価: at least ¥1,000 per 10 hands-on minutes
SECOND_VISIT_DAYS = 14  # 2回目リピート: the second visit within 14 days of the first


@dataclass(frozen=True)
class MonthReport:
    """One clinic's month.

    month: first day of the month. complete: the month has ended as of `now`.
    visits (来院数): completed visits; patients (患者数): distinct patients with a visit;
    frequency (来院頻度) = visits / patients.
    carried_over (持ち越し) + new_patients (新患) + returning (再新患) = patients.
    second_visits: new patients back within 14 days of their first visit;
    second_visit_rate (2回目リピート率) = second_visits / new_patients;
    second_visit_final: every new patient's 14 days have passed as of `now`.
    bookings_made (予約数): bookings created this month that were not declined or expired;
    cancellations (キャンセル数): cancelled this month; cancellation_rate =
    cancellations / bookings_made; no_shows: no-shows of bookings starting this month.
    revenue_yen (売上) = insurance_yen (保険: co-pay + claim) + self_pay_yen (自費, tickets
    included); ticket_yen: the 回数券 part of self_pay_yen; self_pay_share (自費率) =
    self_pay_yen / revenue_yen; average_yen (平均単価) = revenue_yen / visits.
    hands_on_minutes: staff minutes of visits with hands-on time; yen_per_10_minutes
    (10分単価) = revenue of those visits / hands_on_minutes * 10 (machine-only visits out).
    next_booked_visits: visits whose patient left with a later booking; next_booking_rate
    (次回予約率) = next_booked_visits / visits.
    female_patients + male_patients + other_patients (other or not recorded) = patients.
    """

    clinic_id: int
    month: date
    complete: bool
    visits: int
    patients: int
    frequency: float | None
    carried_over: int
    new_patients: int
    returning: int
    second_visits: int
    second_visit_rate: float | None
    second_visit_final: bool
    bookings_made: int
    cancellations: int
    cancellation_rate: float | None
    no_shows: int
    revenue_yen: int
    insurance_yen: int
    self_pay_yen: int
    ticket_yen: int
    self_pay_share: float | None
    average_yen: int | None
    hands_on_minutes: int
    yen_per_10_minutes: int | None
    next_booked_visits: int
    next_booking_rate: float | None
    female_patients: int
    male_patients: int
    other_patients: int


@dataclass(frozen=True)
class DayReport:
    """One day's flows: bookings made, cancellations, no-shows and visits."""

    day: date
    bookings_made: int
    cancellations: int
    no_shows: int
    visits: int


@dataclass(frozen=True)
class BacklogDay:
    """予約残数 at the end of `day`: active bookings starting after that day end and within
    7, 14, 21 and 28 days of it."""

    day: date
    within_1_week: int
    within_2_weeks: int
    within_3_weeks: int
    within_4_weeks: int


@dataclass(frozen=True)
class Repeat:
    """New patients of a group and how many came back within 14 days (2回目リピート率);
    final: every one of them has had their 14 days as of `now`."""

    new_patients: int
    second_visits: int
    second_visit_rate: float | None
    final: bool


@dataclass(frozen=True)
class MediaRow:
    """One media (来院経路) over the months asked for. media_id None: not recorded.

    patients: distinct patients with a visit; spend_yen: ad spend entered for those months;
    cost_per_new_yen (新患獲得単価) = spend_yen / repeat.new_patients.
    """

    media_id: int | None
    name: str
    patients: int
    spend_yen: int
    cost_per_new_yen: int | None
    repeat: Repeat


@dataclass(frozen=True)
class StaffRow:
    """One staff member over the months asked for. staff_id None: visits without one.

    visits and revenue_yen of the visits they gave; nominated_visits (指名数): visits from
    bookings where the patient chose them; repeat: new patients whose first visit they gave.
    """

    staff_id: int | None
    name: str
    visits: int
    revenue_yen: int
    nominated_visits: int
    repeat: Repeat


@dataclass(frozen=True)
class CourseRow:
    """One course over the months asked for; repeat: new patients whose first visit was it."""

    course_id: int | None
    name: str
    visits: int
    revenue_yen: int
    repeat: Repeat


@dataclass(frozen=True)
class Heatmap:
    """Visits of `months` months ending with `month` by weekday and hour in the clinic's zone.

    counts[weekday][hour]: weekday 0 is Monday, hour 0-23 is when the visit started.
    """

    month: date
    months: int
    counts: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class PhoneReport:
    """The month's calls (call_log).

    calls: every call; answered: taken by the attendant (all but missed);
    requests: turned into a booking request; transferred: put through to staff;
    callbacks: the caller asked to be called back; missed: never answered;
    abandoned: hung up before finishing. to_follow_up = missed + abandoned + callbacks;
    recovered: of those, marked followed up by staff or the caller booked within 7 days;
    recovery_rate = recovered / to_follow_up; answer_rate = answered / calls;
    request_rate = requests / answered.
    """

    month: date
    calls: int
    answered: int
    requests: int
    transferred: int
    callbacks: int
    missed: int
    abandoned: int
    to_follow_up: int
    recovered: int
    recovery_rate: float | None
    answer_rate: float | None
    request_rate: float | None


@dataclass(frozen=True)
class LtvPoint:
    """Revenue per patient within `months` months of the first visit, over the patients whose
    first visit is at least that long before the end of the period (the cohort)."""

    months: int
    patients: int
    yen_per_patient: int | None


@dataclass(frozen=True)
class LtvRow:
    """LTV of one media: patients acquired (first visit up to the end), their revenue to
    date, revenue per patient to date, and the LTV curve at fixed horizons."""

    media_id: int | None
    name: str
    patients: int
    revenue_yen: int
    yen_per_patient: int | None
    points: tuple[LtvPoint, ...]


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return part / whole if whole else None


def yen(amount: float, count: int) -> int | None:
    """amount / count rounded to the yen, or None when count is 0."""
    return round(amount / count) if count else None
