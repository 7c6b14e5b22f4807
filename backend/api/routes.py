"""Mounts every API router; health is public, everything under /api needs the token."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import text

from backend.api import bookings, campaigns, clinics, patients, visits
from backend.api.deps import StoreDep, require_token

router = APIRouter()
api = APIRouter(prefix="/api", dependencies=[Depends(require_token)])


@router.get("/healthz", tags=["health"])
def healthz(store: StoreDep) -> dict[str, str]:
    """Liveness and database reachability, without authentication."""
    with store.reader() as session:
        session.execute(text("select 1"))
    return {"status": "ok"}


for module in (clinics, patients, bookings, visits, campaigns):
    api.include_router(module.router)
router.include_router(api)
