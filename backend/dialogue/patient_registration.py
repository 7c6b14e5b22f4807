"""Registration and reachability behind the patient conversation: a new patient from LINE,
matching a LINE user to their カルテ (or asking staff to link by hand), and whether the
patient can be reached on LINE (follow, block).

The LINE user is `facts.subject`; linking it to a patient takes it from a merged duplicate
that may still hold it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from backend import audit, outbox, patients
from backend.conversation import patient_common as effects
from backend.conversation.model import Card, Facts, Result
from backend.dialogue import patient_common as common
from backend.dialogue.runner import Performer
from backend.errors import Invalid
from backend.models import AuditAction, Patient

PERFORMERS: dict[str, Performer] = {}
_performs = common.registry(PERFORMERS)


@_performs(effects.CHECK_PHONE)
def _check_phone(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"phone": patients.normalize_phone(str(args.get("phone", "")))}


@_performs(effects.REGISTER)
def _register(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    if facts.patient is not None:  # registered meanwhile (a second tap): nothing to add
        return {"patient_id": facts.patient.id}
    if not facts.subject:
        raise Invalid("no LINE user to link", field="subject")
    birth = args.get("birth_on")
    fields = {key: args[key] for key in ("kana", "phone", "media_id") if args.get(key)}
    patient = patients.create(
        session,
        clinic_id=facts.clinic.id,
        actor=common.ACTOR,
        now=facts.now,
        name=str(args.get("name", "")),
        birth_on=common.parse_date(birth, "birth_on") if birth else None,
        gender=args.get("gender") or "unknown",
        consent_line=bool(args.get("consent_line")),
        **fields,
    )
    _take_line_account(session, facts, patient)
    session.flush()
    return {"patient_id": patient.id}


def _take_line_account(session: Session, facts: Facts, patient: Patient) -> None:
    """Link the LINE user to `patient`, reachable there."""
    _release_from_merged(session, facts)
    patient.line_user_id = facts.subject
    patient.line_reachable = True


def _release_from_merged(session: Session, facts: Facts) -> None:
    """A merged duplicate may still hold the LINE account; the new link takes it over."""
    session.execute(
        update(Patient)
        .where(
            Patient.clinic_id == facts.clinic.id,
            Patient.line_user_id == facts.subject,
            Patient.merged_into_id.is_not(None),
        )
        .values(line_user_id=None)
        .execution_options(synchronize_session="fetch")
    )


@_performs(effects.MATCH)
def _match(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any] | Result:
    if facts.patient is not None:
        return {"patient_id": facts.patient.id}
    phone = patients.normalize_phone(str(args.get("phone", "")))
    born = common.parse_date(args.get("birth_on"), "birth_on")
    found = session.scalars(
        select(Patient).where(
            Patient.clinic_id == facts.clinic.id,
            Patient.phone == phone,
            Patient.birth_on == born,
            Patient.merged_into_id.is_(None),
            # A カルテ linked to another LINE user is someone else's, however alike.
            or_(Patient.line_user_id.is_(None), Patient.line_user_id == facts.subject),
        )
    ).all()
    if len(found) == 1 and facts.subject:
        return {"patient_id": _link(session, facts, found[0]).id}
    code = "ambiguous" if found else "no_match"
    _ask_staff_to_link(session, facts, phone=phone, born=born, code=code)
    return Result(effects.MATCH, ok=False, data={"code": code})


def _link(session: Session, facts: Facts, patient: Patient) -> Patient:
    _take_line_account(session, facts, patient)
    patient.updated_at = facts.now
    session.flush()
    audit.record(
        session,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        actor=common.ACTOR,
        action=AuditAction.UPDATE,
        now=facts.now,
        detail=audit.fields(["line_user_id"]),
    )
    return patient


def _ask_staff_to_link(
    session: Session, facts: Facts, *, phone: str, born: date, code: str
) -> None:
    """Staff link the LINE user by hand: the card says who asked, never anything medical."""
    clinic = common.clinic(session, facts)
    if clinic.line_staff_group_id is None:
        return
    card = Card(
        title="LINE連携の確認",
        rows=(
            ("電話", phone),
            ("生年月日", f"{born.year}年{born.month}月{born.day}日"),
            ("照合結果", "候補が複数あります" if code == "ambiguous" else "該当なし"),
            ("LINE ID", facts.subject),
        ),
        note="通院中の方として登録を希望されています。カルテをご確認のうえ連携してください。",
    )
    outbox.line_replies(
        session,
        clinic_id=clinic.id,
        to=clinic.line_staff_group_id,
        replies=(card,),
        purpose="staff:link-check",
        now=facts.now,
    )


def _set_reachable(session: Session, facts: Facts, reachable: bool) -> Mapping[str, Any]:
    patient = session.get(Patient, facts.patient.id) if facts.patient else None
    if patient is not None and patient.line_reachable != reachable:
        patient.line_reachable = reachable
        patient.updated_at = facts.now
        session.flush()
    return {"patient_id": patient.id if patient else None}


@_performs(effects.REACHABLE)
def _reachable(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    return _set_reachable(session, facts, True)


@_performs(effects.UNREACHABLE)
def _unreachable(session: Session, facts: Facts, args: Mapping[str, Any]) -> Mapping[str, Any]:
    return _set_reachable(session, facts, False)
