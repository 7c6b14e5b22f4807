"""The composition root: builds the ASGI app from the backend and the channel packages.

This is the one backend module allowed to import `bot`, `telephony` and `reminders`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import orm

import bot.cli
import reminders.cli
import reminders.cli_campaigns
import reminders.cli_rules
import telephony.cli
import telephony.sms_inbound
import telephony.webhook
from backend import cli
from backend.api import errors, hot, routes, serial
from backend.api.deps import Store
from backend.booking import schedule
from backend.db import Database
from backend.settings import Settings, check_for_production, get_settings
from backend.web import karte, pages
from bot import inbound, webhook
from reminders import dispatch, worker


def utc_now() -> datetime:
    """The real clock, read once per request by the edge."""
    return datetime.now(UTC)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # What the first requests would otherwise pay for: the ORM's mapper set-up, the
    # holiday calendar, the channels' clients.
    orm.configure_mappers()
    schedule.warm(app.state.clock().date())
    kick = app.state.kick  # tests may set a plain function
    if hasattr(kick, "open"):
        kick.open()
    with contextlib.ExitStack() as alongside:
        for start in getattr(app.state, "alongside", ()):
            alongside.enter_context(start())
        frozen = app.state.settings.gc_freeze
        if frozen:
            _freeze()
        yield
    if frozen:
        gc.unfreeze()
    if hasattr(kick, "close"):
        kick.close()
    recorder = getattr(app.state, "line_recorder", None)
    if recorder is not None:
        recorder.close()


def _freeze() -> None:
    """Exempt every object alive now from the garbage collector's walks: a web process
    starts with hundreds of thousands (FastAPI, SQLAlchemy, the SDKs), and each full
    collection during a request walked them all again, a pause of every request in flight
    (docs/performance.md has the measurements)."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """Build the app; tests pass their own store (rolled-back sessions) and clock."""
    settings = settings or get_settings()
    check_for_production(settings)
    app = hot.App(
        title="uketsuke API",
        version="0.1.0",
        description="受付 — bookings, patients (カルテ) and visits (施術録) of the clinic.",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.store = store or Database(settings.database_url)
    app.state.clock = clock
    # The phone's turns: on SQLite one after another on the event loop (backend.api.serial).
    app.state.serial_writes = serial.SerialWrites()
    # Called after a webhook has answered: handles the events it recorded, then sends the
    # answers they queued. Tests may replace it.
    store = app.state.store
    # In a burst the webhooks LINE waits on come first: the kick makes way for them
    # between its steps (a bounded wait), and the answers follow.
    app.state.kick = dispatch.Kick(
        store,
        settings=settings,
        clock=clock,
        before=[functools.partial(inbound.process, store, clock=clock, make_way=app.make_way)],
        make_way=app.make_way,
    )
    if settings.worker.events == "worker":
        app.state.kick = _LeftToTheWorker()
    errors.install(app, settings)
    # The webhooks first: routes are matched in order, and they are the hot path. LINE's,
    # the busiest and the lightest, skips FastAPI's layers altogether.
    app.hot_route("POST", "/line/webhook", webhook.webhook)
    # The phone's too: a caller waits on each of them (the router still answers a GET).
    for path, endpoint in telephony.webhook.HOT.items():
        app.hot_route("POST", path, endpoint)
    app.include_router(telephony.webhook.router)
    app.include_router(telephony.sms_inbound.router)
    app.include_router(routes.router)
    pages.install(app)  # the staff dashboard under /
    karte.install(app)  # its カルテ pages, under /patients
    return app


class _LeftToTheWorker:
    """The kick of a web process whose events `uketsuke worker` answers: nothing to run,
    so a webhook never starts a background task for it."""

    def poke(self) -> bool:
        return False

    def __call__(self) -> None:
        """Nothing: the worker looks for the events itself."""


def create_app_with_worker() -> FastAPI:
    """The app with the outbox worker (rules, campaigns, waitlist, sending) running beside
    it for its lifetime: the server the terminal simulators start, like `uketsuke serve`."""
    app = create_app()
    app.state.alongside = [functools.partial(worker.running, app.state.settings)]
    return app


def main() -> None:
    """The `uketsuke` command: the backend's commands plus each channel's."""
    bot.cli.register(cli.app)
    telephony.cli.register(cli.app)
    reminders.cli.register(cli.app)
    reminders.cli_campaigns.register(cli.app)
    reminders.cli_rules.register(cli.app)
    cli.app()
