"""What every route needs: the store (transactions), the clock, and the API token check."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from backend.settings import Settings

# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, and each hop costs more than the work.


class Held(Protocol):
    """A connection kept between write transactions of plain statements."""

    def transaction(self) -> AbstractContextManager[Connection]: ...


class Store(Protocol):
    """Where routes get sessions: `transaction()` commits on success, `reader()` only reads;
    `held()` keeps a connection for a run of small writes without the ORM; `begin()` is one
    such write on a connection of its own. `single_writer` databases (SQLite) take one
    writer at a time, and `writing_now()` takes their writers' turn only if it is free this
    moment (True), never waiting (False)."""

    single_writer: bool

    def writing_now(self) -> AbstractContextManager[bool]: ...

    def transaction(self) -> AbstractContextManager[Session]: ...

    def reader(self) -> AbstractContextManager[Session]: ...

    def held(self) -> AbstractContextManager[Held]: ...

    def begin(self) -> AbstractContextManager[Connection]: ...


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_now(request: Request) -> datetime:
    """Read the clock once, at the edge."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


_bearer = HTTPBearer(auto_error=False, description="UKETSUKE_API_TOKEN")


def token_is_valid(settings: Settings, authorization: str) -> bool:
    """Whether an Authorization header carries the configured bearer token."""
    scheme, _, given = authorization.partition(" ")
    expected = settings.api_token.get_secret_value().encode()
    # An empty configured token would match an empty header, which anyone can send.
    if not expected or scheme.lower() != "bearer":
        return False
    return secrets.compare_digest(given.strip().encode(), expected)


async def require_token(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Check the bearer token (the RequireToken middleware already did; this also documents
    the scheme in OpenAPI) and return the actor name for audit entries."""
    header = f"Bearer {credentials.credentials}" if credentials else ""
    if not token_is_valid(settings, header):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return "api"


StoreDep = Annotated[Store, Depends(get_store)]
NowDep = Annotated[datetime, Depends(get_now)]
ActorDep = Annotated[str, Depends(require_token)]


def kick_after(request: Request) -> BackgroundTask | None:
    """The app's kick (handle recorded events, send what is queued) to run after the
    response, unless a run already under way will see the new work: a thread for each
    webhook of a burst would cost more than the work itself."""
    kick = request.app.state.kick
    poke = getattr(kick, "poke", None)  # tests may set a plain function
    if poke is not None and not poke():
        return None
    return BackgroundTask(kick)
