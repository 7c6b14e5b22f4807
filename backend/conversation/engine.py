"""A conversation as a transition table: state name → handler(state, event, facts) → step.

Handlers are pure: no I/O, no clock (`facts.now` is given), no database. A table may also
intercept events before the state's handler sees them, for words that mean the same in any
state (「予約」 starts booking, 「やめる」 stops what is going on).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from backend.conversation.model import Event, Facts, State, Step

Handler = Callable[[State, Event, Facts], Step]
Intercept = Callable[[State, Event, Facts], Step | None]


@dataclass(frozen=True)
class Table:
    """The handlers of one kind of conversation (patient chat, staff group, phone call)."""

    name: str
    handlers: Mapping[str, Handler]
    start: str = "idle"
    intercept: Intercept | None = None

    def step(self, state: State, event: Event, facts: Facts) -> Step:
        """Run one event through the table."""
        if self.intercept is not None:
            intercepted = self.intercept(state, event, facts)
            if intercepted is not None:
                return intercepted
        # A state this version does not know (renamed in a deploy) restarts the dialogue.
        handler = self.handlers.get(state.name) or self.handlers[self.start]
        if state.name not in self.handlers:
            state = State(self.start)
        return handler(state, event, facts)
