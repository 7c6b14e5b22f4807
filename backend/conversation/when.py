"""Understand the Japanese date and time phrases patients type in LINE or say on the phone.

``parse_when("来週火曜の15時半でお願いします", now=now)`` turns free text into a
:class:`When`: the day or days the patient means and, when given, the time or
time window. The module is pure: it never reads the clock, ``now`` is passed in
(timezone-aware, already in the clinic's zone) and "today" is ``now.date()``.

Rules for ambiguous phrases:

* A bare hour from 1 to 7 without 午前/朝 is in the afternoon (3時 is 15:00):
  clinics are not open at 3 a.m. 8時 and later are read as written.
* 午前12時 and 午後12時 both mean noon (the latter is how people say it, and a
  clinic is not open at midnight); 午後13時, 25時, 10時60分 are impossible.
  昼/夕方/夜 + hour accept both styles people use (夜7時 and 夜19時).
* A time or window without a date means today if it is still ahead of ``now``,
  else tomorrow. "Ahead" means: an exact time later than now; a closed window
  that ends after now; an open-ended window (午後, 15時以降) before it starts or
  before :data:`OPEN_WINDOW_CLOSE`.
* A bare weekday (火曜, (火)) is the next such day counting from today. When it
  names today's weekday it means today only if a given time or window is still
  ahead; with no time, or a time already past, it means the same day next week.
  With 今週/来週/再来週 the weekday is taken from that week even if it is past.
* 今週 is today..Sunday, 来週 next Monday..Sunday, 週末/今週末 Saturday..Sunday of
  this week (today only on a Sunday), 来週末 next week's Saturday..Sunday.
* A month/day (12/3, 1/5) already past this year means next year; a day of the
  month (3日) already past this month means next month. A day the chosen month
  does not have (31日 in November) is impossible. 今月/来月/今年/来年 pin the
  month or year, and such a date is returned even if past. 2/29 in a year
  without one is impossible.
* Explicit dates and times are returned as written even when already past
  (今日の9時 at 10:00): callers decide what to do with the past.
* When a phrase names several dates (or several times) the most specific kind
  wins (calendar date over weekday or relative day over week range; a clock
  time over a window word) and, among equals, the last one wins, because
  patients correct themselves ("今日は無理なので明日").
* Two dates joined by から/〜 make one range (12/3〜12/5, 月曜から水曜); a bare
  weekday at the end moves a week on if needed (水曜から金曜 on a Thursday).
* A date range with an exact time (来週末の10時) stays ``kind="exact"``: the time
  applies to each day of the range.
* Durations (30分, 1時間, 3日間, 3ヶ月), counts (2回目, 5人, 週3日), prices,
  phone numbers, postal codes and past references (先週, 先月, 去年) are not
  dates or times and are ignored.
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, Generic, Literal, TypeVar

Kind = Literal["exact", "window", "day", "days"]

# Vague time-of-day words and the window each one means: (start, end), end
# exclusive, None for an open side. Tune the clinic's reading of these here.
WINDOWS: Final[dict[str, tuple[time | None, time | None]]] = {
    "午前": (None, time(12, 0)),
    "午後": (time(12, 0), None),
    "朝": (time(9, 0), time(12, 0)),
    "昼": (time(11, 0), time(14, 0)),
    "昼過ぎ": (time(12, 0), time(15, 0)),
    "夕方": (time(16, 0), time(19, 0)),
    "夜": (time(18, 0), None),
}

# An open-ended window (午後, 15時以降) counts as still ahead today until this
# time, so that 「午後空いてますか」 sent at 22:00 means tomorrow afternoon.
OPEN_WINDOW_CLOSE: Final = time(21, 0)

# Bare hours read as afternoon: 3時 is 15:00.
BARE_AFTERNOON_HOURS: Final = range(1, 8)


@dataclass(frozen=True)
class When:
    """The day(s) and time a patient means.

    ``kind`` is "exact" (a start time), "window" (a time window), "day" (one day,
    no time) or "days" (several days, no time). ``time_to`` is exclusive and is
    None for an exact time or an open-ended window; ``time_from`` is None for a
    window with only an end (午前, 15時まで).
    """

    date_from: date
    date_to: date
    time_from: time | None
    time_to: time | None
    kind: Kind

    def to_json(self) -> dict[str, str | None]:
        """Return ISO dates, "HH:MM" times and the kind."""
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "time_from": _hhmm(self.time_from),
            "time_to": _hhmm(self.time_to),
            "kind": self.kind,
        }


def parse_when(text: str, *, now: datetime) -> When | None:
    """Read the date/time expression in ``text`` relative to ``now``.

    Return None when there is none, or when it names an impossible date or time.
    See the module docstring for how ambiguous phrases are read. Raises
    ValueError when ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    normalized = _normalize(text)
    try:
        days, rest = _find_days(normalized, now.date())
        clock_hits, _ = _scan(rest, _CLOCK_RULES)
        clock = _best(clock_hits)
    except _ImpossibleError:
        return None
    if days is None and clock is None:
        return None
    return _resolve(days, clock, now)


