"""LINE commands of `uketsuke`: the chat simulator and the rich menu."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the LINE commands to the `uketsuke` command."""
