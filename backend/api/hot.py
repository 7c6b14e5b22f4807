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
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]
# The longest a background step waits for the webhooks. Only a flood makes it wait that
# long: at the few webhooks a second a clinic sees, even a campaign's, the gaps between
# them are quiet. In a flood each step then holds SQLite's write lock for a few to tens
# of milliseconds (it shares the interpreter with the webhooks), and every webhook in
# flight waits behind it: one step a second costs them a few percent, where one every
# 200 ms put their p99 over 50 ms in three runs of four. An answer a second late is
# nothing in a chat, and the reply token it uses stays valid far longer.
MAKE_WAY_SECONDS = 1.0
# How often, at most, a waiting step looks again; it never looks before the burst could
# be over (QUIET_SECONDS after the last request). Each look takes the interpreter from the
# event loop: at a millisecond, eight sending threads looking cost the webhooks more than
# the work they were waiting to do, and at 5 ms the sixteen threads of a kick's SMS,
# looking all through a phone benchmark's rounds, cost the server about a seventh of its
# CPU (bench/voice.py: 2.56-2.71 ms a request, 2.18-2.25 at 20 ms; docs/performance.md).
MAKE_WAY_POLL_SECONDS = 0.02
# A burst is over once no hot request has come for this long. In a burst they come every
# millisecond or so, and between two of them none may be in flight: waiting only while one
# is would let background work in at every such gap. It is several of the interpreter's
# switch intervals (5 ms): a background thread holding the interpreter that long keeps
# the event loop from taking the next request, which must not look like quiet.
QUIET_SECONDS = 0.02


class App(FastAPI):
    """FastAPI with a table of hot routes, looked up before its middleware stack."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hot: dict[tuple[str, str], Endpoint] = {}
        self._taking = 0  # hot requests being taken now (changed on the event loop only)
        self._last = 0.0  # when the last hot request came (time.monotonic)

    def make_way(self, *, at_most: float = MAKE_WAY_SECONDS) -> bool:
        """Wait while hot requests are being taken or keep coming (one came in the last
        `QUIET_SECONDS`), `at_most` seconds (from a background thread: never on the event
        loop). Work done after a webhook's answer — handling the
        events, sending the answers — calls this between its steps, so in a burst the
        webhooks that LINE is waiting on get the interpreter first; the wait is bounded, so
        the answers still follow, a little later. True when the webhooks went quiet, False
        when it stopped waiting (a flood: the caller should take a small step)."""
        now = time.monotonic()
        deadline = now + at_most
        while (self._taking or now - self._last < QUIET_SECONDS) and now < deadline:
            wake = max(self._last + QUIET_SECONDS, now + MAKE_WAY_POLL_SECONDS)
            time.sleep(min(wake, deadline) - now)
            now = time.monotonic()
        return not (self._taking or now - self._last < QUIET_SECONDS)

    def hot_route(self, method: str, path: str, endpoint: Endpoint) -> None:
        """Serve `method path` with `endpoint`, ahead of every middleware and route."""
        self.hot[(method.upper(), path)] = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.root_path:
            endpoint = self.hot.get((scope["method"], scope["path"]))
            if endpoint is not None:
                scope["app"] = self
                self._taking += 1
                self._last = time.monotonic()
                try:
                    response = await _respond(endpoint, scope, receive)
                finally:
                    self._taking -= 1
                await response(scope, receive, send)  # and its background task, if any
                return
        await super().__call__(scope, receive, send)


async def _respond(endpoint: Endpoint, scope: Scope, receive: Receive) -> Response:
    try:
        return await endpoint(Request(scope, receive))
    except Exception as error:
        # What FastAPI's error middleware would answer. The exception's text can carry a
        # request's content (patients' words): its type is logged, the trace only at debug.
        log.error("%s %s failed (%s)", scope["method"], scope["path"], type(error).__name__)
        log.debug("hot route failure", exc_info=True)
        return JSONResponse(
            {"detail": "internal server error", "code": "internal"}, status_code=500
        )
