"""Hot routes: webhook endpoints served ahead of FastAPI's middleware and routing.

A LINE webhook does little work of its own (verify, parse, record, answer 200), so the
framework's per-request layers (error, telemetry and body-limit middleware, the token
guard of /api, route matching, dependency solving, response serialisation) cost about as
much as the endpoint itself: measured on the development machine, 0.15–0.2 ms of CPU per
request out of a bare FastAPI endpoint's 0.3 ms. A hot route is a plain
`async (Request) -> Response` function taken by exact path and method before any of that;
everything else goes through FastAPI as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


class App(FastAPI):
    """FastAPI with a table of hot routes, looked up before its middleware stack."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hot: dict[tuple[str, str], Endpoint] = {}

    def hot_route(self, method: str, path: str, endpoint: Endpoint) -> None:
        """Serve `method path` with `endpoint`, ahead of every middleware and route."""
        self.hot[(method.upper(), path)] = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.root_path:
            endpoint = self.hot.get((scope["method"], scope["path"]))
            if endpoint is not None:
                scope["app"] = self
                await _serve(endpoint, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def _serve(endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
    try:
        response = await endpoint(Request(scope, receive))
    except Exception as error:
        # What FastAPI's error middleware would answer. The exception's text can carry a
        # request's content (patients' words): its type is logged, the trace only at debug.
        log.error("%s %s failed (%s)", scope["method"], scope["path"], type(error).__name__)
        log.debug("hot route failure", exc_info=True)
        response = JSONResponse(
            {"detail": "internal server error", "code": "internal"}, status_code=500
        )
    await response(scope, receive, send)
