"""The カルテ: register, change, read and find patients.

A patient record holds identity, contact, acquisition and conversation notes; symptoms,
injuries and treatment belong to visits (施術録), never here. Every staff read and change
is written to the audit log, naming fields and never their values.

Use it as `from backend import patients` then `patients.create(session, ...)`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from backend import audit, kana
from backend.errors import Invalid, NotFound
from backend.models import AuditAction, Clinic, Gender, Likelihood, Media, Patient, PatientTag
from backend.plain import Plain

CONSENT_FIELDS = frozenset({"consent_line", "consent_sms", "consent_email", "consent_post"})
FIELDS = CONSENT_FIELDS | {
    "name",
    "kana",
    "name_verified",
    "gender",
    "birth_on",
    "phone",
    "email",
    "postal_code",
    "address",
    "media_id",
    "referrer",
    "referrer_patient_id",
    "note_family",
    "note_job",
    "note_hobbies",
    "note_likes",
    "note_last_conversation",
    "next_visit_likelihood",
}
# Columns that always hold a value: None is refused rather than left to the database.
REQUIRED = CONSENT_FIELDS | {"name", "name_verified", "gender", "next_visit_likelihood"}
TAG_LENGTH = 50
KANA_LENGTH = 100  # the patient.kana column
MAX_SEARCH = 100

_PHONE_PUNCTUATION = re.compile(r"[\s\-()+]")


# Numbers already normalised: a phone call checks its caller's several times a turn, and
# parsing with phonenumbers costs more than a database query. Refusals are not kept.
NORMALIZED = 4096


@functools.lru_cache(maxsize=NORMALIZED)
def normalize_phone(raw: str) -> str:
    """A Japanese or international phone number in E.164 (+819012345678), or Invalid."""
    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException as exc:
        raise Invalid("not a phone number", field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("not a valid phone number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def create(
    session: Session, *, clinic_id: int, actor: str, now: datetime, **fields: Any
) -> Patient:
    """Register a patient; `tags` is a list of labels, the other fields are Patient columns.
    Written by `register`, then loaded for callers that go on working with it."""
    patient_id = register(session, clinic_id=clinic_id, actor=actor, now=now, **fields)
    patient = session.get(Patient, patient_id)
    assert patient is not None  # inserted just now, in this transaction
    return patient


# Built once and run on the session's connection (`register`): a phone call registers
# its caller while it books, and the ORM's unit of work cost more than the insert.
_INSERT = Plain(insert(cast(Table, Patient.__table__)).returning(Patient.__table__.c.id))
_INSERT_TAG = insert(cast(Table, PatientTag.__table__))


def register(session: Session, *, clinic_id: int, actor: str, now: datetime, **fields: Any) -> int:
    """`create` without loading the Patient: plain statements on the session's connection;
    the new patient's id (a phone call registering its caller uses this directly)."""
    labels = fields.pop("tags", None) or []
    _check_names(fields)
    if "name" not in fields:
        raise Invalid("a name is required", field="name")
    _check_clinic(session, clinic_id)
    values = _clean(session, clinic_id, fields, patient_id=None)
    tags = _unique_tags(labels)
    row = {**values, "clinic_id": clinic_id, "created_at": now, "updated_at": now}
    if CONSENT_FIELDS & values.keys():
        row["consent_updated_at"] = now
    session.flush()  # as the ORM's own writes would: after this session's pending changes
    connection = session.connection()
    patient_id: int = _INSERT.scalar(connection, row)
    if tags:
        connection.execute(_INSERT_TAG, [{"patient_id": patient_id, "tag": tag} for tag in tags])
    touched = [*values, "tags"] if tags else list(values)
    audit.record(
        session,
        clinic_id=clinic_id,
        patient_id=patient_id,
        actor=actor,
        action=AuditAction.CREATE,
        now=now,
        detail=audit.fields(touched),
    )
    return patient_id


