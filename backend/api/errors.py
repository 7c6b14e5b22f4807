"""One error shape for the whole API, and the guarantees no route has to remember:
a missing token is a 401 before anything else, and no input can turn into a 500."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.api.deps import token_is_valid
from backend.errors import DomainError
from backend.settings import Settings

log = logging.getLogger(__name__)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    body = {"detail": exc.message, "code": exc.code} | {
        key: value for key, value in exc.context.items() if value is not None
    }
    return JSONResponse(body, status_code=exc.status)


async def _integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    # A unique or foreign-key constraint refused the write; nothing was committed.
    log.warning("integrity error: %s", type(exc.__cause__ or exc).__name__)
    return JSONResponse(
        {"detail": "the change conflicts with existing data", "code": "conflict"},
        status_code=409,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    # FastAPI echoes the offending input; JSON may carry values that cannot be written back
    # (NaN, 1e400, lone surrogates, undecodable bytes), so make them renderable first.
    assert isinstance(exc, RequestValidationError)
    if _from_a_browser_page(request):
        return HTMLResponse(REFUSED_FORM_PAGE, status_code=422)
    return JSONResponse({"detail": renderable(list(exc.errors()))}, status_code=422)


def _from_a_browser_page(request: Request) -> bool:
    """A staff page's form sent by a browser (the dashboard's own checks explain what they
    refuse at the field; this is what they cannot see, such as a field far too long)."""
    path = request.url.path
    return not (path == "/api" or path.startswith("/api/")) and "text/html" in (
        request.headers.get("accept", "")
    )


# Staff read it: Japanese, and what to do next. The browser's back button keeps what they
# typed in the form.
REFUSED_FORM_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>保存できませんでした — 受付</title></head>
<body><main>
<h1>保存できませんでした</h1>
<p>入力内容が長すぎるか、形式が正しくないため、受け付けられませんでした。
何も変更されていません。</p>
<p>ブラウザの「戻る」で前の画面に戻ると、入力した内容が残っています。
長い文章は短くしてから、もう一度保存してください。</p>
<p><a href="/">トップへ戻る</a></p>
</main></body></html>
"""


def renderable(value: Any) -> Any:
    """`value` as plain JSON: UTF-8 encodable strings, finite floats, other objects as text."""
    if isinstance(value, dict):
        return {str(renderable(key)): renderable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [renderable(item) for item in value]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        value = str(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value).encode("utf-8", "replace").decode("utf-8")


class RequireToken:
    """Refuse /api requests without the bearer token before the body is even read, so an
    anonymous caller learns nothing about what a valid body looks like."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == "/api" or path.startswith("/api/")):
            headers = dict(scope.get("headers") or [])
            header = headers.get(b"authorization", b"").decode("latin-1")
            if not token_is_valid(self.settings, header):
                response = JSONResponse(
                    {"detail": "a valid bearer token is required", "code": "unauthorized"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    """Register the token guard and the handlers that turn refusals into clear answers."""
    app.add_middleware(RequireToken, settings=settings)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
