"""What the clinic-scoped commands share: which clinic a command is about, and how a
command gives up with a message."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Clinic

console = Console()


def chosen(session: Session, clinic_id: int | None) -> Clinic:
    """The clinic asked for, or the only one there is."""
    if clinic_id is not None:
        found = session.get(Clinic, clinic_id)
        if found is None:
            fail(f"clinic {clinic_id} not found")
        return found
    clinics = list(session.scalars(select(Clinic).order_by(Clinic.id).limit(10)))
    if not clinics:
        fail(
            "no clinic yet: set one up with `uketsuke clinic init` and"
            " `uketsuke clinic apply clinic.toml` (or `uketsuke seed` for demo data)"
        )
    if len(clinics) > 1:
        ids = ", ".join(str(found.id) for found in clinics)
        fail(f"there are several clinics ({ids}): choose one with --clinic ID")
    return clinics[0]


def fail(message: str) -> NoReturn:
    """Print `message` in red and end the command with exit status 1."""
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(1)
