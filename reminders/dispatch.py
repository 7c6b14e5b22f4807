"""Drain the outbox: claim due rows, send each through its channel's sender, record how
it went (DESIGN rule 3).

Claiming is a short transaction that moves rows from `pending` to `sending` with a
conditional UPDATE, so two drains never take the same row; sending happens outside any
transaction; one more transaction records the results. A row left in `sending` longer
than the lease (a crashed worker) is claimed again and sent with the same retry key,
which LINE answers with 409 if it already took it.

Claiming and settling are reminders/claims.py; this module sends, and drains right after
a webhook answered (`Kick`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta

from backend import outbox
from backend.api.deps import Store
from backend.models import Channel
from backend.settings import Settings
from bot import client
from reminders import mail, multicast, sms
from reminders.claims import Deferred, Drained, Job, Result, claim, settle

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 50

# Sends one unit: a single row, or the rows of one LINE multicast batch.
Sender = Callable[[Sequence[Job], datetime], outbox.Outcome]


def drain(
    store: Store,
    *,
    now: datetime,
    settings: Settings,
    limit: int = DEFAULT_LIMIT,
    senders: Mapping[Channel, Sender] | None = None,
    pool: Executor | None = None,
    pace: Callable[[], object] = lambda: None,
) -> Drained:
    """Send up to `limit` due rows of the channels that have a sender, on `pool`'s threads
    when given (the worker), else one after the other (a kick after a webhook). `pace` is
    called before each send (the web process makes way for webhooks there)."""
    if senders is None:
        with configured_senders(settings) as available:
            return drain(
                store,
                now=now,
                settings=settings,
                limit=limit,
                senders=available,
                pool=pool,
                pace=pace,
            )
    lease = timedelta(seconds=settings.worker.lease_seconds)
    jobs = claim(store, channels=list(senders), now=now, limit=limit, lease=lease)
    return settle(store, send(jobs, senders, now=now, pool=pool, pace=pace), now=now)


def send(
    jobs: list[Job],
    senders: Mapping[Channel, Sender],
    *,
    now: datetime,
    pool: Executor | None = None,
    pace: Callable[[], object] = lambda: None,
) -> list[tuple[Job, Result]]:
    """Send each unit (a row, or a multicast batch). Once a channel asks to wait (5xx,
    timeout, 429) its units not yet started are not tried in this drain: no hammering
    during an outage (at most the units already in flight on other threads still go), and
    a drain full of timeouts still ends well inside the lease of the rows it holds. One
    recipient's rows go one after the other, in order, so answers never overtake."""
    waiting: set[Channel] = set()

    def attempt(unit: list[Job]) -> Result:
        channel = unit[0].channel
        if channel in waiting:
            return Deferred()
        pace()
        outcome = senders[channel](unit, now)
        if isinstance(outcome, outbox.Retry):
            waiting.add(channel)
        return outcome

    def in_order(queue: list[list[Job]]) -> list[Result]:
        return [attempt(unit) for unit in queue]

    queues = _per_recipient(units(jobs))
    outcomes = pool.map(in_order, queues) if pool else map(in_order, queues)
    return [
        (job, outcome)
        for queue, results in zip(queues, outcomes, strict=True)
        for unit, outcome in zip(queue, results, strict=True)
        for job in unit
    ]


def _per_recipient(batches: list[list[Job]]) -> list[list[list[Job]]]:
    """The units grouped by recipient (a multicast batch is a recipient of its own),
    each group in claiming order."""
    queues: dict[str, list[list[Job]]] = {}
    for unit in batches:
        first = unit[0]
        key = (
            f"batch:{first.batch_key}" if first.batch_key else f"{first.channel}:{first.recipient}"
        )
        queues.setdefault(key, []).append(unit)
    return list(queues.values())


def units(jobs: list[Job]) -> list[list[Job]]:
    """The jobs as units to send: each multicast batch together, every other row alone."""
    batches: dict[str, list[Job]] = {}
    found: list[list[Job]] = []
    for job in jobs:
        if job.batch_key is None:
            found.append([job])
        elif job.batch_key in batches:
            batches[job.batch_key].append(job)
        else:
            batches[job.batch_key] = [job]
            found.append(batches[job.batch_key])
    return found


