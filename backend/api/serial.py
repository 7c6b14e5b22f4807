"""Short writes of a single-writer database, run on the event loop one after another.

SQLite takes one writer at a time (`backend.db.Writers`), and a phone turn is one write
transaction of local work, a few milliseconds of CPU. Handed to the thread pool, twenty
callers' turns were twenty threads queueing for the writers' lock and for the interpreter,
and the queueing itself cost CPU: in `bench/voice.py` the server spent 3.1–3.9 ms a request
that way, against 1.9–2.5 ms with the same turns run here (docs/performance.md, "Phone
turns on the event loop").

`SerialWrites.run(function, store, ...)` calls `function(store, ...)`:

- on PostgreSQL (`store.single_writer` false) the function runs on the thread pool, as any
  blocking call: a turn there waits on round trips to the database, and many go at once;
- on SQLite this process's turns queue on an asyncio lock, first come first served. Each
  first lets the loop look at its sockets (a very short sleep: without it a burst of turns
  ran back to back and a request on a new connection was not read until they were done),
  then takes the writers' lock if it is free this moment and runs the function right
  there. When another thread (the outbox kick, LINE's handling) or another process (the
  worker) is writing, the function runs on a thread and waits there instead, the loop
  free meanwhile; the turns behind it wait on the asyncio lock, not on threads.

While a turn runs here nothing else on the loop does: only short functions that do no
network I/O belong here (the writes of a turn are local; its SMS leave through the outbox).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from backend.api.deps import Store

P = ParamSpec("P")
S = TypeVar("S", bound=Store)
T = TypeVar("T")

# How long a turn lets the loop poll its sockets before it runs. A timer rather than
# sleep(0): uvloop runs a task woken by sleep(0) again before it polls.
YIELD_SECONDS = 0.0001


class SerialWrites:
    """The queue of one app's short writes (see the module)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None  # made on the loop it serves

    async def run(
        self,
        function: Callable[Concatenate[S, P], T],
        store: S,
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`function(store, *args, **kwargs)`: on this loop when the store has a single
        writer and its lock is free, else on a thread."""
        if not store.single_writer:
            return await run_in_threadpool(function, store, *args, **kwargs)
        async with self._queue():
            await asyncio.sleep(YIELD_SECONDS)
            with store.writing_now() as taken:
                if taken:
                    return function(store, *args, **kwargs)
            return await run_in_threadpool(function, store, *args, **kwargs)

    def _queue(self) -> asyncio.Lock:
        # An asyncio lock serves one event loop. The app has one; a test client may start
        # a loop per request, and then the queue starts afresh.
        loop = asyncio.get_running_loop()
        if self._lock is None or loop is not self._loop:
            self._loop, self._lock = loop, asyncio.Lock()
        return self._lock
