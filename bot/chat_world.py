"""Where the chat simulator chats: a server and fake LINE API it starts itself, the ones
another running simulator started, or a server given with --url; and what it remembers
between runs (its LINE ids, who followed, the session it started)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from backend import migrate, remembered, serving
from backend.db import Database
from backend.models import Clinic
from backend.settings import Settings
from bot import fake_line
from bot.chat_wire import SimulatorError

DEV_SECRET = "uketsuke-chat-development-secret"  # noqa: S105 - only ever meets the fake
DEV_TOKEN = "uketsuke-chat-development-token"  # noqa: S105 - only ever meets the fake


@dataclass(frozen=True)
class World:
    """Where the simulator's events go and where LINE's answers are read."""

    server_url: str
    fake_url: str
    secret: str


def state_path(database_url: str) -> Path:
    """Where the simulator remembers its ids: beside a SQLite database, else here."""
    return remembered.path_for(database_url, "chat")


def update_state(path: Path, **changes: Any) -> None:
    """Change some keys (None removes one), keeping what another simulator wrote since."""
    state = remembered.load(path) | changes
    remembered.save(path, {key: value for key, value in state.items() if value is not None})


@contextmanager
def running(
    settings: Settings,
    state: dict[str, Any],
    path: Path,
    *,
    url: str | None,
    fake_url: str,
    console: Console,
) -> Iterator[World]:
    """The server and fake to talk to: given (--url), shared with a running simulator, or
    started here (and stopped on the way out)."""
    if url is not None:
        secret = settings.line.channel_secret.get_secret_value() or DEV_SECRET
        world = World(url.rstrip("/"), fake_url.rstrip("/"), secret)
        _require(world)
        yield world
        return
    shared = _shared(state)
    if shared is not None:
        console.print("[dim]joining the simulator session another terminal started[/dim]")
        yield shared
        return
    with _local_world(settings, path, console) as world:
        update_state(path, session=world.__dict__)
        try:
            yield world
        finally:
            update_state(path, session=None)


def _alive(world: World) -> bool:
    try:
        with httpx.Client(timeout=2) as http:
            http.get(f"{world.server_url}/healthz").raise_for_status()
            http.get(f"{world.fake_url}/_fake/messages", params={"since": 10**9}).raise_for_status()
    except httpx.HTTPError:
        return False
    return True


def _shared(state: dict[str, Any]) -> World | None:
    """The session another `uketsuke chat` started, if it is still up."""
    try:
        world = World(**state["session"])
    except (KeyError, TypeError):
        return None
    return world if _alive(world) else None


def _require(world: World) -> None:
    if not _alive(world):
        raise SimulatorError(
            f"the server at {world.server_url} or the fake LINE API at {world.fake_url} is not "
            "reachable. Start a fake with `uketsuke line fake`, and the server with "
            "UKETSUKE_LINE_API_BASE and UKETSUKE_LINE_DATA_API_BASE pointing at it "
            "(`uketsuke line fake` prints the commands)"
        )


@contextmanager
def _local_world(settings: Settings, path: Path, console: Console) -> Iterator[World]:
    """Start the fake LINE API in a thread and `uvicorn backend.app` in a subprocess."""
    _check_database(settings)
    fake = serving.serve_in_thread(fake_line.FakeLine(access_token=DEV_TOKEN).app())
    port = serving.free_port()
    log_path = path.with_name(path.stem + ".log")
    env = {
        **os.environ,
        "UKETSUKE_ENV": "development",
        "UKETSUKE_LINE_API_BASE": fake.url,
        "UKETSUKE_LINE_DATA_API_BASE": fake.url,
        "UKETSUKE_LINE_CHANNEL_SECRET": DEV_SECRET,
        "UKETSUKE_LINE_ACCESS_TOKEN": DEV_TOKEN,
    }
    server = serving.serve_in_subprocess(
        "backend.app:create_app_with_worker", port=port, env=env, log_path=log_path
    )
    world = World(f"http://127.0.0.1:{port}", fake.url, DEV_SECRET)
    try:
        _wait_until_up(world, server, log_path)
        console.print(f"[dim]started the server and a fake LINE API; server log: {log_path}[/dim]")
        yield world
    finally:
        serving.stop_subprocess(server)
        fake.stop()


def _wait_until_up(world: World, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
            raise SimulatorError(f"the server did not start; its log ({log_path}):\n{tail}")
        if _alive(world):
            return
        time.sleep(0.2)
    raise SimulatorError(f"the server did not answer within 30 s; see {log_path}")


def _check_database(settings: Settings) -> None:
    """Migrate the database, and refuse to start on one without a clinic."""
    database = Database(settings.database_url)
    try:
        migrate.upgrade(database.engine)
        with database.reader() as session:
            clinic = session.scalar(select(Clinic.id).limit(1))
    except SQLAlchemyError as error:
        raise SimulatorError(
            f"the database could not be prepared ({type(error).__name__}); "
            "`uketsuke db upgrade` shows the details"
        ) from error
    finally:
        database.dispose()
    if clinic is None:
        raise SimulatorError(
            "the database has no clinic yet: run `make demo` (or `uketsuke seed`) first"
        )
