"""Phone commands of `uketsuke`: the terminal phone and the fake Twilio API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import httpx
import phonenumbers
import typer
import uvicorn
from rich.console import Console

from backend import remembered
from backend.settings import Settings, get_settings
from telephony import call, call_world, fake_twilio
from telephony.call_wire import PhoneError, Wire

FAKE_PORT = 8901
TWILIO_WAITS = 15  # seconds Twilio waits for TwiML before giving up on a webhook
console = Console()
twilio_app = typer.Typer(help="Twilio: a local fake of its REST API.")


def register(app: typer.Typer) -> None:
    """Add the phone commands to the `uketsuke` command."""
    app.command("call")(call_command)
    app.add_typer(twilio_app, name="twilio")


def call_command(
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Call from this number: a mobile (090-1234-5678) gets SMS; a landline "
            "(03-1234-5678) is asked for a mobile number. Remembered for the next run.",
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Call this running server instead of starting one.")
    ] = None,
    fake_url: Annotated[
        str | None,
        typer.Option(
            "--fake-url",
            help="With --url: the fake Twilio API that server sends SMS to (default: its "
            "UKETSUKE_TWILIO_API_BASE when that is local).",
        ),
    ] = None,
) -> None:
    """Call the clinic's phone attendant from the terminal: no Twilio account, no phone.

    Starts a local fake of Twilio's API and the uketsuke server on your database, then
    calls it with really signed Twilio webhooks. You see what the attendant says and what
    it listens for; type digits to press keys (1, 1203), words to speak (明日の午後),
    Enter alone for silence. :hangup hangs up, :q quits. After the call, the SMS the
    clinic sent you are shown.

    Book by voice or by keys, then see the request in the LINE staff group: run
    `uketsuke chat --staff` (same database) and send 未承認 in the group.

    Examples: `uketsuke call`; `uketsuke call --from 03-1234-5678` (a landline caller).
    """
    settings = get_settings()
    path = call_world.state_path(settings.database_url)
    caller = _caller(path, from_)
    log_path = path.with_suffix(".log")
    try:
        with _world(settings, url, fake_url, log_path) as world, _wire(world) as wire:
            _introduce(world, caller)
            call.run(
                lambda: call.place(
                    wire,
                    account_sid=world.account_sid,
                    caller=caller,
                    callee=world.clinic_number,
                    console=console,
                    ask=input,
                )
            )
    except PhoneError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error


def _caller(path: Path, typed: str | None) -> str:
    """The caller's number: --from (remembered), else the one remembered, else a new mobile."""
    state = remembered.load(path)
    if typed is not None:
        try:
            state["from"] = call_world.caller_number(typed)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--from") from error
    state.setdefault("from", call_world.new_mobile_number())
    remembered.save(path, state)
    return str(state["from"])


@contextmanager
def _world(
    settings: Settings, url: str | None, fake_url: str | None, log_path: Path
) -> Iterator[call_world.World]:
    if url is not None:
        yield call_world.given_world(settings, url=url, fake_url=fake_url)
        return
    with call_world.local_world(settings, log_path) as world:
        console.print(
            f"[dim]started the server and a fake Twilio API; server log: {log_path}[/dim]"
        )
        yield world


@contextmanager
def _wire(world: call_world.World) -> Iterator[Wire]:
    with httpx.Client(timeout=TWILIO_WAITS) as http:
        yield Wire(world.server_url, world.auth_token, http, world.fake_url)


def _introduce(world: call_world.World, caller: str) -> None:
    parsed = phonenumbers.parse(caller, "JP")
    mobile = phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    kind = "a mobile: SMS come to you" if mobile else "not a mobile: no SMS come to it"
    console.print(
        f"[bold]Phone simulator[/bold] — you call {call.display_number(world.clinic_number)} "
        f"from {call.display_number(caller)} ({kind}). Server {world.server_url}.\n"
        "Type digits to press keys, words to speak, Enter alone for silence; "
        ":help, :hangup, :q.\n"
        "Staff see the requests you make in `uketsuke chat --staff` (same database): send "
        "「未承認」 in the group."
    )


@twilio_app.command("fake")
def fake_command(
    port: Annotated[int, typer.Option(min=1, max=65535)] = FAKE_PORT,
    latency: Annotated[float, typer.Option(min=0, help="Seconds added to each call.")] = 0.0,
) -> None:
    """Serve a local fake of Twilio's REST API (for `uketsuke call --url`)."""
    base = f"http://127.0.0.1:{port}"
    credentials = (
        f"UKETSUKE_TWILIO_ACCOUNT_SID={call_world.DEV_ACCOUNT_SID} "
        f"UKETSUKE_TWILIO_AUTH_TOKEN={call_world.DEV_AUTH_TOKEN}"
    )
    typer.echo(
        f"fake Twilio API on {base}. Start the server against it, e.g.\n"
        f"  {credentials} \\\n"
        f"  UKETSUKE_TWILIO_API_BASE={base} UKETSUKE_SMS_PROVIDER=twilio "
        f"UKETSUKE_SMS_SENDER={call_world.DEV_SENDER} uketsuke serve\n"
        f"then: {credentials} uketsuke call --url http://127.0.0.1:8000 --fake-url {base}"
    )
    fake = fake_twilio.FakeTwilio(
        account_sid=call_world.DEV_ACCOUNT_SID,
        auth_token=call_world.DEV_AUTH_TOKEN,
        latency=latency,
    )
    uvicorn.run(fake.app(), host="127.0.0.1", port=port, log_level="warning")
