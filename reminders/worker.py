"""The outbox worker: an APScheduler tick that runs the steps (reminders/steps.py), then
drains the outbox on a bounded pool of threads until nothing due is left or the channels
ask to wait.

APScheduler only gives the tick: all due work lives in rows, so a restart loses nothing,
and any number of workers may run against one PostgreSQL (claims skip each other's rows).
`uketsuke worker` runs it alone; `uketsuke serve` and `uketsuke demo` run it beside the web
app (reminders/cli.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from backend.api.deps import Store
from backend.db import Database
from backend.models import Channel, OutboxMessage, OutboxStatus
from backend.settings import Settings
from bot import inbound
from reminders import dispatch, steps
from reminders.claims import Drained

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock, read by the tick (the edge) for each step and each drain."""
    return datetime.now(UTC)


def tick(
    store: Store,
    *,
    settings: Settings,
    pool: Executor,
    clock: Clock = utc_now,
    plan: Sequence[steps.Step] | None = None,
) -> Drained:
    """Run every step, then drain the outbox; what this tick sent, retried and failed."""
    for step in steps.STEPS if plan is None else plan:
        run_step(step, store, clock())
    with dispatch.configured_senders(settings) as senders:
        total = drain_all(store, settings=settings, pool=pool, clock=clock, senders=senders)
    if total.claimed:
        log.info(
            "outbox: sent %d, retried %d, deferred %d, failed %d",
            total.sent,
            total.retried,
            total.deferred,
            total.failed,
        )
    return total


def run_step(step: steps.Step, store: Store, now: datetime) -> None:
    """Run one step; a failure is logged and left for the next tick."""
    try:
        step(store, now)
    except Exception as error:
        name = getattr(step, "__name__", repr(step))
        log.error("step %s failed (%s)", name, type(error).__name__)
        log.debug("step failure", exc_info=True)


def drain_all(
    store: Store,
    *,
    settings: Settings,
    pool: Executor,
    clock: Clock,
    senders: Mapping[Channel, dispatch.Sender],
) -> Drained:
    """Drain until nothing due is left, or a channel asked to wait (its rows then wait
    for their backoff, and the next tick).

    Two lanes drain side by side: while one claims or settles its rows (database work,
    one transaction at a time), the other's rows are on the wire, so the sending pool
    never idles between batches. Claims never overlap (see reminders/claims.py)."""
    total = Drained()
    lock = threading.Lock()

    def lane() -> None:
        while True:
            drained = dispatch.drain(
                store,
                now=clock(),
                settings=settings,
                limit=settings.worker.batch_size,
                senders=senders,
                pool=pool,
            )
            with lock:
                add(total, drained)
            if not drained.claimed or drained.retried or drained.deferred:
                return

    other = threading.Thread(target=lane, name="outbox-lane", daemon=True)
    other.start()
    try:
        lane()
    finally:
        other.join()
    return total


def add(total: Drained, drained: Drained) -> None:
    """Add one drain's counts to a running total."""
    for field in fields(Drained):
        setattr(total, field.name, getattr(total, field.name) + getattr(drained, field.name))


class Worker:
    """The scheduler and the sending pool, started and stopped together."""

    def __init__(self, store: Store, *, settings: Settings, clock: Clock = utc_now) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.pool = ThreadPoolExecutor(settings.worker.concurrency, thread_name_prefix="outbox")
        self.scheduler = BackgroundScheduler(timezone=UTC)
        # Sends what answering the events queued, keeping its channel clients open.
        self.kick = dispatch.Kick(store, settings=settings, clock=clock)

    def start(self) -> None:
        """Tick now, then every `UKETSUKE_WORKER_TICK_SECONDS`; with
        `UKETSUKE_WORKER_EVENTS=worker`, answer events every `UKETSUKE_WORKER_POLL_SECONDS`."""
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.settings.worker.tick_seconds,
            next_run_time=self.clock(),
            id="outbox",
            max_instances=1,
            coalesce=True,
        )
        if self.settings.worker.events == "worker":
            self.scheduler.add_job(
                self.respond,
                "interval",
                seconds=self.settings.worker.poll_seconds,
                id="events",
                max_instances=1,
                coalesce=True,
            )
        self.scheduler.start()

    def respond(self) -> None:
        """Handle the LINE events the web processes recorded, then send what they and the
        phone's turns queued. Looks before it writes: an idle poll only reads."""
        try:
            handled = inbound.process(self.store, clock=self.clock)
            if handled or _anything_due(self.store, self.clock()):
                self.kick()
        except Exception as error:
            log.error("answering events failed (%s)", type(error).__name__)
            log.debug("answering events failure", exc_info=True)

    def tick(self) -> None:
        """One tick; an error (the database away) is logged, and the next tick tries again."""
        try:
            tick(self.store, settings=self.settings, pool=self.pool, clock=self.clock)
        except Exception as error:
            log.error("worker tick failed (%s)", type(error).__name__)
            log.debug("worker tick failure", exc_info=True)

    def stop(self) -> None:
        """Let a tick under way finish its sends and settle, then stop."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.pool.shutdown(wait=True)
        self.kick.close()


def _anything_due(store: Store, now: datetime) -> bool:
    with store.reader() as session:
        due = select(OutboxMessage.id).where(
            OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now
        )
        return session.scalar(due.limit(1)) is not None


@contextmanager
def running(settings: Settings, *, clock: Clock = utc_now) -> Iterator[Worker]:
    """A worker on the configured database for the length of a `with` block."""
    database = Database(settings.database_url)
    worker = Worker(database, settings=settings, clock=clock)
    worker.start()
    log.info(
        "outbox worker started: a tick every %gs, %d messages at once",
        settings.worker.tick_seconds,
        settings.worker.concurrency,
    )
    try:
        yield worker
    finally:
        worker.stop()
        database.dispose()