@contextmanager
def configured_senders(settings: Settings) -> Iterator[dict[Channel, Sender]]:
    """A sender for each channel. LINE rows wait, unclaimed, while no access token is set,
    and email rows while no SMTP host is; SMS rows always have a sender, which fails them
    visibly when SMS is not set up."""
    with ExitStack() as stack:
        senders: dict[Channel, Sender] = {}
        if settings.line.access_token.get_secret_value():
            line = stack.enter_context(client.LineClient.connect(settings.line))
            senders[Channel.LINE] = line_sender(line)
        senders[Channel.SMS] = sms_sender(stack.enter_context(sms.opened(settings)))
        if settings.mail.smtp_host:
            senders[Channel.EMAIL] = mail_sender(mail.Mailer(settings.mail))
        yield senders


def line_sender(line: client.LineClient) -> Sender:
    """Send a LINE row: reply while its token is fresh, else push under the row's key; or
    a batch as one multicast under the batch's key."""

    def send(unit: Sequence[Job], now: datetime) -> outbox.Outcome:
        job = unit[0]
        if job.batch_key is not None:
            return multicast.send(line, unit)
        return client.deliver(
            line, to=job.recipient, payload=job.payload, retry_key=job.retry_key, now=now
        )

    return send


def sms_sender(provider: sms.Provider) -> Sender:
    """Send an SMS row (no retry key exists for SMS: an unclear attempt becomes uncertain)."""

    def send(unit: Sequence[Job], now: datetime) -> outbox.Outcome:
        (job,) = unit  # only LINE rows form batches
        return sms.deliver(provider, to=job.recipient, payload=job.payload, retry_key=job.retry_key)

    return send


def mail_sender(mailer: mail.Mailer) -> Sender:
    """Send an email row (no idempotency either: an unclear attempt becomes uncertain)."""

    def send(unit: Sequence[Job], now: datetime) -> outbox.Outcome:
        (job,) = unit
        return mail.deliver(mailer, to=job.recipient, payload=job.payload, retry_key=job.retry_key)

    return send


class Kick:
    """Run `before` (e.g. handling the webhook events just recorded), then drain the outbox,
    right after a webhook answered. Kicks that arrive while a run goes on fold into one
    more run, so a burst of webhooks costs a few runs."""

    def __init__(
        self,
        store: Store,
        *,
        settings: Settings,
        clock: Callable[[], datetime],
        before: Sequence[Callable[[], object]] = (),
        make_way: Callable[[], object] = lambda: None,
    ):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.before = tuple(before)
        self.make_way = make_way  # called before each drain and send (see backend.api.hot)
        self._running = threading.Lock()
        self._wanted = threading.Event()
        # Opened on the first drain and kept: a client (and its TLS context) per kick
        # would cost more than most kicks' work.
        self._channels = ExitStack()
        self._senders: dict[Channel, Sender] | None = None
        # Answers go out side by side: one after the other, a burst of events would wait
        # a round trip to LINE (tens of milliseconds from a server in Japan) per answer.
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        """Close the channels' clients and the sending threads (the app's shutdown)."""
        with self._running:
            self._senders = None
            self._channels.close()
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def open(self) -> None:
        """Open the channels' clients now rather than on the first kick (the app's start)."""
        with self._running:
            try:
                self._opened()
            except Exception as error:
                # The first kick tries again and logs it there; the app still starts.
                log.warning("could not open the channels' clients (%s)", type(error).__name__)

    def _opened(self) -> dict[Channel, Sender]:
        if self._senders is None:
            self._senders = self._channels.enter_context(configured_senders(self.settings))
        return self._senders

    def _sending(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.settings.worker.kick_concurrency, thread_name_prefix="kick"
            )
        return self._pool

    def poke(self) -> bool:
        """Ask for a run without running it: False when one is under way and will see the
        request (it looks again after its run), True when the caller must call the kick."""
        self._wanted.set()
        return not self._running.locked()

    def __call__(self) -> None:
        self._wanted.set()
        while self._wanted.is_set() and self._running.acquire(blocking=False):
            try:
                self._wanted.clear()
                self._run()
            finally:
                self._running.release()

    def _run(self) -> None:
        for step in self.before:
            try:
                step()
            except Exception as error:
                # What it left undone stays in its table for the next kick or tick.
                log.error("kick step failed (%s)", type(error).__name__)
                log.debug("kick step failure", exc_info=True)
        self.make_way()
        try:
            drained = drain(
                self.store,
                now=self.clock(),
                settings=self.settings,
                senders=self._opened(),
                pool=self._sending(),
                pace=self.make_way,
            )
        except Exception as error:
            # The rows stay due; the worker's next tick tries again.
            log.error("outbox drain failed (%s)", type(error).__name__)
            log.debug("outbox drain failure", exc_info=True)
            return
        if drained.claimed == DEFAULT_LIMIT and not (drained.retried or drained.deferred):
            self._wanted.set()  # there may be more, and the channels are answering
