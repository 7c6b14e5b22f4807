"""The window arithmetic behind `find_slots`: which free starts answer what was asked."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from backend.conversation.patient_window import Window, nearest
from tests.conversation.patient_dialogue import TOKYO


def _t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)


def _window(kind: str, first: str, last: str, start: str | None, end: str | None) -> Window:
    args = {"kind": kind, "date_from": first, "date_to": last, "time_from": start, "time_to": end}
    return Window.from_args(args)


def test_a_window_keeps_starts_inside_its_hours_on_its_days() -> None:
    evening = _window("window", "2026-11-27", "2026-11-28", "16:00", "19:00")
    assert evening.contains(_t(27, 16))
    assert evening.contains(_t(28, 18, 45))
    assert not evening.contains(_t(27, 19))
    assert not evening.contains(_t(27, 15, 45))
    assert not evening.contains(_t(29, 17))
    assert evening.end(TOKYO) == _t(28, 19)
    assert evening.spans(TOKYO) == [(_t(27, 16), _t(27, 19)), (_t(28, 16), _t(28, 19))]


def test_an_open_window_and_whole_days() -> None:
    afternoon = _window("window", "2026-11-27", "2026-11-27", "12:00", None)
    assert afternoon.contains(_t(27, 19, 45))
    assert afternoon.end(TOKYO) == _t(28, 0)
    weekend = _window("days", "2026-11-28", "2026-11-29", None, None)
    assert weekend.contains(_t(28, 9))
    assert weekend.contains(_t(29, 23))
    assert weekend.end(TOKYO) == _t(30, 0)


def test_an_exact_time_looks_at_its_day_and_its_minute() -> None:
    ten = _window("exact", "2026-11-27", "2026-11-27", "10:00", None)
    assert ten.contains(_t(27, 15))
    assert ten.spans(TOKYO) == [(_t(27, 10), _t(27, 10, 1))]
    assert ten.exact_hits([_t(27, 9, 45), _t(27, 10)]) == [_t(27, 10)]


def test_after_keeps_only_later_starts() -> None:
    args = {
        "kind": "day",
        "date_from": "2026-11-27",
        "date_to": "2026-11-27",
        "after": _t(27, 11).isoformat(),
    }
    later = Window.from_args(args)
    assert not later.contains(_t(27, 11))
    assert later.contains(_t(27, 11, 15))


def test_nearest_starts_around_a_time_in_time_order() -> None:
    starts = [_t(27, 9), _t(27, 9, 30), _t(27, 11), _t(27, 15), _t(27, 16)]
    assert nearest(starts, time(10, 0), 3) == [_t(27, 9), _t(27, 9, 30), _t(27, 11)]
    assert nearest(starts, time(15, 30), 2) == [_t(27, 15), _t(27, 16)]


@pytest.mark.parametrize(
    "args",
    [
        {"kind": "soon", "date_from": "2026-11-27", "date_to": "2026-11-27"},
        {"kind": "day", "date_from": "2026-11-28", "date_to": "2026-11-27"},
        {"kind": "exact", "date_from": "2026-11-27", "date_to": "2026-11-27"},
        {"kind": "day", "date_from": "tomorrow", "date_to": "2026-11-27"},
        {"kind": "day"},
    ],
)
def test_malformed_windows_are_refused(args: dict[str, str]) -> None:
    with pytest.raises((ValueError, KeyError)):
        Window.from_args(args)
