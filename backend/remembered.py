"""What a terminal simulator (`uketsuke chat`, `uketsuke call`) remembers between runs: a
small JSON file beside the SQLite database it uses, or in the working directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def path_for(database_url: str, kind: str) -> Path:
    """`<database>.<kind>.json` beside a SQLite database, else `.uketsuke-<kind>.json` here."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and ":memory:" not in database_url:
        database = Path(database_url[len(prefix) :].split("?", maxsplit=1)[0])
        return database.with_name(f"{database.stem}.{kind}.json")
    return Path.cwd() / f".uketsuke-{kind}.json"


def load(path: Path) -> dict[str, Any]:
    """What was remembered (empty when nothing is yet or the file is unreadable)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def save(path: Path, state: dict[str, Any]) -> None:
    """Remember `state` for the next run."""
    path.write_text(json.dumps(state, indent=2), encoding="utf-8")
