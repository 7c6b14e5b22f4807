"""The clinic's message rules: each on or off, with an editable Japanese template and its
parameters (issue 5).

A template is plain text with placeholders in braces, such as ``{patient_name}様``. Each
rule allows its own placeholders; a template naming any other is refused when it is saved
(`check`), so a send never fails on a typo. Rendering only substitutes the allowed names:
no attribute access, no format specs, nothing evaluated.

This module lives in the backend (not in reminders/) because the confirmation rule is
applied where the ledger changes (backend/notify.py), and the backend never imports the
reminders package.
"""

from __future__ import annotations

import copy
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.conversation import words
from backend.errors import Invalid
from backend.models import Booking, Clinic, MessageRule, RuleKind

_BASE = frozenset({"patient_name", "clinic_name", "clinic_phone"})
_BOOKING = _BASE | {"date", "time", "course", "staff"}


@dataclass(frozen=True)
class Default:
    """What a rule starts with: on or off, its template, its parameters, and which of the
    parameters are templates too (checked like the main one)."""

    enabled: bool
    template: str
    params: Mapping[str, Any]
    placeholders: frozenset[str]
    template_params: tuple[str, ...] = ()


_CLOSING = "\n{clinic_name}（{clinic_phone}）"

DEFAULTS: dict[RuleKind, Default] = {
    RuleKind.CONFIRMATION: Default(
        True,
        "ご予約が確定しました。\n{date} {time}〜 {course}\n"
        "ご来院をお待ちしております。変更・キャンセルは「予約確認」からどうぞ。",
        {
            "moved_template": "ご予約の日時を変更いたしました。\n{date} {time}〜 {course}\n"
            "ご来院をお待ちしております。ご都合が合わない場合は「予約確認」からどうぞ。",
            "cancelled_template": "誠に申し訳ございません。{date} {time}〜 {course} のご予約を"
            "キャンセルさせていただきました。",
        },
        _BOOKING,
        ("moved_template", "cancelled_template"),
    ),
    RuleKind.DAY_BEFORE: Default(
        True,
        "{patient_name}様\n明日 {date} {time}〜 {course} のご予約をいただいております。"
        "ご来院をお待ちしております。" + _CLOSING,
        {"send_at": "18:00"},
        _BOOKING,
    ),
    RuleKind.SAME_DAY: Default(
        False,
        "{patient_name}様\n本日 {time}〜 {course} のご予約です。"
        "どうぞお気をつけてお越しください。" + _CLOSING,
        {"hours_before": 3},
        _BOOKING,
    ),
    RuleKind.THANK_YOU: Default(
        True,
        "{patient_name}様\n本日は{clinic_name}にご来院いただき、ありがとうございました。"
        "ご不明な点がございましたら、お気軽にお問い合わせください。" + _CLOSING,
        {"hours_after": 2},
        _BASE,
    ),
    RuleKind.SECOND_VISIT: Default(
        True,
        "{patient_name}様\n先日はご来院ありがとうございました。その後お変わりございませんか。"
        "次回のご予約は「予約」と送っていただくと、空いている日時をご案内します。" + _CLOSING,
        {"days": 3, "send_at": "10:00"},
        _BASE | {"days"},
    ),
    RuleKind.NEXT_VISIT: Default(
        True,
        "{patient_name}様\n前回のご来院から{days}日が経ちました。"
        "そろそろ次回のご来院はいかがでしょうか。「予約」と送っていただくとご予約いただけます。"
        + _CLOSING,
        {"send_at": "10:00"},
        _BASE | {"days", "course"},
    ),
    RuleKind.LAPSED: Default(
        True,
        "{patient_name}様\nご無沙汰しております。{clinic_name}です。"
        "お近くにお越しの際は、ぜひまたお立ち寄りください。"
        "ご予約は「予約」と送っていただくか、お電話でどうぞ。" + _CLOSING,
        {"thresholds": [30, 60, 90], "send_at": "10:00"},
        _BASE | {"days"},
    ),
    RuleKind.BIRTHDAY: Default(
        True,
        "{patient_name}様\nお誕生日おめでとうございます。"
        "すてきな一年になりますよう、スタッフ一同お祈りしております。" + _CLOSING,
        {"send_at": "10:00"},
        _BASE,
    ),
    RuleKind.SEASONAL: Default(
        True,
        "{patient_name}様\n{greeting}" + _CLOSING,
        {
            "send_at": "10:00",
            "dates": [
                {
                    "on": "07-20",
                    "greeting": "暑中お見舞い申し上げます。暑い日が続きますので、"
                    "どうぞご自愛ください。",
                },
                {
                    "on": "12-20",
                    "greeting": "本年も大変お世話になりました。"
                    "年末年始の診療日はお電話またはLINEでご確認ください。"
                    "来年もどうぞよろしくお願いいたします。",
                },
            ],
        },
        _BASE | {"greeting"},
    ),
    RuleKind.NO_SHOW: Default(
        True,
        "{patient_name}様\n{date} {time}〜のご予約の際はお会いできず残念でした。"
        "またのご来院をお待ちしております。ご都合のよい日時がございましたら、"
        "「予約」と送っていただくか、お電話でお知らせください。" + _CLOSING,
        {"send_at": "10:00"},
        _BOOKING,
    ),
    RuleKind.STAFF_DIGEST: Default(
        True,
        "【明日の予定】{date}\nご予約 {bookings}件／未対応のリクエスト {requests}件／"
        "折り返し待ちのお電話 {calls}件",
        {"send_at": "19:00"},
        frozenset({"clinic_name", "date", "bookings", "requests", "calls"}),
    ),
}


