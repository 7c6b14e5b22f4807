"""The clinic's schedule lock, and what a booking request reads of the clinic with it.

Taking the lock replaces the clinic's schedule token (backend.booking.lifecycle explains
why that serializes every change of the schedule, and why the token is random).
"""

from __future__ import annotations

from typing import NamedTuple, cast
from uuid import uuid4

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.models import Clinic
from backend.plain import Plain

# A plain statement built once, run on the connection: the ORM's bulk update path cost
# more than the rest of taking the lock, on every booking change.
_CLINICS = cast(Table, Clinic.__table__)
_LOCK = (
    update(_CLINICS)
    .where(_CLINICS.c.id == bindparam("clinic_id"))
    .values(schedule_token=bindparam("token"))
)


def lock_schedule(session: Session, clinic_id: int) -> Clinic:
    """Take the clinic's schedule lock for this transaction and return the fresh clinic."""
    params = {"clinic_id": clinic_id, "token": uuid4().hex}
    result = session.connection().execute(_LOCK, params)
    if result.rowcount == 0:
        raise NotFound(f"clinic {clinic_id} not found", field="clinic_id")
    clinic = session.get(Clinic, clinic_id, populate_existing=True)
    assert clinic is not None
    return clinic


class RequestClinic(NamedTuple):
    """What a request reads of its clinic as it takes the schedule lock: the schedule and
    window settings, how requests are answered, and where staff hear of them."""

    id: int
    timezone: str
    slot_step_minutes: int
    holidays_closed: bool
    schedule_token: str
    config_token: str
    lead_time_minutes: int
    horizon_days: int
    auto_approve: bool
    request_hold_minutes: int
    line_staff_group_id: str | None


_LOCK_READING = Plain(_LOCK.returning(*(_CLINICS.c[name] for name in RequestClinic._fields)))
_READING = Plain(
    select(*(_CLINICS.c[name] for name in RequestClinic._fields)).where(
        _CLINICS.c.id == bindparam("clinic_id")
    )
)


def lock_reading(session: Session, clinic_id: int) -> RequestClinic:
    """`lock_schedule` reading only what a request needs, in the same statement."""
    params = {"clinic_id": clinic_id, "token": uuid4().hex}
    row = _LOCK_READING.first(session.connection(), params)
    if row is None:
        raise NotFound(f"clinic {clinic_id} not found", field="clinic_id")
    return RequestClinic(*row)


def reading(session: Session, clinic_id: int) -> RequestClinic:
    """What a request reads of its clinic, without the lock (backend.booking.late)."""
    row = _READING.first(session.connection(), {"clinic_id": clinic_id})
    if row is None:
        raise NotFound(f"clinic {clinic_id} not found", field="clinic_id")
    return RequestClinic(*row)
