"""Tests for backend.conversation.when: Japanese date/time phrases → When."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from backend.conversation.when import When, parse_when

TOKYO = ZoneInfo("Asia/Tokyo")
# Thursday 2026-11-26, 10:00 in the clinic.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)

Expected = dict[str, str | None]


def _when(
    date_from: str, date_to: str, time_from: str | None, time_to: str | None, kind: str
) -> Expected:
    """The to_json() dict a phrase must produce."""
    return {
        "date_from": date_from,
        "date_to": date_to,
        "time_from": time_from,
        "time_to": time_to,
        "kind": kind,
    }


CASES: list[tuple[str, Expected | None]] = [
    # relative days
    ("今日", _when("2026-11-26", "2026-11-26", None, None, "day")),
    ("本日", _when("2026-11-26", "2026-11-26", None, None, "day")),
    ("きょう", _when("2026-11-26", "2026-11-26", None, None, "day")),
    ("明日", _when("2026-11-27", "2026-11-27", None, None, "day")),
    ("あした", _when("2026-11-27", "2026-11-27", None, None, "day")),
    ("あすでお願いします", _when("2026-11-27", "2026-11-27", None, None, "day")),
    ("明後日", _when("2026-11-28", "2026-11-28", None, None, "day")),
    ("あさって", _when("2026-11-28", "2026-11-28", None, None, "day")),
    ("しあさって", _when("2026-11-29", "2026-11-29", None, None, "day")),
    # weekdays
    ("月曜", _when("2026-11-30", "2026-11-30", None, None, "day")),
    ("月曜日", _when("2026-11-30", "2026-11-30", None, None, "day")),
    ("(月)", _when("2026-11-30", "2026-11-30", None, None, "day")),
    ("来週月", _when("2026-11-30", "2026-11-30", None, None, "day")),
    ("火曜", _when("2026-12-01", "2026-12-01", None, None, "day")),
    ("日曜日", _when("2026-11-29", "2026-11-29", None, None, "day")),
    ("今週の水曜", _when("2026-11-25", "2026-11-25", None, None, "day")),
    ("来週火曜", _when("2026-12-01", "2026-12-01", None, None, "day")),
    ("再来週の金曜日", _when("2026-12-11", "2026-12-11", None, None, "day")),
    ("木曜", _when("2026-12-03", "2026-12-03", None, None, "day")),
    ("木曜の15時", _when("2026-11-26", "2026-11-26", "15:00", None, "exact")),
    ("木曜の9時", _when("2026-12-03", "2026-12-03", "09:00", None, "exact")),
    ("金曜の10時", _when("2026-11-27", "2026-11-27", "10:00", None, "exact")),
    # weeks and months as ranges
    ("今週", _when("2026-11-26", "2026-11-29", None, None, "days")),
    ("来週", _when("2026-11-30", "2026-12-06", None, None, "days")),
    ("再来週", _when("2026-12-07", "2026-12-13", None, None, "days")),
    ("今週末", _when("2026-11-28", "2026-11-29", None, None, "days")),
    ("週末", _when("2026-11-28", "2026-11-29", None, None, "days")),
    ("来週末", _when("2026-12-05", "2026-12-06", None, None, "days")),
    ("来週の土日", _when("2026-12-05", "2026-12-06", None, None, "days")),
    ("12月", _when("2026-12-01", "2026-12-31", None, None, "days")),
    ("来月", _when("2026-12-01", "2026-12-31", None, None, "days")),
    ("今月", _when("2026-11-26", "2026-11-30", None, None, "days")),
    ("月曜から水曜", _when("2026-11-30", "2026-12-02", None, None, "days")),
    ("12/3〜12/5", _when("2026-12-03", "2026-12-05", None, None, "days")),
    # calendar dates, with month and year rollover
    ("12/3", _when("2026-12-03", "2026-12-03", None, None, "day")),
    ("12月3日", _when("2026-12-03", "2026-12-03", None, None, "day")),
    ("3日", _when("2026-12-03", "2026-12-03", None, None, "day")),
    ("2026/12/3", _when("2026-12-03", "2026-12-03", None, None, "day")),
    ("2026年12月3日", _when("2026-12-03", "2026-12-03", None, None, "day")),
    ("2026-12-03", _when("2026-12-03", "2026-12-03", None, None, "day")),
    ("1/5", _when("2027-01-05", "2027-01-05", None, None, "day")),
    ("11/25", _when("2027-11-25", "2027-11-25", None, None, "day")),
    ("11/26", _when("2026-11-26", "2026-11-26", None, None, "day")),
    ("26日", _when("2026-11-26", "2026-11-26", None, None, "day")),
    ("25日", _when("2026-12-25", "2026-12-25", None, None, "day")),
    ("30日", _when("2026-11-30", "2026-11-30", None, None, "day")),
    ("来月3日", _when("2026-12-03", "2026-12-03", None, None, "day")),
    ("来年1月5日", _when("2027-01-05", "2027-01-05", None, None, "day")),
    ("12/3(木)", _when("2026-12-03", "2026-12-03", None, None, "day")),
    # clock times; without a date: today if still ahead of 10:00, else tomorrow
    ("10時", _when("2026-11-27", "2026-11-27", "10:00", None, "exact")),
    ("11時", _when("2026-11-26", "2026-11-26", "11:00", None, "exact")),
    ("10時半", _when("2026-11-26", "2026-11-26", "10:30", None, "exact")),
    ("10時30分", _when("2026-11-26", "2026-11-26", "10:30", None, "exact")),
    ("10:30", _when("2026-11-26", "2026-11-26", "10:30", None, "exact")),
    ("午前10時", _when("2026-11-27", "2026-11-27", "10:00", None, "exact")),
    ("午後3時", _when("2026-11-26", "2026-11-26", "15:00", None, "exact")),
    ("夜7時", _when("2026-11-26", "2026-11-26", "19:00", None, "exact")),
    ("夜19時", _when("2026-11-26", "2026-11-26", "19:00", None, "exact")),
    ("朝9時", _when("2026-11-27", "2026-11-27", "09:00", None, "exact")),
    ("15時", _when("2026-11-26", "2026-11-26", "15:00", None, "exact")),
    ("3時", _when("2026-11-26", "2026-11-26", "15:00", None, "exact")),
    ("7時", _when("2026-11-26", "2026-11-26", "19:00", None, "exact")),
    ("8時", _when("2026-11-27", "2026-11-27", "08:00", None, "exact")),
    ("正午", _when("2026-11-26", "2026-11-26", "12:00", None, "exact")),
    ("午後12時", _when("2026-11-26", "2026-11-26", "12:00", None, "exact")),
    ("9時", _when("2026-11-27", "2026-11-27", "09:00", None, "exact")),
    ("今日の9時", _when("2026-11-26", "2026-11-26", "09:00", None, "exact")),
    # windows
    ("午前", _when("2026-11-26", "2026-11-26", None, "12:00", "window")),
    ("午前中", _when("2026-11-26", "2026-11-26", None, "12:00", "window")),
    ("午後", _when("2026-11-26", "2026-11-26", "12:00", None, "window")),
    ("朝", _when("2026-11-26", "2026-11-26", "09:00", "12:00", "window")),
    ("昼", _when("2026-11-26", "2026-11-26", "11:00", "14:00", "window")),
    ("昼過ぎ", _when("2026-11-26", "2026-11-26", "12:00", "15:00", "window")),
    ("夕方", _when("2026-11-26", "2026-11-26", "16:00", "19:00", "window")),
    ("夜", _when("2026-11-26", "2026-11-26", "18:00", None, "window")),
    ("夕方以降", _when("2026-11-26", "2026-11-26", "16:00", None, "window")),
    ("15時以降", _when("2026-11-26", "2026-11-26", "15:00", None, "window")),
    ("15時から", _when("2026-11-26", "2026-11-26", "15:00", None, "window")),
    ("15時まで", _when("2026-11-26", "2026-11-26", None, "15:00", "window")),
    ("15時から17時", _when("2026-11-26", "2026-11-26", "15:00", "17:00", "window")),
    ("15時〜17時まで", _when("2026-11-26", "2026-11-26", "15:00", "17:00", "window")),
    ("10〜12時", _when("2026-11-26", "2026-11-26", "10:00", "12:00", "window")),
    ("15:00-17:00", _when("2026-11-26", "2026-11-26", "15:00", "17:00", "window")),
    ("午後3時から5時", _when("2026-11-26", "2026-11-26", "15:00", "17:00", "window")),
    ("午後8時から9時", _when("2026-11-26", "2026-11-26", "20:00", "21:00", "window")),
    # full-width digits, kanji numerals, spaces, polite wrapping
    ("１２／３　１０時", _when("2026-12-03", "2026-12-03", "10:00", None, "exact")),
    ("十時", _when("2026-11-27", "2026-11-27", "10:00", None, "exact")),
    ("十時三十分", _when("2026-11-26", "2026-11-26", "10:30", None, "exact")),
    ("三時半", _when("2026-11-26", "2026-11-26", "15:30", None, "exact")),
    ("十二月三日", _when("2026-12-03", "2026-12-03", None, None, "day")),
    ("二十日", _when("2026-12-20", "2026-12-20", None, None, "day")),
    ("二〇二六年十二月三日", _when("2026-12-03", "2026-12-03", None, None, "day")),
    ("12月 3日 10時 30分", _when("2026-12-03", "2026-12-03", "10:30", None, "exact")),
    ("明日の午後空いてますか", _when("2026-11-27", "2026-11-27", "12:00", None, "window")),
    ("来週火曜の15時半でお願いします", _when("2026-12-01", "2026-12-01", "15:30", None, "exact")),
    ("12/3 10時", _when("2026-12-03", "2026-12-03", "10:00", None, "exact")),
    ("あさっての夕方", _when("2026-11-28", "2026-11-28", "16:00", "19:00", "window")),
    ("金曜の10時って空いてる？", _when("2026-11-27", "2026-11-27", "10:00", None, "exact")),
    ("今夜8時は空いてますか", _when("2026-11-26", "2026-11-26", "20:00", None, "exact")),
    ("来週の午後", _when("2026-11-30", "2026-12-06", "12:00", None, "window")),
    ("今週末の10時", _when("2026-11-28", "2026-11-29", "10:00", None, "exact")),
    ("今日は無理なので明日の夕方", _when("2026-11-27", "2026-11-27", "16:00", "19:00", "window")),
    ("3000円で明日10時", _when("2026-11-27", "2026-11-27", "10:00", None, "exact")),
    # impossible dates and times
    ("2/30", None),
    ("25時", None),
    ("二十五時", None),
    ("午後13時", None),
    ("13月", None),
    ("12月32日", None),
    ("0/3", None),
    ("10時60分", None),
    ("17時から15時", None),
    ("31日", None),
    ("2/29", None),
    # numbers that are not dates or times
    ("3000円", None),
    ("¥3,000です", None),
    ("090-1234-5678", None),
    ("03-1234-5678", None),
    ("30分くらいかかりますか", None),
    ("1時間くらいかかりますか", None),
    ("3ヶ月", None),
    ("3日間", None),
    ("2回目", None),
    ("5人", None),
    ("週3日", None),
    ("〒150-0001", None),
    ("一時的に痛い", None),
    ("先週の月曜から痛い", None),
    # no date or time at all
    ("腰が痛いです", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text for text, _ in CASES])
def test_parse_when(text: str, expected: Expected | None) -> None:
    result = parse_when(text, now=NOW)
    assert (result.to_json() if result else None) == expected


SUNDAY = datetime(2026, 11, 29, 10, 0, tzinfo=TOKYO)
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=TOKYO)
EVENING = datetime(2026, 11, 26, 20, 0, tzinfo=TOKYO)
LATE_EVENING = datetime(2026, 11, 26, 21, 30, tzinfo=TOKYO)
MONTH_END = datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)
YEAR_END = datetime(2026, 12, 31, 10, 0, tzinfo=TOKYO)
JANUARY_END = datetime(2027, 1, 31, 10, 0, tzinfo=TOKYO)
LEAP_JANUARY_END = datetime(2028, 1, 31, 10, 0, tzinfo=TOKYO)

OTHER_NOW_CASES: list[tuple[datetime, str, Expected | None]] = [
    # Sunday: this weekend and this week are today only.
    (SUNDAY, "今週末", _when("2026-11-29", "2026-11-29", None, None, "day")),
    (SUNDAY, "今週", _when("2026-11-29", "2026-11-29", None, None, "day")),
    (SUNDAY, "来週末", _when("2026-12-05", "2026-12-06", None, None, "days")),
    (SUNDAY, "日曜", _when("2026-12-06", "2026-12-06", None, None, "day")),
    (SUNDAY, "日曜の15時", _when("2026-11-29", "2026-11-29", "15:00", None, "exact")),
    # Saturday: this weekend is today and tomorrow.
    (SATURDAY, "週末", _when("2026-11-28", "2026-11-29", None, None, "days")),
    # Evening: windows that are over mean tomorrow, but 今日 is never rolled.
    (EVENING, "夜", _when("2026-11-26", "2026-11-26", "18:00", None, "window")),
    (LATE_EVENING, "夕方", _when("2026-11-27", "2026-11-27", "16:00", "19:00", "window")),
    (LATE_EVENING, "午後", _when("2026-11-27", "2026-11-27", "12:00", None, "window")),
    (LATE_EVENING, "15時以降", _when("2026-11-27", "2026-11-27", "15:00", None, "window")),
    (LATE_EVENING, "22時", _when("2026-11-26", "2026-11-26", "22:00", None, "exact")),
    (LATE_EVENING, "今日の夕方", _when("2026-11-26", "2026-11-26", "16:00", "19:00", "window")),
    # End of month: a past day of the month is next month's.
    (MONTH_END, "3日", _when("2026-12-03", "2026-12-03", None, None, "day")),
    (MONTH_END, "30日", _when("2026-11-30", "2026-11-30", None, None, "day")),
    (MONTH_END, "1日", _when("2026-12-01", "2026-12-01", None, None, "day")),
    # End of year: rolls into January of the next year.
    (YEAR_END, "3日", _when("2027-01-03", "2027-01-03", None, None, "day")),
    (YEAR_END, "12/31", _when("2026-12-31", "2026-12-31", None, None, "day")),
    (YEAR_END, "今週", _when("2026-12-31", "2027-01-03", None, None, "days")),
    (YEAR_END, "来月", _when("2027-01-01", "2027-01-31", None, None, "days")),
    # February 2027 has no 30th and no 29th; February 2028 has a 29th.
    (JANUARY_END, "30日", None),
    (JANUARY_END, "2/29", None),
    (JANUARY_END, "来月", _when("2027-02-01", "2027-02-28", None, None, "days")),
    (LEAP_JANUARY_END, "2/29", _when("2028-02-29", "2028-02-29", None, None, "day")),
]


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    OTHER_NOW_CASES,
    ids=[f"{now:%Y-%m-%d %H:%M} {text}" for now, text, _ in OTHER_NOW_CASES],
)
def test_parse_when_relative_to_other_nows(
    now: datetime, text: str, expected: Expected | None
) -> None:
    result = parse_when(text, now=now)
    assert (result.to_json() if result else None) == expected


def test_parse_when_returns_typed_values() -> None:
    result = parse_when("明日の15時から17時", now=NOW)
    assert result == When(
        date_from=date(2026, 11, 27),
        date_to=date(2026, 11, 27),
        time_from=time(15, 0),
        time_to=time(17, 0),
        kind="window",
    )


def test_parse_when_rejects_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when("明日", now=datetime(2026, 11, 26, 10, 0))  # noqa: DTZ001
