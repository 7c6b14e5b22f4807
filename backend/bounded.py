"""A map of at most `size` entries that forgets its oldest first, shared between threads.

What this process keeps in memory (schedules, clinic facts, the last turn of each phone
call) is kept in one of these, so that it cannot grow without end. A get or a put takes
the lock once and allocates nothing, as the hand-written OrderedDicts it replaces did: a
phone turn goes through several of them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """Entries from oldest to most recent; a `put` beyond `size` forgets the oldest.
    A value is never None: None is what a miss returns."""

    __slots__ = ("_data", "_lock", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value for `key`, which is now the most recent entry; None when absent."""
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
        return found

    def peek(self, key: K) -> V | None:
        """The value for `key`, leaving the order alone: for caches where only a `put`
        says an entry is still wanted."""
        with self._lock:
            return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        """Keep `value` for `key` as the most recent entry, forgetting the oldest beyond
        `size` (all of them, with a size of 0)."""
        with self._lock:
            data = self._data
            data[key] = value
            data.move_to_end(key)
            while len(data) > self.size:
                data.popitem(last=False)

    def pop(self, key: K) -> V | None:
        """Forget `key`; its value, or None when it was not kept."""
        with self._lock:
            return self._data.pop(key, None)

    def values(self) -> list[V]:
        """Every value, oldest first, as they were at one moment."""
        with self._lock:
            return list(self._data.values())

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        # Under the lock: a `put` holds one entry too many until it has evicted.
        with self._lock:
            return len(self._data)
