"""新しいカルテ: staff register a patient at the desk (a walk-in, a paper 問診票, a call
taken by hand) with the same form and rules as editing one (`karte_form`), written by
`patients.register` (audited as a CREATE under the actor `dashboard`).

A phone number another カルテ of the clinic already has is not refused — families share a
phone — but asked about once: the form comes back naming those カルテ, and creating goes
ahead when staff tick that this is someone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import patients
from backend.errors import Invalid
from backend.models import Clinic, Patient
from backend.web import karte_form, karte_identity
from backend.web.answers import ACTOR

SAME_PHONE_ERROR = (
    "この電話番号のカルテがすでにあります。同じ方ならそのカルテを開いてください。"
    "ご家族など別の方なら、下のチェックを入れてからもう一度作成してください。"
)
SAME_PHONE_SHOWN = 5


@dataclass(frozen=True)
class Unsaved:
    """What the shared form template reads of a カルテ's identity, for one not made yet."""

    id: None = None
    name_verified: bool = True  # typed by staff: nothing to confirm


@dataclass(frozen=True)
class Blank:
    """The new-カルテ page: the form as typed, what it offers, and the カルテ that already
    have its phone number (when staff are asked about them)."""

    form: karte_form.KarteForm
    choices: karte_identity.Choices
    same_phone: list[tuple[int, str]] = field(default_factory=list)
    identity: Unsaved = field(default_factory=Unsaved)


@dataclass(frozen=True)
class Outcome:
    """The new patient's id, or the page to show again with its messages by field."""

    patient_id: int | None
    page: Blank
    errors: dict[str, str] = field(default_factory=dict)


def blank(session: Session, *, clinic: Clinic, now: datetime) -> Blank:
    """The empty form for `clinic`."""
    offered = karte_identity.choices(session, clinic=clinic, patient=None, now=now)
    return Blank(karte_form.KarteForm(), offered)


def create(
    session: Session,
    *,
    clinic: Clinic,
    form: karte_form.KarteForm,
    now: datetime,
) -> Outcome:
    """Check the form as an edit is checked and register the patient; a phone number
    already on another カルテ is asked about unless the form says it is someone else's."""
    offered = karte_identity.choices(session, clinic=clinic, patient=None, now=now)
    checked = karte_form.check(form, offered)
    if checked.errors:
        return Outcome(None, Blank(form, offered), checked.errors)
    fields = {name: value for name, value in checked.changes.items() if value is not None}
    same = _same_phone(session, clinic, fields.get("phone"))
    if same and not form.someone_else:
        return Outcome(None, Blank(form, offered, same), {"phone": SAME_PHONE_ERROR})
    try:
        patient_id = patients.register(session, clinic_id=clinic.id, actor=ACTOR, now=now, **fields)
    except Invalid as exc:
        return Outcome(None, Blank(form, offered, same), karte_form.refused(exc))
    return Outcome(patient_id, Blank(form, offered))


def _same_phone(session: Session, clinic: Clinic, phone: str | None) -> list[tuple[int, str]]:
    """The clinic's カルテ (not merged away) with this phone number, as (id, name)."""
    if phone is None:
        return []
    query = (
        select(Patient.id, Patient.name)
        .where(
            Patient.clinic_id == clinic.id,
            Patient.phone == patients.normalize_phone(phone),
            Patient.merged_into_id.is_(None),
        )
        .order_by(Patient.id)
        .limit(SAME_PHONE_SHOWN)
    )
    return [(int(found_id), name) for found_id, name in session.execute(query)]
