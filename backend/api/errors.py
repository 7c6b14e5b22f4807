"""One error shape for the whole API: {"detail": message, "code": code, ...context}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from backend.errors import DomainError

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


def install(app: FastAPI) -> None:
    """Register the handlers that turn domain and database refusals into clear answers."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
