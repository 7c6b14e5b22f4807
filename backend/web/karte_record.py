"""施術録 on the dashboard: one visit's entry (負傷日・原因・部位, 症状, 施術内容, 経過, 転帰)
and what was paid, written and corrected by staff.

An entry is amended, never silently rewritten (DESIGN rule 6): every save goes through
`visits.amend` with a reason, which keeps the earlier and the new value of each field it
touches, and the page shows that history. Opening the page is an audited read
(`visits.get`), saving an audited change. The form is checked with the API's input rules
(`schemas.VisitAmend`), and what staff typed is kept when anything is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from backend import visits
from backend.api import schemas
from backend.errors import NotFound
from backend.models import Clinic, Outcome, Visit, VisitAmendment
from backend.web import form_text, karte_form, karte_view, today
from backend.web.answers import ACTOR

TEXT_FIELDS = ("injury_cause", "injury_part", "symptoms", "treatment", "progress")
DAY_FIELDS = ("injury_on", "completed_on")
AMOUNTS = {
    "copay": "copay_yen",
    "claim": "claim_yen",
    "self_pay": "self_pay_yen",
    "ticket": "ticket_yen",
}
LABELS = {
    "injury_on": "負傷日",
    "injury_cause": "負傷の原因",
    "injury_part": "負傷部位",
    "symptoms": "症状",
    "treatment": "施術内容",
    "progress": "経過",
    "outcome": "転帰",
    "completed_on": "治癒・中止・転医の日",
    "copay_yen": "窓口負担（保険）",
    "claim_yen": "保険請求",
    "self_pay_yen": "自費",
    "ticket_yen": "回数券",
}
OUTCOME_CHOICES = tuple((outcome.value, word) for outcome, word in karte_view.OUTCOME_WORDS.items())
FIRST_REASON = "記入"  # what the reason starts as while the entry is still empty
REASON_ERROR = "記入・訂正の理由を入力してください。"
DAY_ERROR = "日付は「2026-11-30」のように入力してください。"
REFUSED_ERROR = "保存できませんでした。入力内容を確かめてください。入力はそのまま残っています。"
AMOUNT_ERROR = "金額は0以上の整数（円）で入力してください。なしは0です。"
FORM_TEXT = 10_000


class RecordForm(BaseModel):
    """The posted 施術録 form, exactly as typed."""

    csrf: str = Field("", max_length=100)
    injury_on: str = Field("", max_length=100)
    injury_cause: str = Field("", max_length=FORM_TEXT)
    injury_part: str = Field("", max_length=FORM_TEXT)
    symptoms: str = Field("", max_length=FORM_TEXT)
    treatment: str = Field("", max_length=FORM_TEXT)
    progress: str = Field("", max_length=FORM_TEXT)
    outcome: str = Field(Outcome.CONTINUING.value, max_length=20)
    completed_on: str = Field("", max_length=100)
    copay: str = Field("", max_length=100)
    claim: str = Field("", max_length=100)
    self_pay: str = Field("", max_length=100)
    ticket: str = Field("", max_length=100)
    reason: str = Field("", max_length=FORM_TEXT)


@dataclass(frozen=True)
class Change:
    """One field of an amendment, as staff read it."""

    label: str
    old: str
    new: str


@dataclass(frozen=True)
class Amendment:
    at: str
    actor: str
    reason: str
    changes: list[Change]


@dataclass(frozen=True)
class Record:
    """The 施術録 page of one visit."""

    visit_id: int
    patient_id: int
    patient_name: str
    day: str
    staff: str
    course: str
    minutes: str
    form: RecordForm
    history: list[Amendment]


def open_record(
    session: Session,
    *,
    clinic: Clinic,
    patient_id: int,
    visit_id: int,
    now: datetime,
    form: RecordForm | None = None,
) -> Record:
    """The page of a visit of this clinic's patient (an audited read), or NotFound."""
    visit = _visit(session, clinic, patient_id, visit_id)
    visits.get(session, visit_id=visit.id, actor=ACTOR, now=now)
    zone = ZoneInfo(clinic.timezone)
    local = visit.visited_at.astimezone(zone)
    return Record(
        visit_id=visit.id,
        patient_id=visit.patient_id,
        patient_name=visit.patient.name,
        day=f"{today.day_label(local.date())} {local:%H:%M}",
        staff=visit.staff.name if visit.staff else "未設定",
        course=visit.course.name if visit.course else "未設定",
        minutes=f"施術{visit.staff_minutes}分・機器{visit.machine_minutes}分",
        form=form or filled(visit),
        history=[_amendment(item, zone) for item in reversed(visit.amendments)],
    )