# --- internal model -------------------------------------------------------------------


class _ImpossibleError(ValueError):
    """A date/time expression was found but names no real moment (2/30, 25時)."""


@dataclass(frozen=True)
class _Days:
    """The date part of a phrase: an inclusive range of days."""

    first: date
    last: date
    # A weekday without 今週/来週: it may shift by a week (see _resolve, _join_ranges).
    bare_weekday: bool = False


@dataclass(frozen=True)
class _Clock:
    """The time part of a phrase: an exact time, or a window with open sides as None."""

    start: time | None
    end: time | None
    exact: bool = False


_T = TypeVar("_T")
_Rule = tuple[re.Pattern[str], int, Callable[[re.Match[str]], _T]]


@dataclass(frozen=True)
class _Hit(Generic[_T]):
    """One date or time expression found in the text, with its rank and span."""

    rank: int
    start: int
    end: int
    value: _T


# Ranks: lower is more specific and wins over any later, vaguer expression.
_EXACT_DATE, _NAMED_DAY, _DAY_RANGE = 0, 1, 2
_CLOCK_TIME, _TIME_WORD = 0, 1

_ONE_WEEK: Final = timedelta(days=7)
_BLANK: Final = "\x00"


def _resolve(days: _Days | None, clock: _Clock | None, now: datetime) -> When:
    """Settle the day(s) that depend on whether the time is still ahead of ``now``."""
    ahead = clock is not None and _is_ahead(clock, now.time())
    if days is None:
        day = now.date() if ahead else now.date() + timedelta(days=1)
        days = _Days(day, day)
    elif days.bare_weekday and days.first == now.date() and not ahead:
        days = _Days(days.first + _ONE_WEEK, days.last + _ONE_WEEK)
    return _build(days, clock)


def _is_ahead(clock: _Clock, now: time) -> bool:
    """Whether some of ``clock`` is still to come today."""
    if clock.exact and clock.start is not None:
        return clock.start > now
    if clock.end is not None:
        return clock.end > now
    return now < max(clock.start or time(0, 0), OPEN_WINDOW_CLOSE)


def _build(days: _Days, clock: _Clock | None) -> When:
    """Assemble the public result and pick its kind."""
    if clock is None:
        kind: Kind = "day" if days.first == days.last else "days"
        return When(days.first, days.last, None, None, kind)
    kind = "exact" if clock.exact else "window"
    return When(days.first, days.last, clock.start, clock.end, kind)


def _hhmm(value: time | None) -> str | None:
    """Format a time as "HH:MM"."""
    return None if value is None else value.strftime("%H:%M")


# --- normalization --------------------------------------------------------------------

# Rewrites to the words the patterns know; compounds come before their parts.
_ALIASES: Final = (
    ("今朝", "今日朝"),
    ("今夜", "今日夜"),
    ("今晩", "今日夜"),
    ("明朝", "明日朝"),
    ("明晩", "明日夜"),
    ("正午", "12時"),
    ("午前中", "午前"),
    ("お昼", "昼"),
    ("昼すぎ", "昼過ぎ"),
    ("晩", "夜"),
)

