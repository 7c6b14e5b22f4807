"""Patient chat on LINE (placeholder until the patient flows land)."""

from __future__ import annotations

from backend.conversation.engine import Table
from backend.conversation.model import Event, Facts, Say, State, Step


def _idle(state: State, event: Event, facts: Facts) -> Step:
    return Step(state, (Say(f"{facts.clinic.name}です。"),))


TABLE = Table(name="patient", handlers={"idle": _idle})