def filled(visit: Visit) -> RecordForm:
    """The form showing the stored entry; the reason starts as 「記入」 while it is empty."""
    texts = {name: getattr(visit, name) or "" for name in TEXT_FIELDS}
    days = {
        name: getattr(visit, name).isoformat() if getattr(visit, name) else ""
        for name in DAY_FIELDS
    }
    amounts = {field: str(getattr(visit, column)) for field, column in AMOUNTS.items()}
    empty = not any(texts.values()) and not any(days.values()) and not visit.amendments
    return RecordForm(
        **texts,
        **days,
        **amounts,
        outcome=visit.outcome.value,
        reason=FIRST_REASON if empty else "",
    )


def save(
    session: Session,
    *,
    clinic: Clinic,
    patient_id: int,
    visit_id: int,
    form: RecordForm,
    now: datetime,
) -> tuple[bool, dict[str, str]]:
    """Amend the entry with what the form says; (whether anything changed, the refusals by
    field). Nothing is written when a field is refused, or when nothing changed."""
    visit = _visit(session, clinic, patient_id, visit_id)
    raw, errors = _raw(form)
    # A blank reason is fine when nothing changed, so the API's rules (which require one)
    # check a stand-in; whether the reason is needed is decided once the changes are known.
    try:
        checked = schemas.VisitAmend.model_validate(raw | {"reason": form.reason.strip() or "-"})
    except ValidationError as exc:
        errors = karte_form.messages(exc.errors()) | errors
    if errors:
        return False, errors
    changes = checked.changes()
    if all(getattr(visit, name) == value for name, value in changes.items()):
        return False, {}
    if not form.reason.strip():
        return False, {"reason": REASON_ERROR}
    visits.amend(session, visit_id=visit.id, actor=ACTOR, now=now, reason=form.reason, **changes)
    return True, {}


def _visit(session: Session, clinic: Clinic, patient_id: int, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None or visit.clinic_id != clinic.id or visit.patient_id != patient_id:
        raise NotFound(f"visit {visit_id} not found", field="visit_id")
    return visit


def _raw(form: RecordForm) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as the API's amendment would send it, and what cannot be read at all."""
    raw: dict[str, Any] = {name: form_text.text(getattr(form, name)) for name in TEXT_FIELDS}
    errors: dict[str, str] = {}
    for name in DAY_FIELDS:
        text = form_text.plain(getattr(form, name))
        raw[name] = form_text.day(text) if text else None
        if text and raw[name] is None:
            errors[name] = DAY_ERROR
    raw["outcome"] = form.outcome
    for field, column in AMOUNTS.items():
        raw[column] = form_text.yen(getattr(form, field))
        if raw[column] is None:
            errors[column] = AMOUNT_ERROR
    return raw, errors


def _amendment(item: VisitAmendment, zone: ZoneInfo) -> Amendment:
    local = item.at.astimezone(zone)
    changes = [
        Change(
            LABELS.get(name, name), _shown(name, values.get("old")), _shown(name, values.get("new"))
        )
        for name, values in item.changes.items()
    ]
    actor = "受付画面" if item.actor == ACTOR else item.actor
    return Amendment(
        f"{today.day_label(local.date())} {local:%H:%M}", actor, item.reason or "", changes
    )


def _shown(name: str, value: Any) -> str:
    if value is None or value == "":
        return "（空欄）"
    if name == "outcome":
        try:
            return karte_view.OUTCOME_WORDS[Outcome(value)]
        except ValueError:
            return str(value)
    if name.endswith("_yen") and isinstance(value, int):
        return f"{value:,}円"
    return str(value)