_KANJI_DIGITS: Final = "〇一二三四五六七八九"
_KANJI_UNITS: Final = {"十": 10, "百": 100, "千": 1000}
# Only numerals right before a date/time unit, so 一番 or 一緒 stay words.
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十百千]+(?=[年月日時分])")
# Spaces inside one date or time (「12月 3日」「10時 30分」), never between two.
_SPACE_IN_NUMBER = re.compile(r"(?<=\d)\s+(?=[年月日時分半:/])|(?<=[年月時:/])\s+(?=\d)")

# Numbers that look like dates or times but are not (durations, frequencies,
# "一時的" = temporary) and references to the past, which are never bookings.
_NOT_A_WHEN = re.compile(
    r"\d+時(?:間|的|期|点)"
    r"|\d+日(?:間|目|後|前|中|分|以内|ほど|程度)"
    r"|週\d+日?"
    r"|先週(?:[\sの]*(?:[月火水木金土日]曜日?|末|土日))?"
    r"|先月(?:[\sの]*\d+日)?"
    r"|(?:去年|昨年)(?:[\sの]*\d+月(?:\d+日)?)?"
)


def _normalize(text: str) -> str:
    """Fold width, kanji numerals, aliases and spacing; blank non-date numbers."""
    text = unicodedata.normalize("NFKC", text)
    for alias, word in _ALIASES:
        text = text.replace(alias, word)
    text = _KANJI_NUMBER.sub(lambda m: str(_kanji_value(m.group())), text)
    text = _SPACE_IN_NUMBER.sub("", text)
    return _NOT_A_WHEN.sub(_blank, text)


def _kanji_value(numeral: str) -> int:
    """Value of a kanji numeral: 十二 → 12, 二十 → 20, 二〇二六 → 2026."""
    if not any(char in _KANJI_UNITS for char in numeral):
        return int("".join(str(_KANJI_DIGITS.index(char)) for char in numeral))
    total, digit = 0, 0
    for char in numeral:
        if char in _KANJI_UNITS:
            total += (digit or 1) * _KANJI_UNITS[char]
            digit = 0
        else:
            digit = _KANJI_DIGITS.index(char)
    return total + digit


def _blank(match: re.Match[str]) -> str:
    """Replace a consumed match, keeping positions of the rest of the text."""
    return _BLANK * len(match.group())


def _scan(text: str, rules: Iterable[_Rule[_T]]) -> tuple[list[_Hit[_T]], str]:
    """Convert every match of every rule, in text order, and blank them out of the text.

    Raises _ImpossibleError when any match is impossible.
    """
    hits: list[_Hit[_T]] = []
    for pattern, rank, convert in rules:
        hits += [_Hit(rank, m.start(), m.end(), convert(m)) for m in pattern.finditer(text)]
        text = pattern.sub(_blank, text)
    return sorted(hits, key=lambda hit: hit.start), text


def _best(hits: list[_Hit[_T]]) -> _T | None:
    """The most specific hit; among equals the last, as patients correct themselves."""
    if not hits:
        return None
    return min(hits, key=lambda hit: (hit.rank, -hit.start)).value


# --- dates ----------------------------------------------------------------------------

_RELATIVE_DAYS: Final = {
    "今日": 0,
    "本日": 0,
    "きょう": 0,
    "明日": 1,
    "あした": 1,
    "あす": 1,
    "明後日": 2,
    "あさって": 2,
    "しあさって": 3,
    "明明後日": 3,
}
_WEEK_OFFSETS: Final = {"今": 0, "来": 1, "再来": 2}
_MONTH_OFFSETS: Final = {"今月": 0, "来月": 1, "再来月": 2}
_YEAR_OFFSETS: Final = {"今年": 0, "来年": 1}
_WEEKDAYS: Final = "月火水木金土日"

_WEEK_PREFIX = r"(?:(?P<pre>今|再来|来)週[\sの、,]*)"
_YEAR_PREFIX = r"(?:(?P<year>今年|来年)[\sの]*)?"
_MONTH_PREFIX = r"(?:(?P<rel>今月|再来月|来月)[\sの]*)?"

