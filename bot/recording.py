"""Record webhook deliveries in the inbox with group commit.

Every delivery must be committed before LINE gets its 200 (DESIGN rule 2). One thread
per app writes them: a delivery's events wait in a queue, and the writer records all the
deliveries waiting at that moment in one transaction, then answers each one's waiting
request. Under load this turns many small transactions, and a thread-pool hop per
request, into few transactions and one hand-off each; when idle it is one delivery per
transaction, as before. A batch that fails is written again one delivery at a time, so
one bad delivery never costs the others their 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from backend.api.deps import Held, Store
from bot import events

log = logging.getLogger(__name__)

MAX_BATCH = 256  # deliveries in one transaction
IDLE_SECONDS = 30.0  # the writer thread ends after this long without work

# One delivery: its events, and when it was received.
Delivery = tuple[list[events.Received], datetime]
# Records some deliveries' events in an open transaction, in plain statements on its
# connection; answers, for each delivery, how many of its events were new.
Write = Callable[[Connection, Sequence[Delivery]], list[int]]


@dataclass(frozen=True)
class _Job:
    received: list[events.Received]
    now: datetime
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[int]


class Recorder:
    """The writer of one app: `await record(...)` returns once the events are committed."""

    def __init__(self, store: Store, write: Write, *, batch: int = MAX_BATCH) -> None:
        self.store = store
        self.write = write
        self.batch = batch
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # None: stop
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def record(self, received: list[events.Received], *, now: datetime) -> int:
        """Commit a delivery's events; the number that were new (not redelivered)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._jobs.put(_Job(received, now, loop, future))
        self._start()
        return await future

    @property
    def writing(self) -> bool:
        """Whether the writer thread runs (it stops on `close`, or after being idle)."""
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Let the writer finish what is queued and stop (the app's shutdown)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            self._jobs.put(None)
            thread.join()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="line-recorder", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        jobs = self._next_batch()
        while jobs:
            jobs = self._write_held(jobs)

    def _write_held(self, jobs: list[_Job]) -> list[_Job]:
        """Write batch after batch on one kept connection; answer [] once the writer is to
        stop, or, after a failed batch, the next batch (for the next connection)."""
        try:
            with self.store.held() as held:
                while jobs and self._write(held, jobs):
                    jobs = self._next_batch()
        except Exception as error:
            # No connection to write on, or it would not close: what waits fails now (not
            # a 2xx, and LINE delivers it again).
            log.error("LINE deliveries not recorded: no connection (%s)", type(error).__name__)
            _answer(jobs, [error] * len(jobs))
            return self._next_batch() if jobs else []  # [] here: _next_batch said stop
        if not jobs:
            return []
        # The batch failed. The failure may have been the connection's (a database
        # restarted) or one delivery's: each is written again alone, on a new connection.
        self._one_by_one(jobs)
        return self._next_batch()

    def _one_by_one(self, jobs: Sequence[_Job]) -> None:
        try:
            with self.store.held() as held:
                results = [self._alone(held, job) for job in jobs]
        except Exception as error:
            results = [error] * len(jobs)
        _answer(jobs, results)

    def _next_batch(self) -> list[_Job]:
        """The jobs waiting now (at least one), or none when it is time to stop."""
        try:
            first = self._jobs.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            first = None
        if first is None:
            with self._lock:
                # Under the lock: a job queued after this starts a new thread.
                self._thread = None
                if self._jobs.empty():
                    return []
            self._start()  # a job came in between: a new writer takes it
            return []
        jobs = [first]
        while len(jobs) < self.batch:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._jobs.put(None)  # stop after this batch
                break
            jobs.append(job)
        return jobs

    def _write(self, held: Held, jobs: Sequence[_Job]) -> bool:
        """Write one batch and answer its deliveries; False, answering none, when it failed."""
        try:
            with held.transaction() as connection:
                counts = self._counts(connection, jobs)
        except Exception as error:
            log.warning(
                "LINE batch of %d failed (%s): written again one by one",
                len(jobs),
                type(error).__name__,
            )
            return False
        _answer(jobs, counts)
        return True

    def _alone(self, held: Held, job: _Job) -> int | BaseException:
        try:
            with held.transaction() as connection:
                return self._counts(connection, [job])[0]
        except Exception as error:
            return error

    def _counts(self, connection: Connection, jobs: Sequence[_Job]) -> list[int]:
        counts = self.write(connection, [(job.received, job.now) for job in jobs])
        if len(counts) != len(jobs):  # else the requests would wait forever
            raise RuntimeError(f"{len(counts)} counts for {len(jobs)} deliveries")
        return counts


Answer = tuple[asyncio.Future[int], int | BaseException]


def _answer(jobs: Sequence[_Job], results: Sequence[int | BaseException]) -> None:
    """Hand each waiting request its result: one wake-up of each event loop for the whole
    batch (a wake-up is a write to the loop's pipe and a switch of threads)."""
    per_loop: dict[asyncio.AbstractEventLoop, list[Answer]] = {}
    for job, result in zip(jobs, results, strict=True):
        per_loop.setdefault(job.loop, []).append((job.future, result))
    for loop, answers in per_loop.items():
        with contextlib.suppress(RuntimeError):  # the event loop is closed: nobody waits
            loop.call_soon_threadsafe(_settle, answers)


def _settle(answers: list[Answer]) -> None:
    for future, result in answers:
        if future.done():  # the request was cancelled (the client went away)
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