def update(
    session: Session, *, patient_id: int, actor: str, now: datetime, **changes: Any
) -> Patient:
    """Change some fields; `tags` replaces every label. The audit entry names what changed."""
    tags = changes.pop("tags", None)
    _check_names(changes)
    patient = _writable(session, patient_id)
    values = _clean(session, patient.clinic_id, changes, patient_id=patient.id)
    changed = [name for name, value in values.items() if getattr(patient, name) != value]
    for name in changed:
        setattr(patient, name, values[name])
    if tags is not None and _replace_tags(patient, tags):
        changed.append("tags")
    if CONSENT_FIELDS.intersection(changed):
        patient.consent_updated_at = now
    if changed:
        patient.updated_at = now
    session.flush()
    _audit(session, patient, AuditAction.UPDATE, actor=actor, now=now, detail=audit.fields(changed))
    return patient


def get(session: Session, *, patient_id: int, actor: str, now: datetime) -> Patient:
    """Open a カルテ; the read is audited."""
    patient = _find(session, patient_id)
    _audit(session, patient, AuditAction.READ, actor=actor, now=now)
    return patient


def in_clinic(session: Session, *, clinic_id: int, patient_id: int) -> Patient:
    """A patient of this clinic who was not merged away, for checks by other domain modules.

    Not a staff read of the カルテ, so not audited: callers must not render it as one.
    """
    patient = session.get(Patient, patient_id)
    if patient is None or patient.clinic_id != clinic_id:
        raise NotFound(f"patient {patient_id} not found", field="patient_id")
    _refuse_merged(patient)
    return patient


def search(
    session: Session, *, clinic_id: int, query: str, limit: int, include_merged: bool = False
) -> list[Patient]:
    """Find patients by name, kana (either script, any width) or phone digits, in kana order."""
    if not 1 <= limit <= MAX_SEARCH:
        raise Invalid(f"limit must be between 1 and {MAX_SEARCH}", field="limit")
    _check_clinic(session, clinic_id)
    statement = select(Patient.id, Patient.name, Patient.kana, Patient.phone).where(
        Patient.clinic_id == clinic_id
    )
    if not include_merged:
        statement = statement.where(Patient.merged_into_id.is_(None))
    # Kana folding (hiragana/katakana, full/half width) has no portable SQL form, and a
    # clinic's patient list is small, so the match runs here over names only.
    matches = _matcher(query)
    found = sorted((row for row in session.execute(statement) if matches(row)), key=_kana_order)
    ids = [row.id for row in found[:limit]]
    by_id = {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(ids)))}
    return [by_id[patient_id] for patient_id in ids]


def fold(text: str) -> str:
    """Text as search compares it: kana as stored (`kana.normalize`), no spaces, case-folded."""
    return kana.normalize(text).replace(" ", "").casefold()


def _matcher(query: str) -> Callable[[Any], bool]:
    digits = _PHONE_PUNCTUATION.sub("", unicodedata.normalize("NFKC", query))
    if re.fullmatch(r"[0-9]+", digits):
        return lambda row: digits in _phone_digits(row.phone)
    folded = fold(query)
    return lambda row: folded in fold(row.name) or folded in fold(row.kana or "")


def _phone_digits(phone: str | None) -> str:
    """Both the international and the domestic digits, so 8190… and 090… both match."""
    if not phone:
        return ""
    international = phone.lstrip("+")
    domestic = "0" + international[2:] if international.startswith("81") else ""
    return f"{international} {domestic}"


def _kana_order(row: Any) -> tuple[str, int]:
    return fold(row.kana or row.name), row.id


def _check_names(fields: dict[str, Any]) -> None:
    unknown = sorted(fields.keys() - FIELDS)
    if unknown:
        raise Invalid(f"unknown patient field {unknown[0]}", field=unknown[0])


def _clean(
    session: Session, clinic_id: int, fields: dict[str, Any], *, patient_id: int | None
) -> dict[str, Any]:
    """Normalise the values and check that every reference belongs to the clinic."""
    values = dict(fields)
    for name in sorted(REQUIRED & values.keys()):
        if values[name] is None or (name == "name" and not values[name].strip()):
            raise Invalid(f"{name} cannot be empty", field=name)
    if values.get("phone") is not None:
        values["phone"] = normalize_phone(values["phone"])
    if "kana" in values:
        values["kana"] = _reading(values["kana"])
    for name, kind in (("gender", Gender), ("next_visit_likelihood", Likelihood)):
        if name in values:
            values[name] = _member(kind, values[name], name)
    if values.get("media_id") is not None:
        _media(session, clinic_id, values["media_id"])
    if values.get("referrer_patient_id") is not None:
        _referrer(session, clinic_id, values["referrer_patient_id"], patient_id)
    return values


