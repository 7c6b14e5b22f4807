"""What the worker does at each tick before it drains the outbox: the steps that turn due
work in the database into outbox rows (reminders, follow-ups, campaigns, the waitlist).

A step is `step(store, now) -> anything`: it opens its own transactions on `store`, works
out what is due at `now`, and is safe to run again (its rows' unique keys make a repeat a
no-op). A failing step is logged and the others still run; what it left undone is still
due at the next tick. Add a step to `plan`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from backend import campaigns, waitlist
from backend.api.deps import Store
from backend.dialogue import forgetting
from reminders import quota, rules

Step = Callable[[Store, datetime], object]


class Every:
    """Run `step` at most once per `interval` of the clock it is given. The rules fire on
    the minute or the day, so scanning every patient at each few-second tick would only
    burn the web server's CPU; a restart simply runs it again (repeats are no-ops)."""

    def __init__(self, interval: timedelta, step: Step):
        self.interval = interval
        self.step = step
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self, store: Store, now: datetime) -> object:
        with self._lock:
            if self._last is not None and self._last <= now < self._last + self.interval:
                return None
            self._last = now
        return self.step(store, now)

    def __repr__(self) -> str:
        return f"Every({self.interval}, {getattr(self.step, '__name__', self.step)!r})"


def message_rules(store: Store, now: datetime) -> object:
    """Reminders, follow-ups, greetings and the staff digest that are due (issue 5)."""
    return rules.run(store, now=now)


def scheduled_campaigns(store: Store, now: datetime) -> object:
    """Campaigns whose send time has come, and any a sender left half-queued."""
    return len(campaigns.send_due(store, now=now))


def waitlist_offers(store: Store, now: datetime) -> object:
    """Starts freed on a day someone waits for, offered to the waiters."""
    return waitlist.offer_freed(store, now=now)


def idle_conversations(store: Store, now: datetime) -> object:
    """Forget what people typed in flows they left a day ago (names, phone numbers)."""
    with store.transaction() as session:
        return forgetting.forget_idle(session, now=now)


def waitlist_expiry(store: Store, now: datetime) -> object:
    """Entries and offers whose day or start has passed."""
    with store.transaction() as session:
        return waitlist.expire(session, now=now)


def plan() -> list[Step]:
    """The steps, in order, with their own schedules (fresh for each worker)."""
    return [
        # First: a clinic whose LINE quota pause has run out sends again in this very tick.
        quota.resume_line,
        # Freed starts are offered at once: the first to accept gets the slot.
        waitlist_offers,
        scheduled_campaigns,
        Every(timedelta(minutes=1), message_rules),
        Every(timedelta(minutes=10), waitlist_expiry),
        Every(timedelta(hours=1), idle_conversations),
    ]


STEPS: list[Step] = plan()
