"""The waitlist behind the patient conversation: joining for a full day, the list, leaving
it, and taking an offered slot (backend.waitlist). A slot taken from the waitlist is a
request like any other: staff get the request card (backend.notify).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from backend import notify, waitlist
from backend.conversation import patient_common as effects
from backend.conversation.model import Facts
from backend.dialogue import patient_common as common
from backend.dialogue.runner import Performer
from backend.errors import Invalid
from backend.models import Course

PERFORMERS: dict[str, Performer] = {}
_performs = common.registry(PERFORMERS)


@_performs(effects.JOIN_WAITLIST)
def _join(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    patient = common.patient(session, facts)
    course_id, staff_id = common.chosen(args)
    entry, new = waitlist.join(
        session,
        clinic_id=facts.clinic.id,
        patient_id=patient.id,
        course_id=course_id,
        staff_id=staff_id,
        wanted_on=common.parse_date(args.get("day"), "day"),
        now=facts.now,
    )
    return {"day": entry.wanted_on.isoformat(), "new": new}


@_performs(effects.LIST_WAITLIST)
def _list(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    patient = common.patient(session, facts)
    found = waitlist.entries(session, patient_id=patient.id, today=facts.now.date())
    return {
        "entries": [_entry(session, entry.id, entry.wanted_on, entry.course_id) for entry in found]
    }


def _entry(session: Session, entry_id: int, day: Any, course_id: int) -> dict[str, Any]:
    course = session.get(Course, course_id)
    return {"id": entry_id, "day": day.isoformat(), "course": course.name if course else ""}


@_performs(effects.LEAVE_WAITLIST)
def _leave(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    patient = common.patient(session, facts)
    entry_id = args.get("entry_id")
    if not isinstance(entry_id, int):
        raise Invalid("entry_id must be an id", field="entry_id")
    entry = waitlist.leave(session, entry_id=entry_id, patient_id=patient.id, now=facts.now)
    return {"day": entry.wanted_on.isoformat()}


@_performs(effects.ACCEPT_OFFER)
def _accept(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    patient = common.patient(session, facts)
    offer_id = args.get("offer_id")
    if not isinstance(offer_id, int):
        raise Invalid("offer_id must be an id", field="offer_id")
    made = waitlist.accept(
        session, offer_id=offer_id, patient_id=patient.id, now=facts.now, actor=common.ACTOR
    )
    notify.request_created(session, booking=made, now=facts.now)
    return {
        "booking_id": made.id,
        "status": made.status.value,
        "start": common.iso(made.starts_at, common.zone(common.clinic(session, facts))),
        "course": made.course.name,
    }
