"""The カルテ edit form: name, kana, birthday, gender, 来院経路, contact, 会話メモ, tags,
次回来院の可能性 and consents.

The form is checked with the API's own input rules (`schemas.PatientUpdate`), the domain's
phone check and, for the identity fields, the clinic's day and media (`karte_identity`);
every refusal is explained in Japanese next to its field, and the form keeps what staff
typed, so a refused form loses nothing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails

from backend import patients
from backend.api import schemas
from backend.conversation import words
from backend.errors import Invalid
from backend.models import Gender, Likelihood, Patient
from backend.web import form_text, karte_identity

CONSENT_LABELS = {
    "consent_line": "LINE",
    "consent_sms": "SMS",
    "consent_email": "メール",
    "consent_post": "郵送（DM・年賀状）",
}
NOTE_LABELS = {
    "note_family": "家族構成",
    "note_job": "職業",
    "note_hobbies": "趣味",
    "note_likes": "好きなもの",
    "note_last_conversation": "前回の会話",
}
LIKELIHOOD_CHOICES = (
    (Likelihood.UNKNOWN.value, "未記入"),
    (Likelihood.HIGH.value, "高い"),
    (Likelihood.MEDIUM.value, "ふつう"),
    (Likelihood.LOW.value, "低い"),
)
TEXT_FIELDS = ("kana", "phone", "email", "postal_code", "address", *NOTE_LABELS)
# Far past every column's limit, so an overlong entry reaches the Japanese message at its
# field; beyond it the framework refuses the form, and a browser gets the general Japanese
# page of backend.api.errors (nothing changed; Back keeps what was typed).
FORM_TEXT = 10_000
SEEN_TEXT = 100_000
TAG_SEPARATORS = re.compile(r"[,、，\n]+")

PHONE_ERROR = "電話番号として正しくありません。例: 090-1234-5678、03-1234-5678"
STALE_ERROR = (
    "この画面を開いた後に、別の画面でカルテが更新されました。赤字の項目は両方の画面で"
    "変更されています（表示はあなたの入力です）。ほかの項目は最新の内容にしてあります。"
    "確かめてから、もう一度保存してください。"
)
MERGED_ERROR = "このカルテは統合済みのため編集できません。統合先のカルテを開いてください。"
CHECK_ERROR = "入力内容を確認してください。"
NAME_ERROR = "お名前を入力してください。"
PATTERN_ERRORS = {
    "email": "メールアドレスの形式が正しくありません。例: hanako@example.jp",
    "postal_code": "郵便番号は7桁の数字で入力してください。例: 150-0001",
}
CONTROL_ERROR = "使えない文字（制御文字）が含まれています。"
# The API's refusals that mean one thing whatever rule it was (the birthday's: its years).
FIELD_MESSAGES = {
    "tags": "タグは20個まで、1つ50文字以内で入力してください。",
    "birth_on": karte_identity.BIRTH_RANGE_ERROR,
    **dict.fromkeys(("gender", "media_id", "next_visit_likelihood"), karte_identity.CHOOSE_ERROR),
}
# Domain refusals that are not about one input: shown above the form.
FORM_ERRORS = {"patient_id": MERGED_ERROR}


class KarteForm(BaseModel):
    """The posted form, exactly as typed."""

    csrf: str = Field("", max_length=100)
    version: str = Field("", max_length=100)
    seen: str = Field("", max_length=SEEN_TEXT)  # what it showed when opened: karte_merge
    name: str = Field("", max_length=FORM_TEXT)
    name_verified: bool = False  # staff tick it once the patient confirmed a phone-taken name
    kana: str = Field("", max_length=FORM_TEXT)
    birth_on: str = Field("", max_length=100)
    gender: str = Field(Gender.UNKNOWN.value, max_length=20)
    media_id: str = Field("", max_length=20)
    phone: str = Field("", max_length=FORM_TEXT)
    email: str = Field("", max_length=FORM_TEXT)
    postal_code: str = Field("", max_length=FORM_TEXT)
    address: str = Field("", max_length=FORM_TEXT)
    note_family: str = Field("", max_length=FORM_TEXT)
    note_job: str = Field("", max_length=FORM_TEXT)
    note_hobbies: str = Field("", max_length=FORM_TEXT)
    note_likes: str = Field("", max_length=FORM_TEXT)
    note_last_conversation: str = Field("", max_length=FORM_TEXT)
    tags: str = Field("", max_length=FORM_TEXT)
    next_visit_likelihood: str = Field(Likelihood.UNKNOWN.value, max_length=20)
    consent_line: bool = False
    consent_sms: bool = False
    consent_email: bool = False
    consent_post: bool = False
    # A new カルテ only: staff say the phone number another カルテ has is someone else's.
    someone_else: bool = False


# What staff edit; not the form's own bookkeeping, nor the ticks that confirm a name or a
# shared phone number (actions, not values).
EDITABLE = tuple(
    name
    for name in KarteForm.model_fields
    if name not in {"csrf", "version", "seen", "name_verified", "someone_else"}
)


@dataclass(frozen=True)
class Checked:
    """The changes for `patients.update`, or Japanese messages by field."""

    changes: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def version(patient: Patient) -> str:
    """What the form carries back, to notice a change saved meanwhile from another screen."""
    return patient.updated_at.isoformat()


def filled(patient: Patient) -> KarteForm:
    """The form showing the stored カルテ, carrying what it shows."""
    texts = {name: getattr(patient, name) or "" for name in TEXT_FIELDS}
    form = KarteForm(
        version=version(patient),
        name=patient.name,
        birth_on=patient.birth_on.isoformat() if patient.birth_on else "",
        gender=patient.gender.value,
        media_id=str(patient.media_id or ""),
        **(texts | {"phone": words.phone(patient.phone)}),
        tags="、".join(tag.tag for tag in patient.tags),
        next_visit_likelihood=patient.next_visit_likelihood.value,
        **{name: getattr(patient, name) for name in CONSENT_LABELS},
    )
    return form.model_copy(update={"seen": snapshot(form)})


def snapshot(form: KarteForm) -> str:
    """What the form shows, as its `seen` field carries it."""
    values = {name: getattr(form, name) for name in EDITABLE}
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def check(form: KarteForm, offered: karte_identity.Choices) -> Checked:
    """Check the form as the API checks a PATCH; empty fields clear their value (the name
    cannot be cleared)."""
    raw = _raw(form)
    errors: dict[str, str] = {}
    try:
        update = schemas.PatientUpdate.model_validate(raw)
    except ValidationError as exc:
        errors = messages(exc.errors())
    errors |= karte_identity.refusals(form.birth_on, form.media_id, offered)
    if raw["phone"] is not None and "phone" not in errors:
        try:
            patients.normalize_phone(raw["phone"])
        except Invalid:
            errors["phone"] = PHONE_ERROR
    if errors:
        return Checked(errors=errors)
    return Checked(changes=update.model_dump(exclude_unset=True))


def refused(exc: Invalid) -> dict[str, str]:
    """A domain refusal as a message by field ("form" for the form as a whole)."""
    name = str(exc.context.get("field") or "form")
    if name in FORM_ERRORS:
        return {"form": FORM_ERRORS[name]}
    return {name: PHONE_ERROR if name == "phone" else CHECK_ERROR}


def _raw(form: KarteForm) -> dict[str, Any]:
    raw: dict[str, Any] = {name: form_text.text(getattr(form, name)) for name in TEXT_FIELDS}
    raw["name"] = form_text.text(form.name) or ""  # a short name, not a cleared one: see _message
    raw["gender"] = form.gender
    raw |= karte_identity.raw(form.birth_on, form.media_id)
    for name in ("email", "postal_code"):
        # Full-width ＠ and digits are what a Japanese keyboard often types.
        if raw[name] is not None:
            raw[name] = unicodedata.normalize("NFKC", raw[name])
    raw["tags"] = [tag.strip() for tag in TAG_SEPARATORS.split(form.tags) if tag.strip()]
    raw["next_visit_likelihood"] = form.next_visit_likelihood
    return raw | {name: getattr(form, name) for name in CONSENT_LABELS}


def messages(details: list[ErrorDetails]) -> dict[str, str]:
    """The API's refusals of a form, as a Japanese message by field (the first for each)."""
    errors: dict[str, str] = {}
    for detail in details:
        name = str(detail["loc"][0]) if detail["loc"] else "form"
        errors.setdefault(name, _message(name, detail))
    return errors


def _message(name: str, detail: ErrorDetails) -> str:
    kind = detail["type"]
    if name in FIELD_MESSAGES:
        return FIELD_MESSAGES[name]
    if name == "name" and kind == "string_too_short":
        return NAME_ERROR
    if kind in ("string_too_long", "too_long"):
        return f"{(detail.get('ctx') or {}).get('max_length')}文字以内で入力してください。"
    if kind == "string_pattern_mismatch":
        return PATTERN_ERRORS.get(name, CHECK_ERROR)
    return CONTROL_ERROR if kind == "value_error" else CHECK_ERROR
