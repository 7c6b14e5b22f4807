"""Minute bitmasks: a schedule window as Python ints, bit m = minute m after the origin.

Availability over four weeks is a few dozen big-int operations instead of a loop over
every candidate start, staff member and bed: a staff member is free for a course when a
run of `staff_minutes` set bits starts at that minute, and `runs` finds every such start
at once by doubling.
"""

from __future__ import annotations

from functools import lru_cache


def interval(start: int, end: int) -> int:
    """Bits start..end-1 set (empty when end <= start); negative starts are clipped."""
    start = max(start, 0)
    if end <= start:
        return 0
    return ((1 << (end - start)) - 1) << start


def runs(free: int, length: int, width: int) -> int:
    """Bits s where free has every bit s..s+length-1 set; all `width` bits when length is 0."""
    if length <= 0:
        return interval(0, width)
    result, covered = free, 1
    while covered < length:
        shift = min(covered, length - covered)
        result &= result >> shift
        covered += shift
    return result


def add_layer(levels: list[int], busy: int) -> None:
    """Add one occupant to stacked level masks (level k = minutes with more than k occupants)."""
    level = 0
    while busy:
        if level == len(levels):
            levels.append(0)
        overlap = levels[level] & busy
        levels[level] |= busy
        busy = overlap
        level += 1


def full_at(levels: list[int], capacity: int) -> int:
    """Minutes where a resource with `capacity` places is already full."""
    return levels[capacity - 1] if len(levels) >= capacity else 0


@lru_cache(maxsize=32)
def every(step: int, width: int) -> int:
    """Bits at every multiple of `step` below `width`."""
    least_significant_first = ("1" + "0" * (step - 1)) * (width // step + 1)
    return int(least_significant_first[:width][::-1], 2)


def bits(mask: int) -> list[int]:
    """Positions of the set bits, ascending."""
    text = bin(mask)[:1:-1]
    found: list[int] = []
    position = text.find("1")
    while position != -1:
        found.append(position)
        position = text.find("1", position + 1)
    return found
