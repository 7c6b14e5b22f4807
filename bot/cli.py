"""LINE commands of `uketsuke`: the chat simulator, the rich menu, and the fake LINE API."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import uvicorn
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from backend import migrate, staff_links
from backend.db import Database
from backend.errors import DomainError, NotFound
from backend.models import Clinic, Staff
from backend.settings import Settings, get_settings
from bot import chat, fake_line, richmenu

DEV_SECRET = "uketsuke-chat-development-secret"  # noqa: S105 - only ever meets the fake
DEV_TOKEN = "uketsuke-chat-development-token"  # noqa: S105 - only ever meets the fake
FAKE_PORT = 8900
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
console = Console()
line_app = typer.Typer(help="LINE: the rich menu and a local fake of the LINE API.")


def register(app: typer.Typer) -> None:
    """Add the LINE commands to the `uketsuke` command."""
    app.command("chat")(chat_command)
    app.add_typer(line_app, name="line")


@line_app.command("richmenu")
def richmenu_command(
    image_only: Annotated[
        Path | None, typer.Option("--image-only", help="Only write the PNG to this path.")
    ] = None,
) -> None:
    """Draw the rich menu, create it on LINE, upload its image and make it the default."""
    image = richmenu.draw()
    if image_only is not None:
        image_only.write_bytes(image)
        typer.echo(f"wrote {image_only} ({richmenu.WIDTH}x{richmenu.HEIGHT}, {len(image):,} bytes)")
        return
    line = get_settings().line
    token = line.access_token.get_secret_value()
    if not token:
        console.print("[red]UKETSUKE_LINE_ACCESS_TOKEN is not set: nothing to create with[/red]")
        raise typer.Exit(2)
    api, data_api = richmenu.clients(
        api_base=line.api_base,
        data_api_base=line.data_api_base,
        token=token,
        timeout=line.timeout_seconds,
    )
    with api, data_api:
        try:
            menu_id = richmenu.create(api=api, data_api=data_api, image=image)
            older = richmenu.remove_older(api=api, keep=menu_id)
        except (richmenu.RichMenuError, httpx.HTTPError) as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(1) from error
    typer.echo(f"rich menu {menu_id} created on {line.api_base} and set as the default")
    if older:
        typer.echo(f"removed {len(older)} older uketsuke menu(s): {', '.join(older)}")


@line_app.command("fake")
def fake_command(
    port: Annotated[int, typer.Option(min=1, max=65535)] = FAKE_PORT,
    latency: Annotated[float, typer.Option(min=0, help="Seconds added to each call.")] = 0.0,
) -> None:
    """Serve a local fake of the LINE Messaging API (for `uketsuke chat --url`)."""
    base = f"http://127.0.0.1:{port}"
    typer.echo(
        f"fake LINE API on {base}. Start the server against it, e.g.\n"
        f"  UKETSUKE_LINE_API_BASE={base} UKETSUKE_LINE_DATA_API_BASE={base} \\\n"
        f"  UKETSUKE_LINE_CHANNEL_SECRET={DEV_SECRET} UKETSUKE_LINE_ACCESS_TOKEN={DEV_TOKEN} \\\n"
        f"  uketsuke serve\n"
        f"then: UKETSUKE_LINE_CHANNEL_SECRET={DEV_SECRET} uketsuke chat "
        f"--url http://127.0.0.1:8000 --fake-url {base}"
    )
    app = fake_line.FakeLine(latency=latency).app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def chat_command(
    staff: Annotated[bool, typer.Option("--staff", help="Join as staff in the staff group.")] = (
        False
    ),
    user_id: Annotated[
        str | None, typer.Option("--user-id", help="Chat as this LINE user id (U…).")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Use this running server instead of starting one.")
    ] = None,
    fake_url: Annotated[
        str, typer.Option("--fake-url", help="The fake LINE API that server sends to (--url).")
    ] = f"http://127.0.0.1:{FAKE_PORT}",
) -> None:
    """Chat with the bot in the terminal, as a patient or (--staff) in the staff group."""
    settings = get_settings()
    path = state_path(settings.database_url)
    state = load_state(path)
    if user_id is not None:
        if not USER_ID.match(user_id):
            raise typer.BadParameter(
                "a LINE user id is U and 32 hex digits", param_hint="--user-id"
            )
        state["staff" if staff else "patient"] = user_id
    for key, make in (("patient", chat.new_user_id), ("staff", chat.new_user_id)):
        state.setdefault(key, make())
    state.setdefault("group", chat.new_group_id())
    state.setdefault("destination", chat.new_user_id())
    save_state(path, state)
    try:
        with _world(settings, state, path, url=url, fake_url=fake_url) as world:
            _converse(settings, state, path, world, staff=staff)
    except chat.SimulatorError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error


@dataclass(frozen=True)
class World:
    """Where the simulator's events go and where LINE's answers are read."""

    server_url: str
    fake_url: str
    secret: str


def _converse(
    settings: Settings, state: dict[str, Any], path: Path, world: World, *, staff: bool
) -> None:
    seat = chat.Seat(state["staff"], state["group"]) if staff else chat.Seat(state["patient"])
    # Both sides are shown (the other one unnumbered); a staff member's 1:1 only to staff.
    chats = {state["patient"]: "patient", state["group"]: "group"}
    if staff:
        chats[state["staff"]] = "direct"
    with httpx.Client(timeout=10) as http:
        link = chat.Link(
            f"{world.server_url}/line/webhook",
            world.fake_url,
            world.secret,
            state["destination"],
            http,
        )
        simulator = chat.Simulator(link, seat, chats=chats, console=console, ask=input)
        role = "a staff member in the staff group" if staff else "a patient"
        console.print(
            f"[bold]LINE simulator[/bold] — you are {role} ({seat.user_id}). "
            f"Server {world.server_url}. :help for help, :q to quit."
        )
        if staff:
            # No follow: unlinked, the staff member would be greeted as a new patient.
            _link_staff(settings, simulator, seat)
        else:
            _first_follow(simulator, seat, path)
            simulator.show_menu()
        simulator.run()


def _first_follow(simulator: chat.Simulator, seat: chat.Seat, path: Path) -> None:
    """Add the bot as a friend, the first time this patient is seen."""
    state = load_state(path)
    followed: list[str] = state.setdefault("followed", [])
    if seat.user_id in followed:
        return
    simulator.follow()
    followed.append(seat.user_id)
    save_state(path, state)


def state_path(database_url: str) -> Path:
    """Where the simulator remembers its ids: beside a SQLite database, else here."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and ":memory:" not in database_url:
        database = Path(database_url[len(prefix) :].split("?", maxsplit=1)[0])
        return database.with_name(database.stem + ".chat.json")
    return Path.cwd() / ".uketsuke-chat.json"


