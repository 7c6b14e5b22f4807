"""The bounded map every in-process cache is kept in: hits, misses, what goes first, threads."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, ValuesView

import pytest

from backend.bounded import Bounded


def test_a_miss_is_none_and_a_hit_is_the_value_put() -> None:
    kept: Bounded[str, int] = Bounded(2)
    assert kept.get("a") is None
    assert kept.peek("a") is None
    kept.put("a", 1)
    assert kept.get("a") == 1
    assert kept.peek("a") == 1
    assert len(kept) == 1


def test_a_falsy_value_is_a_hit() -> None:
    # A closed day's opening hours are (): found, not read again.
    kept: Bounded[str, tuple[int, ...]] = Bounded(2)
    kept.put("closed", ())
    assert kept.get("closed") == ()
    assert kept.peek("closed") == ()


def test_the_oldest_goes_first_at_the_bound() -> None:
    kept: Bounded[int, str] = Bounded(3)
    for n in range(5):
        kept.put(n, str(n))
        assert len(kept) == min(n + 1, 3)
    assert [kept.peek(n) for n in range(5)] == [None, None, "2", "3", "4"]
    assert kept.values() == ["2", "3", "4"]


def test_get_makes_an_entry_the_most_recent() -> None:
    kept: Bounded[str, int] = Bounded(3)
    for n, key in enumerate("abc"):
        kept.put(key, n)
    assert kept.get("a") == 0
    kept.put("d", 3)
    assert kept.peek("b") is None
    assert kept.values() == [2, 0, 3]


def test_peek_leaves_the_order_alone() -> None:
    kept: Bounded[str, int] = Bounded(3)
    for n, key in enumerate("abc"):
        kept.put(key, n)
    assert kept.peek("a") == 0
    kept.put("d", 3)
    assert kept.peek("a") is None
    assert kept.values() == [1, 2, 3]


def test_put_again_replaces_the_value_and_makes_it_the_most_recent() -> None:
    kept: Bounded[str, int] = Bounded(3)
    for n, key in enumerate("abc"):
        kept.put(key, n)
    kept.put("a", 10)
    assert len(kept) == 3
    kept.put("d", 3)
    assert kept.peek("b") is None
    assert kept.values() == [2, 10, 3]


def test_a_size_of_zero_keeps_nothing() -> None:
    kept: Bounded[str, int] = Bounded(0)
    kept.put("a", 1)
    assert kept.get("a") is None
    assert len(kept) == 0


def test_pop_and_clear_forget() -> None:
    kept: Bounded[str, int] = Bounded(3)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.pop("a") == 1
    assert kept.pop("a") is None
    assert kept.get("a") is None
    assert kept.values() == [2]
    kept.clear()
    assert len(kept) == 0
    assert kept.get("b") is None


class _Counting:
    """A lock that counts how often it is taken."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.taken = 0

    def __enter__(self) -> None:
        self.lock.acquire()
        self.taken += 1

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


class _Guarded(OrderedDict[str, int]):
    """An OrderedDict that fails whenever it is used without `lock` held."""

    def __init__(self, lock: _Counting) -> None:
        super().__init__()
        self.guard = lock

    def _held(self) -> None:
        assert self.guard.lock.locked(), "used outside the lock"

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        self._held()
        return super().get(key, default)

    def move_to_end(self, key: str, last: bool = True) -> None:
        self._held()
        super().move_to_end(key, last)

    def __setitem__(self, key: str, value: int) -> None:
        self._held()
        super().__setitem__(key, value)

    def popitem(self, last: bool = True) -> tuple[str, int]:
        self._held()
        return super().popitem(last)

    def pop(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        self._held()
        return super().pop(key, default)

    def values(self) -> ValuesView[int]:  # type: ignore[override]
        self._held()
        return super().values()

    def clear(self) -> None:
        self._held()
        super().clear()

    def __len__(self) -> int:
        self._held()
        return super().__len__()


def test_every_call_takes_the_lock_once_and_uses_the_entries_only_under_it() -> None:
    kept: Bounded[str, int] = Bounded(2)
    lock = _Counting()
    kept._lock = lock  # type: ignore[assignment]
    kept._data = _Guarded(lock)
    calls = [
        lambda: kept.get("a"),  # a miss
        lambda: kept.put("a", 1),
        lambda: kept.put("b", 2),
        lambda: kept.put("c", 3),  # evicts a
        lambda: kept.get("b"),  # a hit, made the most recent
        lambda: kept.peek("c"),
        lambda: kept.pop("c"),
        kept.values,
        kept.__len__,
        kept.clear,
    ]
    for n, call in enumerate(calls, start=1):
        call()
        assert lock.taken == n
    assert not lock.lock.locked()


@pytest.fixture
def switching_often() -> Iterator[None]:
    """Threads switch every few bytecodes, so that a missing lock shows."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(interval)


def _share(kept: Bounded[int, tuple[int, int]], *, threads: int, rounds: int, keys: int) -> int:
    """`threads` threads getting, putting and popping `keys` keys at once; the largest
    size any of them saw. An exception in any thread fails the test."""
    start = threading.Barrier(threads)
    failures: list[Exception] = []
    largest = 0
    largest_lock = threading.Lock()

    def work(worker: int) -> None:
        nonlocal largest
        try:
            start.wait()
            for n in range(rounds):
                key = (n * 7 + worker) % keys
                # get moves a key to the end while other threads evict: without the
                # lock, a key evicted in between makes move_to_end raise KeyError.
                found = kept.get(key)
                assert found is None or found[0] == key
                kept.put(key, (key, worker))
                if n % 11 == 0:
                    kept.pop((key + 5) % keys)
                seen = len(kept)
                assert seen <= kept.size
                with largest_lock:
                    largest = max(largest, seen)
        except Exception as error:
            failures.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    return largest


@pytest.mark.usefixtures("switching_often")
def test_threads_share_it_within_the_bound() -> None:
    # Small, crowded and repeated: a race without the lock shows in almost every run.
    for _ in range(5):
        kept: Bounded[int, tuple[int, int]] = Bounded(4)
        assert _share(kept, threads=8, rounds=2000, keys=8) == 4
        values = kept.values()
        assert 0 < len(values) <= 4
        assert len({key for key, _ in values}) == len(values)
        assert all(kept.peek(key) == (key, worker) for key, worker in values)
