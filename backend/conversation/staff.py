"""Staff conversations on LINE (placeholder until the staff flows land)."""

from __future__ import annotations

from backend.conversation.engine import Table
from backend.conversation.model import Event, Facts, State, Step


def _silent(state: State, event: Event, facts: Facts) -> Step:
    return Step(state)


GROUP = Table(name="staff_group", handlers={"idle": _silent})
OTHER_GROUP = Table(name="other_group", handlers={"idle": _silent})
DIRECT = Table(name="staff_direct", handlers={"idle": _silent})