_ISO_DATE = re.compile(r"(?<!\d)(?P<y>20\d\d)([/.-])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?![\d/-])")
_KANJI_DATE = re.compile(r"(?<!\d)(?P<y>20\d\d)年(?P<m>\d{1,2})月(?P<d>\d{1,2})日")
_SLASH_MONTH_DAY = re.compile(_YEAR_PREFIX + r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/])")
_KANJI_MONTH_DAY = re.compile(_YEAR_PREFIX + r"(?<![\d/])(?P<m>\d{1,2})月(?P<d>\d{1,2})日")
_DAY_OF_MONTH = re.compile(_MONTH_PREFIX + r"(?<![\d/])(?P<d>\d{1,2})日")
_RELATIVE = re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)))
_WEEKEND = re.compile(r"(?P<pre>今|再来|来)?週末")
_WEEKEND_DAYS = re.compile(_WEEK_PREFIX + r"?土日")
_WEEKDAY = re.compile(_WEEK_PREFIX + r"?(?P<wd>[月火水木金土日])曜日?")
_WEEKDAY_IN_PARENS = re.compile(_WEEK_PREFIX + r"?\((?P<wd>[月火水木金土日])\)")
# 「来週月」: a lone weekday kanji only right after a week, and not inside a
# word such as 来週の日程.
_WEEKDAY_AFTER_WEEK = re.compile(_WEEK_PREFIX + r"(?P<wd>[月火水木金土日])(?![\u3400-\u9fff])")
_WEEK = re.compile(r"(?P<pre>今|再来|来)週(?!末)")
# No より here: 「明日より明後日」 compares, it does not span.
_RANGE_JOINER = re.compile(r"[\sの]*(?:から|[~〜\-−–—ー])[\sの]*")
_MONTH = re.compile(_YEAR_PREFIX + r"(?<![\d/])(?P<m>\d{1,2})月(?!曜)|(?P<rel>今月|再来月|来月)")


def _checked_date(year: int, month: int, day: int) -> date:
    """The date, or _ImpossibleError for 2/30, 13月 and the like."""
    try:
        return date(year, month, day)
    except ValueError as error:
        raise _ImpossibleError(f"{year}-{month}-{day}") from error


def _single(day: date) -> _Days:
    """A one-day range."""
    return _Days(day, day)