def _reading(raw: str | None) -> str | None:
    """フリガナ as stored, whichever channel typed it: full-width katakana, None when blank."""
    if raw is None:
        return None
    reading = kana.normalize(raw)
    # NFKC can lengthen text (㌔ is キロ), so input that fitted may no longer.
    if len(reading) > KANA_LENGTH:
        raise Invalid(f"kana has at most {KANA_LENGTH} characters", field="kana")
    return reading or None


def _member(kind: Any, value: Any, field: str) -> Any:
    try:
        return kind(value)
    except ValueError as exc:
        raise Invalid(f"unknown {field} {value!r}", field=field) from exc


def _media(session: Session, clinic_id: int, media_id: int) -> None:
    media = session.get(Media, media_id)
    if media is None or media.clinic_id != clinic_id:
        raise NotFound(f"media {media_id} not found", field="media_id")


def _referrer(session: Session, clinic_id: int, referrer_id: int, patient_id: int | None) -> None:
    if referrer_id == patient_id:
        raise Invalid("a patient cannot refer themselves", field="referrer_patient_id")
    referrer = session.get(Patient, referrer_id)
    if referrer is None or referrer.clinic_id != clinic_id:
        raise NotFound(f"patient {referrer_id} not found", field="referrer_patient_id")


def _unique_tags(tags: Iterable[str]) -> list[str]:
    unique: list[str] = []
    for raw in tags:
        tag = raw.strip()
        if len(tag) > TAG_LENGTH:
            raise Invalid(f"a tag has at most {TAG_LENGTH} characters", field="tags")
        if tag and tag not in unique:
            unique.append(tag)
    return unique


def _replace_tags(patient: Patient, tags: Iterable[str]) -> bool:
    """Make the labels exactly `tags`; tell whether anything changed."""
    wanted = _unique_tags(tags)
    current = {tag.tag for tag in patient.tags}
    if current == set(wanted):
        return False
    # Keep rows that stay: deleting and re-adding one primary key in a flush gains nothing.
    patient.tags = [tag for tag in patient.tags if tag.tag in wanted] + [
        PatientTag(tag=tag) for tag in wanted if tag not in current
    ]
    return True


# Whether the clinic exists, as a plain statement built once: no caller needs the whole
# clinic row, and loading it through the ORM costs more than registering the patient.
_CLINIC = Plain(select(Clinic.id).where(Clinic.id == bindparam("clinic_id")))


def _check_clinic(session: Session, clinic_id: int) -> None:
    if _CLINIC.first(session.connection(), {"clinic_id": clinic_id}) is None:
        raise NotFound(f"clinic {clinic_id} not found", field="clinic_id")


def _find(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id} not found", field="patient_id")
    return patient


def _writable(session: Session, patient_id: int) -> Patient:
    patient = _find(session, patient_id)
    _refuse_merged(patient)
    return patient


def _refuse_merged(patient: Patient) -> None:
    if patient.merged_into_id is not None:
        raise Invalid(
            f"patient {patient.id} was merged into {patient.merged_into_id}",
            field="patient_id",
            merged_into_id=patient.merged_into_id,
        )


def _audit(
    session: Session,
    patient: Patient,
    action: AuditAction,
    *,
    actor: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    audit.record(
        session,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        actor=actor,
        action=action,
        now=now,
        detail=detail,
    )


def note_first_visit(clinic: Clinic, patient: Patient, *, visited_at: datetime) -> None:
    """Keep the カルテ's first visit date (初検日) at the earliest visit."""
    day = visited_at.astimezone(ZoneInfo(clinic.timezone)).date()
    if patient.first_visit_on is None or day < patient.first_visit_on:
        patient.first_visit_on = day
