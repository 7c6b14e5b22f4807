"""How the fake LINE API answers like LINE: errors as a status and `{"message": ...}`, the
bearer token check (with the fake's added latency), and JSON request bodies."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from bot.fake_line import FakeLine


class LineError(Exception):
    """An API error answered as LINE does: a status and `{"message": ...}`."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, {"message": message, **extra}


async def line_error(_: Request, error: LineError) -> JSONResponse:
    return JSONResponse(error.body, status_code=error.status)


def authorised(fake: FakeLine) -> Any:
    async def check(request: Request) -> None:
        fake.calls.append(f"{request.method} {request.url.path}")
        if fake.latency:
            await asyncio.sleep(fake.latency)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        wrong = fake.access_token is not None and token != fake.access_token
        if scheme.lower() != "bearer" or not token.strip() or wrong:
            raise LineError(
                401,
                "Authentication failed. Confirm that the access token in the authorization "
                "header is valid.",
            )

    return Depends(check)


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as error:
        raise LineError(400, "The request body has 1 error(s)") from error
    if not isinstance(body, dict):
        raise LineError(400, "The request body has 1 error(s)")
    return body