def load_state(path: Path) -> dict[str, Any]:
    """The remembered ids (empty when there are none yet or the file is unreadable)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Remember the ids for the next run."""
    path.write_text(json.dumps(state, indent=2), encoding="utf-8")


def update_state(path: Path, **changes: Any) -> None:
    """Change some keys (None removes one), keeping what another simulator wrote since."""
    state = load_state(path) | changes
    save_state(path, {key: value for key, value in state.items() if value is not None})


@contextmanager
def _world(
    settings: Settings, state: dict[str, Any], path: Path, *, url: str | None, fake_url: str
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
    with _local_world(settings, path) as world:
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
        raise chat.SimulatorError(
            f"the server at {world.server_url} or the fake LINE API at {world.fake_url} is not "
            "reachable. Start a fake with `uketsuke line fake`, and the server with "
            "UKETSUKE_LINE_API_BASE and UKETSUKE_LINE_DATA_API_BASE pointing at it "
            "(`uketsuke line fake` prints the commands)"
        )


@contextmanager
def _local_world(settings: Settings, path: Path) -> Iterator[World]:
    """Start the fake LINE API in a thread and `uvicorn backend.app` in a subprocess."""
    _check_database(settings)
    fake = fake_line.serve_in_thread(fake_line.FakeLine(access_token=DEV_TOKEN).app())
    port = _free_port()
    log_path = path.with_name(path.stem + ".log")
    env = {
        **os.environ,
        "UKETSUKE_ENV": "development",
        "UKETSUKE_LINE_API_BASE": fake.url,
        "UKETSUKE_LINE_DATA_API_BASE": fake.url,
        "UKETSUKE_LINE_CHANNEL_SECRET": DEV_SECRET,
        "UKETSUKE_LINE_ACCESS_TOKEN": DEV_TOKEN,
    }
    command = [
        sys.executable, "-m", "uvicorn", "backend.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log_path.open("ab") as log:
        # Our own interpreter and module with fixed arguments: nothing here comes from input.
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    world = World(f"http://127.0.0.1:{port}", fake.url, DEV_SECRET)
    try:
        _wait_until_up(world, server, log_path)
        console.print(f"[dim]started the server and a fake LINE API; server log: {log_path}[/dim]")
        yield world
    finally:
        server.terminate()
        with suppress(subprocess.TimeoutExpired):
            server.wait(timeout=5)
        fake.stop()


def _wait_until_up(world: World, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
            raise chat.SimulatorError(f"the server did not start; its log ({log_path}):\n{tail}")
        if _alive(world):
            return
        time.sleep(0.2)
    raise chat.SimulatorError(f"the server did not answer within 30 s; see {log_path}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _check_database(settings: Settings) -> None:
    """Migrate the database, and refuse to start on one without a clinic."""
    database = Database(settings.database_url)
    try:
        migrate.upgrade(database.engine)
        with database.reader() as session:
            clinic = session.scalar(select(Clinic.id).limit(1))
    except SQLAlchemyError as error:
        raise chat.SimulatorError(
            f"the database could not be prepared ({type(error).__name__}); "
            "`uketsuke db upgrade` shows the details"
        ) from error
    finally:
        database.dispose()
    if clinic is None:
        raise chat.SimulatorError(
            "the database has no clinic yet: run `make demo` (or `uketsuke seed`) first"
        )


def _link_staff(settings: Settings, simulator: chat.Simulator, seat: chat.Seat) -> None:
    """Link the simulated staff member and group as `uketsuke staff link` / `link-group`
    would, by sending the codes they print; say how to do it by hand if that fails."""
    try:
        user_code, group_code = _link_codes(settings, seat)
    except (SQLAlchemyError, DomainError) as error:
        console.print(
            f"[yellow]could not issue link codes ({type(error).__name__}). By hand: run "
            "`uketsuke staff add --name NAME` and send its code here with `:dm CODE`, then "
            "`uketsuke staff link-group` and type its code here.[/yellow]"
        )
        return
    if user_code:
        console.print(f"[dim]linking your LINE account: sending {user_code} 1:1 to the bot[/dim]")
        simulator.send(
            chat.message_event(user_code, seat.source(True), now_ms=simulator.now_ms()),
            seat.user_id,
        )
    if group_code:
        console.print(f"[dim]linking this group as the staff group: posting {group_code}[/dim]")
        simulator.send(chat.message_event(group_code, seat.source(), now_ms=simulator.now_ms()))


def _link_codes(settings: Settings, seat: chat.Seat) -> tuple[str | None, str | None]:
    """Codes for what is not linked yet: this staff member, and this group."""
    now = datetime.now(UTC)
    database = Database(settings.database_url)
    try:
        with database.transaction() as session:
            clinic = _clinic(session, settings.line.clinic_id)
            user_code = None
            if not _is_linked_staff(session, clinic.id, seat.user_id):
                member = _unlinked_staff(session, clinic.id, now)
                console.print(
                    f"[dim]the simulator acts as staff member {member.name} (id {member.id})[/dim]"
                )
                issued = staff_links.issue(
                    session, clinic_id=clinic.id, purpose="staff_user", staff_id=member.id, now=now
                )
                user_code = issued.code
            group_code = None
            if clinic.line_staff_group_id != seat.group_id:
                group = staff_links.issue(
                    session, clinic_id=clinic.id, purpose="staff_group", now=now
                )
                group_code = group.code
    finally:
        database.dispose()
    return user_code, group_code


def _clinic(session: Session, clinic_id: int | None) -> Clinic:
    query = select(Clinic).order_by(Clinic.id).limit(1)
    found = session.get(Clinic, clinic_id) if clinic_id else session.scalar(query)
    if found is None:
        raise NotFound("no clinic for the LINE channel")
    return found


def _is_linked_staff(session: Session, clinic_id: int, user_id: str) -> bool:
    query = select(Staff.id).where(
        Staff.clinic_id == clinic_id, Staff.line_user_id == user_id, Staff.active.is_(True)
    )
    return session.scalar(query) is not None


def _unlinked_staff(session: Session, clinic_id: int, now: datetime) -> Staff:
    """The first active staff member without a LINE account, or a new one."""
    query = select(Staff).where(
        Staff.clinic_id == clinic_id, Staff.active.is_(True), Staff.line_user_id.is_(None)
    )
    found = session.scalar(query.order_by(Staff.id).limit(1))
    if found is not None:
        return found
    member, _ = staff_links.add_staff(
        session, clinic_id=clinic_id, name="シミュレーター スタッフ", now=now
    )
    return member
