"""Marketing consent on LINE, as the patient asks in chat (配信停止 / 配信再開): it takes
effect at once, so a rule running a moment later already sends nothing marketing there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from backend.conversation import patient_common as effects
from backend.conversation.model import Facts
from backend.dialogue import patient_common as common
from backend.dialogue.runner import Performer
from backend.errors import NotFound
from backend.models import Patient

PERFORMERS: dict[str, Performer] = {}
_performs = common.registry(PERFORMERS)


def _set_line_consent(session: Session, facts: Facts, *, consent: bool) -> Mapping[str, Any]:
    patient = session.get(Patient, facts.patient.id) if facts.patient else None
    if patient is None:
        raise NotFound("patient not found", field="patient_id")
    patient.consent_line = consent
    patient.consent_updated_at = facts.now
    patient.updated_at = facts.now
    session.flush()
    return {"consent_line": consent}


@_performs(effects.OPT_OUT)
def _opt_out(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    return _set_line_consent(session, facts, consent=False)


@_performs(effects.OPT_IN)
def _opt_in(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    return _set_line_consent(session, facts, consent=True)
