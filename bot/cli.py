"""LINE commands of `uketsuke`: the chat simulator, the rich menu, and the fake LINE API.

Only the commands: the simulator is bot/chat.py (and its chat_* modules), the fake
bot/fake_line.py, the rich menu bot/richmenu.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import httpx
import typer
import uvicorn
from rich.console import Console

from backend import remembered
from backend.settings import get_settings
from bot import chat_start, chat_wire, chat_world, fake_line, richmenu

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
    secret, token = chat_world.DEV_SECRET, chat_world.DEV_TOKEN
    typer.echo(
        f"fake LINE API on {base}. Start the server against it, e.g.\n"
        f"  UKETSUKE_LINE_API_BASE={base} UKETSUKE_LINE_DATA_API_BASE={base} \\\n"
        f"  UKETSUKE_LINE_CHANNEL_SECRET={secret} UKETSUKE_LINE_ACCESS_TOKEN={token} \\\n"
        f"  uketsuke serve\n"
        f"then: UKETSUKE_LINE_CHANNEL_SECRET={secret} uketsuke chat "
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
    path = chat_world.state_path(settings.database_url)
    state = remembered.load(path)
    if user_id is not None:
        if not USER_ID.match(user_id):
            raise typer.BadParameter(
                "a LINE user id is U and 32 hex digits", param_hint="--user-id"
            )
        state["staff" if staff else "patient"] = user_id
    for key, make in (("patient", chat_wire.new_user_id), ("staff", chat_wire.new_user_id)):
        state.setdefault(key, make())
    state.setdefault("group", chat_wire.new_group_id())
    state.setdefault("destination", chat_wire.new_user_id())
    remembered.save(path, state)
    try:
        with chat_world.running(
            settings, state, path, url=url, fake_url=fake_url, console=console
        ) as world:
            chat_start.converse(settings, state, path, world, staff=staff, console=console)
    except chat_wire.SimulatorError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
