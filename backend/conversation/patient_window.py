"""What a patient asked for as a window of local time, and which free starts answer it.

Pure arithmetic shared by the `find_slots` effect and its tests: the effect gets the free
starts from the booking engine and uses this to keep the ones inside the window, or the
nearest ones to an exact time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

KINDS = ("exact", "window", "day", "days")
ONE_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Window:
    """Days `first`..`last` (inclusive), each from `time_from` to `time_to` (exclusive;
    None = open side). For an exact time `time_from` is the start asked for. `after`
    keeps only later starts (「もっと後の時間」)."""

    kind: str
    first: date
    last: date
    time_from: time | None = None
    time_to: time | None = None
    after: datetime | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Window:
        """Read the `When.to_json()` shape (plus `after`); ValueError when malformed."""
        kind = str(args.get("kind"))
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        first = date.fromisoformat(str(args["date_from"]))
        last = date.fromisoformat(str(args["date_to"]))
        after = datetime.fromisoformat(args["after"]) if args.get("after") else None
        window = cls(kind, first, last, _time(args.get("time_from")), _time(args.get("time_to")))
        if last < first or (kind == "exact" and window.time_from is None):
            raise ValueError("not a window")
        return cls(kind, first, last, window.time_from, window.time_to, after)

    def contains(self, start: datetime) -> bool:
        """Whether a start (in the clinic's zone) is inside; an exact time's window is its
        whole day(s), where the nearest starts are picked."""
        if not self.first <= start.date() <= self.last:
            return False
        if self.after is not None and start <= self.after:
            return False
        if self.kind == "exact":
            return True
        moment = start.time()
        if self.time_from is not None and moment < self.time_from:
            return False
        return self.time_to is None or moment < self.time_to

    def spans(self, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """The asked-for time on each day, as aware (start, end) pairs; an exact time is
        its one minute."""
        found = []
        for offset in range((self.last - self.first).days + 1):
            day = self.first + timedelta(days=offset)
            start = datetime.combine(day, self.time_from or time(0), tzinfo=zone)
            if self.kind == "exact":
                end = start + ONE_MINUTE
            elif self.time_to is not None:
                end = datetime.combine(day, self.time_to, tzinfo=zone)
            else:
                end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
            found.append((start, end))
        return found

    def end(self, zone: ZoneInfo) -> datetime:
        """When the window is over: alternatives are looked for from here."""
        if self.kind == "window" and self.time_to is not None:
            return datetime.combine(self.last, self.time_to, tzinfo=zone)
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)

    def exact_hits(self, starts: list[datetime]) -> list[datetime]:
        """The starts at exactly the time asked for."""
        if self.kind != "exact":
            return []
        return [start for start in starts if start.time() == self.time_from]


def nearest(starts: list[datetime], target: time, count: int) -> list[datetime]:
    """The `count` starts closest in time of day to `target`, in time order."""

    def distance(start: datetime) -> tuple[int, datetime]:
        return abs(_minutes(start.time()) - _minutes(target)), start

    return sorted(sorted(starts, key=distance)[:count])


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _time(value: object) -> time | None:
    return time.fromisoformat(value) if isinstance(value, str) and value else None
