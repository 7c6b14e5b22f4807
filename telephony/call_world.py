"""Where the terminal phone calls: a server and fake Twilio API it starts itself, or a
server given with --url; and what it remembers between runs (the caller's number)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import phonenumbers
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from backend import migrate, remembered, serving
from backend.db import Database
from backend.models import Clinic
from backend.settings import Settings
from telephony import fake_twilio
from telephony.call_wire import PhoneError, probe

# Only ever meet the fake Twilio API and a server started here.
DEV_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEV_AUTH_TOKEN = "uketsuke-call-development-token"  # noqa: S105
DEV_SENDER = "UKETSUKE"
# Made-up staff phones for <Dial>: the simulator asks you instead of ringing them.
DEV_STAFF_NUMBERS = ("+81312340001", "+81312340002")
UNKNOWN_CLINIC_NUMBER = "+81312345678"
START_SECONDS = 90  # importing the app takes 10-20 s on a busy small machine


@dataclass(frozen=True)
class World:
    """Where the calls go, how they are signed, and where the SMS can be read back."""

    server_url: str
    fake_url: str | None
    auth_token: str
    account_sid: str
    clinic_number: str


def state_path(database_url: str) -> Path:
    """Where the phone remembers its caller: beside a SQLite database, else here."""
    return remembered.path_for(database_url, "call")


def new_mobile_number() -> str:
    """A made-up Japanese mobile number in E.164: +8190 and 8 digits."""
    return f"+8190{secrets.randbelow(10**8):08d}"


def caller_number(typed: str) -> str:
    """A phone number as Twilio gives it (E.164) from how people type it (03-1234-5678)."""
    try:
        parsed = phonenumbers.parse(typed, "JP")
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"{typed!r} is not a phone number") from error
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{typed!r} is not a possible phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def clinic_number(settings: Settings) -> str:
    """The number the caller dials: the first clinic's phone (a stand-in when unknown)."""
    database = Database(settings.database_url)
    try:
        with database.reader() as session:
            found = session.scalar(select(Clinic.phone).order_by(Clinic.id).limit(1))
    except SQLAlchemyError:
        found = None
    finally:
        database.dispose()
    return found or UNKNOWN_CLINIC_NUMBER


def prepare_database(settings: Settings) -> None:
    """Migrate the database, and refuse to go on with one without a clinic."""
    database = Database(settings.database_url)
    try:
        migrate.upgrade(database.engine)
        with database.reader() as session:
            clinic = session.scalar(select(Clinic.id).limit(1))
    except SQLAlchemyError as error:
        raise PhoneError(
            f"the database could not be prepared ({type(error).__name__}); "
            "`uketsuke db upgrade` shows the details"
        ) from error
    finally:
        database.dispose()
    if clinic is None:
        raise PhoneError(
            "the database has no clinic yet: run `make demo` (or `uketsuke seed`) first"
        )


def given_world(settings: Settings, *, url: str, fake_url: str | None) -> World:
    """A server someone else started (--url), signed with the configured auth token."""
    server_url = url.rstrip("/")
    with httpx.Client(timeout=5) as http:
        probe(server_url, http)
    twilio = settings.twilio
    return World(
        server_url=server_url,
        fake_url=fake_url.rstrip("/") if fake_url else _local_api_base(twilio.api_base),
        auth_token=twilio.auth_token.get_secret_value() or DEV_AUTH_TOKEN,
        account_sid=twilio.account_sid or DEV_ACCOUNT_SID,
        clinic_number=clinic_number(settings),
    )


def _local_api_base(api_base: str) -> str | None:
    """The configured Twilio API when it is a local fake (the SMS can be read back)."""
    local = api_base.startswith(("http://127.0.0.1:", "http://localhost:"))
    return api_base.rstrip("/") if local else None


def server_env(*, public_url: str, fake_url: str) -> dict[str, str]:
    """The environment of a server that talks to the fake Twilio API and nothing real."""
    return {
        **os.environ,
        "UKETSUKE_ENV": "development",
        "UKETSUKE_PUBLIC_BASE_URL": public_url,
        "UKETSUKE_TWILIO_ACCOUNT_SID": DEV_ACCOUNT_SID,
        "UKETSUKE_TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN,
        "UKETSUKE_TWILIO_API_BASE": fake_url,
        "UKETSUKE_TWILIO_STAFF_NUMBERS": json.dumps(DEV_STAFF_NUMBERS),
        "UKETSUKE_SMS_PROVIDER": "twilio",
        "UKETSUKE_SMS_SENDER": DEV_SENDER,
        # No LINE token: this server never sends to LINE. The staff group's cards wait in
        # the outbox for the server of `uketsuke chat`, which delivers to its fake LINE.
        "UKETSUKE_LINE_ACCESS_TOKEN": "",
    }


@contextmanager
def local_world(settings: Settings, log_path: Path) -> Iterator[World]:
    """Start the fake Twilio API in a thread and `uvicorn backend.app` in a subprocess on
    the configured database; stop both on the way out."""
    prepare_database(settings)
    fake = serving.serve_in_thread(
        fake_twilio.FakeTwilio(account_sid=DEV_ACCOUNT_SID, auth_token=DEV_AUTH_TOKEN).app()
    )
    try:
        with _server(fake.url, log_path) as server_url:
            yield World(
                server_url, fake.url, DEV_AUTH_TOKEN, DEV_ACCOUNT_SID, clinic_number(settings)
            )
    finally:
        fake.stop()


@contextmanager
def _server(fake_url: str, log_path: Path) -> Iterator[str]:
    with serving.listening_socket() as probe_socket:
        port = probe_socket.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "uvicorn", "backend.app:create_app_with_worker", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log_path.open("ab") as log:
        # Our own interpreter and module with fixed arguments: nothing here comes from input.
        server = subprocess.Popen(  # noqa: S603
            command,
            env=server_env(public_url=url, fake_url=fake_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(url, server, log_path)
        yield url
    finally:
        server.terminate()
        with suppress(subprocess.TimeoutExpired):
            server.wait(timeout=5)


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    with httpx.Client(timeout=2) as http:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
                raise PhoneError(f"the server did not start; its log ({log_path}):\n{tail}")
            try:
                http.get(f"{url}/healthz").raise_for_status()
            except httpx.HTTPError:
                time.sleep(0.2)
                continue
            probe(url, http)  # up: are the phone routes there?
            return
    raise PhoneError(f"the server did not answer within {START_SECONDS} s; see {log_path}")
