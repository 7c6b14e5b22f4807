"""What the worker does at each tick before it drains the outbox: the steps that turn due
work in the database into outbox rows (reminders, follow-ups, campaigns, the waitlist).

A step is `step(store, now) -> anything`: it opens its own transactions on `store`, works
out what is due at `now`, and is safe to run again (its rows' unique keys make a repeat a
no-op). A failing step is logged and the others still run; what it left undone is still
due at the next tick. Add a step by appending it to `STEPS`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from backend.api.deps import Store
from reminders import quota

Step = Callable[[Store, datetime], object]

STEPS: list[Step] = [
    # First: a clinic whose LINE quota pause has run out sends again in this very tick.
    quota.resume_line,
]
