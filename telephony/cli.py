"""Phone commands of `uketsuke`: the terminal phone."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the phone commands to the `uketsuke` command."""
