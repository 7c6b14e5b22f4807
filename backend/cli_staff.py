"""`uketsuke staff …`: link staff members and the staff group to LINE."""

from __future__ import annotations

import typer

staff_app = typer.Typer(help="Staff and the LINE staff group.", no_args_is_help=True)