def _month_start(today: date, months_ahead: int) -> date:
    """The first day of the month ``months_ahead`` after today's month."""
    index = today.year * 12 + today.month - 1 + months_ahead
    return date(index // 12, index % 12 + 1, 1)


def _monday(today: date, weeks_ahead: int) -> date:
    """Monday of the week ``weeks_ahead`` after this one."""
    return today - timedelta(days=today.weekday()) + weeks_ahead * _ONE_WEEK


def _from_full_date(_today: date, match: re.Match[str]) -> _Days:
    """2026/12/3, 2026-12-03, 2026年12月3日: taken as written."""
    return _single(_checked_date(int(match["y"]), int(match["m"]), int(match["d"])))


def _from_month_day(today: date, match: re.Match[str]) -> _Days:
    """12/3, 12月3日: the next such day, or the one in 今年/来年."""
    month, day = int(match["m"]), int(match["d"])
    if match["year"]:
        return _single(_checked_date(today.year + _YEAR_OFFSETS[match["year"]], month, day))
    year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    return _single(_checked_date(year, month, day))


def _from_day_of_month(today: date, match: re.Match[str]) -> _Days:
    """3日: this month, or next month once past; 来月3日 pins the month."""
    day = int(match["d"])
    rel = match["rel"]
    months_ahead = _MONTH_OFFSETS[rel] if rel else (0 if day >= today.day else 1)
    first = _month_start(today, months_ahead)
    return _single(_checked_date(first.year, first.month, day))


def _from_month(today: date, match: re.Match[str]) -> _Days:
    """12月, 来月: the whole month, from today if it is the current one."""
    if match["rel"]:
        first = _month_start(today, _MONTH_OFFSETS[match["rel"]])
    else:
        month = int(match["m"])
        past = month < today.month
        years_ahead = _YEAR_OFFSETS[match["year"]] if match["year"] else (1 if past else 0)
        first = _checked_date(today.year + years_ahead, month, 1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return _Days(today if first <= today <= last else first, last)


def _from_relative(today: date, match: re.Match[str]) -> _Days:
    """今日, 明日, あさって, ..."""
    return _single(today + timedelta(days=_RELATIVE_DAYS[match.group()]))


def _from_weekend(today: date, match: re.Match[str]) -> _Days:
    """週末, 来週末, 土日: Saturday..Sunday, never before today."""
    saturday = _monday(today, _WEEK_OFFSETS[match["pre"] or "今"]) + timedelta(days=5)
    return _Days(max(saturday, today), saturday + timedelta(days=1))


def _from_week(today: date, match: re.Match[str]) -> _Days:
    """今週, 来週, 再来週: Monday..Sunday, never before today."""
    monday = _monday(today, _WEEK_OFFSETS[match["pre"]])
    return _Days(max(monday, today), monday + timedelta(days=6))


def _from_weekday(today: date, match: re.Match[str]) -> _Days:
    """来週火曜, (火), 金曜日: that day of the named week, or the next one."""
    weekday = _WEEKDAYS.index(match["wd"])
    if match["pre"]:
        return _single(_monday(today, _WEEK_OFFSETS[match["pre"]]) + timedelta(days=weekday))
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    return _Days(day, day, bare_weekday=True)


_DATE_RULES: Final[
    tuple[tuple[re.Pattern[str], int, Callable[[date, re.Match[str]], _Days]], ...]
] = (
    (_ISO_DATE, _EXACT_DATE, _from_full_date),
    (_KANJI_DATE, _EXACT_DATE, _from_full_date),
    (_SLASH_MONTH_DAY, _EXACT_DATE, _from_month_day),
    (_KANJI_MONTH_DAY, _EXACT_DATE, _from_month_day),
    (_DAY_OF_MONTH, _EXACT_DATE, _from_day_of_month),
    (_RELATIVE, _NAMED_DAY, _from_relative),
    (_WEEKEND, _DAY_RANGE, _from_weekend),
    (_WEEKEND_DAYS, _DAY_RANGE, _from_weekend),
    (_WEEKDAY, _NAMED_DAY, _from_weekday),
    (_WEEKDAY_IN_PARENS, _NAMED_DAY, _from_weekday),
    (_WEEKDAY_AFTER_WEEK, _NAMED_DAY, _from_weekday),
    (_WEEK, _DAY_RANGE, _from_week),
    (_MONTH, _DAY_RANGE, _from_month),
)


def _find_days(text: str, today: date) -> tuple[_Days | None, str]:
    """The date part of ``text`` and the text with every date blanked out."""
    rules = [
        (pattern, rank, functools.partial(convert, today)) for pattern, rank, convert in _DATE_RULES
    ]
    hits, rest = _scan(text, rules)
    return _best(_join_ranges(hits, text)), rest


def _join_ranges(hits: list[_Hit[_Days]], text: str) -> list[_Hit[_Days]]:
    """Merge two dates joined by から/〜 (12/3〜12/5, 月曜から水曜) into one range."""
    joined: list[_Hit[_Days]] = []
    for hit in hits:
        previous = joined[-1] if joined else None
        if previous is None or not _RANGE_JOINER.fullmatch(text, previous.end, hit.start):
            joined.append(hit)
            continue
        first, last = previous.value.first, hit.value.last
        while hit.value.bare_weekday and last < first:
            # 水曜から金曜 said on a Thursday: the Friday after that Wednesday.
            last += _ONE_WEEK
        if last < first:
            joined.append(hit)
            continue
        joined[-1] = _Hit(min(previous.rank, hit.rank), previous.start, hit.end, _Days(first, last))
    return joined


# --- times ----------------------------------------------------------------------------

_MORNING_WORDS: Final = frozenset({"午前", "朝"})
_LATER_WORDS: Final = frozenset({"昼", "夕方", "夜"})


def _clock_pattern(tag: str, *, unit_optional: bool = False) -> str:
    """Regex for one clock time (午後3時半, 10:30, 十時) with groups named by ``tag``."""
    unit = (
        rf"(?:時(?:(?P<{tag}min>\d{{1,2}})分|(?P<{tag}half>半))?"
        rf"|:(?P<{tag}colon>\d{{2}})(?!\d))"
    )
    return (
        rf"(?:(?P<{tag}word>午前|午後|朝|昼|夕方|夜)[\sの、,は]*)?"
        rf"(?<!\d)(?P<{tag}hour>\d{{1,2}}){unit}{'?' if unit_optional else ''}"
    )


_WORD_PATTERN = "|".join(sorted(WINDOWS, key=len, reverse=True))
_TIME_RANGE = re.compile(
    _clock_pattern("a", unit_optional=True)
    + r"\s*(?:から|[~〜\-−–—ー])\s*"
    + _clock_pattern("b")
    + r"(?:まで|の間)?"
)
_TIME_UNTIL = re.compile(_clock_pattern("") + r"\s*(?:まで|より前|以前)")
_TIME_FROM = re.compile(_clock_pattern("") + r"\s*(?:以降|以後|過ぎ|すぎ|から|より|[~〜])")
_TIME_AT = re.compile(_clock_pattern(""))
_WINDOW_FROM = re.compile(rf"(?P<word>{_WORD_PATTERN})\s*(?:以降|以後|から)")
_WINDOW = re.compile(rf"(?P<word>{_WORD_PATTERN})")


def _to_24h(word: str | None, hour: int) -> int:
    """The 24-hour value of ``hour`` said with ``word`` (午前, 夜, ... or nothing)."""
    if word is None and hour <= 23:
        return hour + 12 if hour in BARE_AFTERNOON_HOURS else hour
    if word in _MORNING_WORDS and hour <= 12:
        return hour
    if word == "午後" and hour <= 12:
        return 12 if hour == 12 else hour + 12
    if word in _LATER_WORDS:
        return _later_hour(word, hour)
    raise _ImpossibleError(f"{word}{hour}時")


def _later_hour(word: str, hour: int) -> int:
    """昼/夕方/夜 + hour: both 夜7時 and 夜19時 are heard; 夜12時 is left out as unclear."""
    if word == "昼" and hour in (11, 12):
        return hour
    if 1 <= hour <= 11:
        return hour + 12
    if 13 <= hour <= 23:
        return hour
    raise _ImpossibleError(f"{word}{hour}時")


def _clock_time(match: re.Match[str], tag: str = "") -> time:
    """The time named by the groups of one clock pattern."""
    raw_minute = match[f"{tag}min"] or match[f"{tag}colon"] or 0
    minute = 30 if match[f"{tag}half"] else int(raw_minute)
    if minute > 59:
        raise _ImpossibleError(f"{minute}分")
    return time(_to_24h(match[f"{tag}word"], int(match[f"{tag}hour"])), minute)


def _from_time_range(match: re.Match[str]) -> _Clock:
    """15時から17時, 10〜12時, 10:00-12:00."""
    start, end = _clock_time(match, "a"), _clock_time(match, "b")
    if end <= start and match["bword"] is None and end.hour < 12:
        # 午後8時から9時: the end shares the afternoon of the start.
        end = end.replace(hour=end.hour + 12)
    if end <= start:
        raise _ImpossibleError("window ends before it starts")
    return _Clock(start, end)


def _from_time_until(match: re.Match[str]) -> _Clock:
    """15時まで."""
    return _Clock(None, _clock_time(match))


def _from_time_from(match: re.Match[str]) -> _Clock:
    """15時以降, 15時から, 15時過ぎ."""
    return _Clock(_clock_time(match), None)


def _from_time_at(match: re.Match[str]) -> _Clock:
    """10時, 10時半, 午後3時, 10:30."""
    return _Clock(_clock_time(match), None, exact=True)


def _from_window(match: re.Match[str]) -> _Clock:
    """午後, 夕方, ... as listed in WINDOWS."""
    start, end = WINDOWS[match["word"]]
    return _Clock(start, end)


def _from_window_onwards(match: re.Match[str]) -> _Clock:
    """夕方以降, 朝から: from the start of the window, open-ended."""
    start, end = WINDOWS[match["word"]]
    return _Clock(start, None) if start is not None else _Clock(start, end)


_CLOCK_RULES: Final[tuple[_Rule[_Clock], ...]] = (
    (_TIME_RANGE, _CLOCK_TIME, _from_time_range),
    (_TIME_UNTIL, _CLOCK_TIME, _from_time_until),
    (_TIME_FROM, _CLOCK_TIME, _from_time_from),
    (_TIME_AT, _CLOCK_TIME, _from_time_at),
    (_WINDOW_FROM, _TIME_WORD, _from_window_onwards),
    (_WINDOW, _TIME_WORD, _from_window),
)
