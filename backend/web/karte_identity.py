"""The identity part of the カルテ form: お名前, フリガナ, 生年月日, 性別 and 来院経路.

What the API's input rules cannot know is checked here against the clinic and the day: a
birthday must have come already, and a 来院経路 must be one the form offered — the clinic's
media as the LINE registration lists them, plus the patient's own if it is no longer listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.dialogue import facts
from backend.models import Clinic, Gender, Patient
from backend.web import form_text, today

GENDER_WORDS = {
    Gender.FEMALE: "女性",
    Gender.MALE: "男性",
    Gender.OTHER: "その他",
    Gender.UNKNOWN: "未回答",
}
GENDER_CHOICES = tuple((gender.value, word) for gender, word in GENDER_WORDS.items())
NO_MEDIUM = ("", "未設定")
UNLISTED = "（現在は使われていない経路）"

BIRTH_FORMAT_ERROR = "生年月日は「1985-04-01」のように入力してください。"
BIRTH_MISSING_ERROR = "その日付はありません。月と日を確かめてください。"
BIRTH_FUTURE_ERROR = "今日より後の日付は生年月日にできません。"
BIRTH_RANGE_ERROR = "生年月日は1900年1月1日以降の日付で入力してください。"
CHOOSE_ERROR = "一覧から選んでください。"

# What a date field posts (2026-11-30), and what a keyboard may type where it is not one.
_NUMBER = re.compile(r"[0-9]{1,20}")  # ASCII only: int() would take "١" but not "²"


@dataclass(frozen=True)
class Choices:
    """What the identity fields may hold for one patient on one day of the clinic."""

    today: date
    media: tuple[tuple[str, str], ...]  # (media id, name), 未設定 first


def choices(session: Session, *, clinic: Clinic, patient: Patient | None, now: datetime) -> Choices:
    """The day, and the 来院経路 the form offers this patient (or a new one: None)."""
    listed = facts.clinic_facts(session, clinic.id).media
    media = [NO_MEDIUM, *((str(item.id), item.name) for item in listed)]
    if (
        patient is not None
        and patient.media is not None
        and all(item.id != patient.media_id for item in listed)
    ):
        # A retired medium stays selectable for whoever came through it, so saving another
        # field does not clear it.
        media.append((str(patient.media.id), patient.media.name + UNLISTED))
    return Choices(today=today.local_day(clinic, now), media=tuple(media))


def raw(birth_on: str, media_id: str) -> dict[str, Any]:
    """The birthday and medium as `schemas.PatientUpdate` takes them; empty is unknown, and
    what cannot be read is left to `refusals` (the birthday) or to the API's rules."""
    text = media_id.strip()
    medium = int(text) if _NUMBER.fullmatch(text) else text or None
    return {"birth_on": form_text.day(birth_on), "media_id": medium}


def refusals(birth_on: str, media_id: str, offered: Choices) -> dict[str, str]:
    """Japanese messages by field for what the API's rules let through."""
    errors: dict[str, str] = {}
    birth_error = _birth_error(form_text.plain(birth_on), offered.today)
    if birth_error:
        errors["birth_on"] = birth_error
    if media_id.strip() not in {value for value, _ in offered.media}:
        errors["media_id"] = CHOOSE_ERROR
    return errors


def verified(changes: dict[str, Any], patient: Patient, *, confirmed: bool) -> dict[str, Any]:
    """Staff who save a new name, or tick that the patient confirmed it, have checked it: a
    name taken from a phone call becomes verified, as the API's `name_verified` says."""
    if confirmed or changes.get("name", patient.name) != patient.name:
        return changes | {"name_verified": True}
    return changes


def _birth_error(text: str, today_on: date) -> str | None:
    if not text:
        return None  # unknown
    if form_text.DAY.fullmatch(text) is None:
        return BIRTH_FORMAT_ERROR
    born = form_text.day(text)
    if born is None:
        return BIRTH_MISSING_ERROR
    return BIRTH_FUTURE_ERROR if born > today_on else None
