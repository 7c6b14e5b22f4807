"""Effects of the staff conversations (placeholder until the flows land)."""

from __future__ import annotations

from backend.dialogue.runner import Performer

PERFORMERS: dict[str, Performer] = {}