def placeholders(template: str) -> list[str]:
    """The placeholder names in `template`, in order; Invalid when it is malformed."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as err:
        raise Invalid(f"テンプレートの括弧が正しくありません: {err}", field="template") from err
    names = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise Invalid(f"使えない差し込み項目です: {{{name}}}", field="template")
        names.append(name)
    return names


def check(kind: RuleKind, template: str) -> str:
    """`template` if every placeholder is one the rule fills; Invalid naming the first
    unknown one (and the allowed ones) otherwise."""
    allowed = DEFAULTS[kind].placeholders
    if not template.strip():
        raise Invalid("テンプレートが空です", field="template")
    for name in placeholders(template):
        if name not in allowed:
            known = " ".join(f"{{{item}}}" for item in sorted(allowed))
            raise Invalid(
                f"不明な差し込み項目 {{{name}}} です。使えるもの: {known}", field="template"
            )
    return template


def render(template: str, values: Mapping[str, object]) -> str:
    """Fill the placeholders of a checked template with `values`."""
    out = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(str(values.get(name, "")))
    return "".join(out)


def booking_values(clinic: Clinic, booking: Booking) -> dict[str, str]:
    """What a booking's templates may say: names, the clinic's phone, the time, the menu."""
    start = booking.starts_at.astimezone(ZoneInfo(clinic.timezone))
    return {
        "patient_name": booking.patient.name,
        "clinic_name": clinic.name,
        "clinic_phone": words.phone(clinic.phone),
        "date": words.day(start.date()),
        "time": words.clock(start),
        "course": booking.course.name,
        "staff": booking.staff.name if booking.staff else "",
    }


def ensure_rules(session: Session, *, clinic: Clinic, now: datetime) -> list[MessageRule]:
    """The clinic's rules, creating the missing ones with their defaults (the waitlist's
    own rule is left to the waitlist)."""
    rules = {rule.kind: rule for rule in _rules(session, clinic.id)}
    for kind, default in DEFAULTS.items():
        if kind not in rules:
            rules[kind] = MessageRule(
                clinic_id=clinic.id,
                kind=kind,
                enabled=default.enabled,
                template=default.template,
                params=copy.deepcopy(dict(default.params)),
                updated_at=now,
            )
            session.add(rules[kind])
    session.flush()
    return [rules[kind] for kind in DEFAULTS]


def _rules(session: Session, clinic_id: int) -> list[MessageRule]:
    return list(session.scalars(select(MessageRule).where(MessageRule.clinic_id == clinic_id)))


def find(session: Session, *, clinic_id: int, kind: RuleKind) -> MessageRule | None:
    """The clinic's rule of `kind`, if it has been created."""
    return session.scalar(
        select(MessageRule).where(MessageRule.clinic_id == clinic_id, MessageRule.kind == kind)
    )


def template_of(rule: MessageRule | None, kind: RuleKind, param: str | None = None) -> str:
    """The rule's template (or its template parameter `param`), the default when unset."""
    default = DEFAULTS[kind]
    if param is None:
        return rule.template if rule is not None else default.template
    stored = rule.params.get(param) if rule is not None else None
    return str(stored) if isinstance(stored, str) else str(default.params[param])


def param(rule: MessageRule, name: str) -> Any:
    """A parameter of the rule, or its default."""
    return rule.params.get(name, DEFAULTS[rule.kind].params.get(name))


def set_template(rule: MessageRule, *, template: str, now: datetime) -> None:
    """Replace the rule's template after checking its placeholders."""
    rule.template = check(rule.kind, template)
    rule.updated_at = now


def set_param(rule: MessageRule, *, name: str, value: Any, now: datetime) -> None:
    """Set one parameter; a template parameter is checked like the template."""
    default = DEFAULTS[rule.kind]
    if name not in default.params:
        known = ", ".join(sorted(default.params)) or "なし"
        raise Invalid(f"不明なパラメータ {name} です。使えるもの: {known}", field="params")
    if name in default.template_params:
        check(rule.kind, str(value))
    elif name == "dates":
        _check_dates(rule.kind, value)
    rule.params = {**rule.params, name: value}
    rule.updated_at = now


def _check_dates(kind: RuleKind, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Invalid('dates は [{"on": "07-20", "greeting": "…"}] の形で指定します', field="dates")
    for item in value:
        on = str(item.get("on", ""))
        try:
            datetime.strptime(f"2024-{on}", "%Y-%m-%d")  # noqa: DTZ007 - a calendar check only
        except ValueError as err:
            raise Invalid(f"日付 {on!r} は MM-DD で指定します", field="dates") from err
        placeholders(str(item.get("greeting", "")))
