"""Rule templates: defaults for every rule, placeholders checked when saved (never at send
time), rendering without evaluation, parameters checked by name."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from backend import message_rules
from backend.errors import Invalid
from backend.models import RuleKind
from tests.factories import NOW, make_clinic

# Words about the body have no place in any message (DESIGN rule 6).
HEALTH_WORDS = ("痛み", "症状", "腰", "肩", "首", "怪我", "ケガ", "治療", "負傷", "診断")


@pytest.mark.parametrize("kind", list(message_rules.DEFAULTS))
def test_every_default_template_passes_its_own_check_and_says_nothing_medical(
    kind: RuleKind,
) -> None:
    default = message_rules.DEFAULTS[kind]
    assert message_rules.check(kind, default.template) == default.template
    for name in default.template_params:
        message_rules.check(kind, default.params[name])
    assert not [word for word in HEALTH_WORDS if word in default.template]


def test_the_waitlist_has_no_rule_here() -> None:
    assert RuleKind.WAITLIST not in message_rules.DEFAULTS
    assert len(message_rules.DEFAULTS) == len(RuleKind) - 1


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{patient_name}様 {birthday}", "不明な差し込み項目 {birthday} です。"),
        ("{patient_name.__class__}", "使えない差し込み項目です"),
        ("{patient_name!r}", "使えない差し込み項目です"),
        ("{time:>10}", "使えない差し込み項目です"),
        ("{patient_name", "テンプレートの括弧が正しくありません"),
        ("   ", "テンプレートが空です"),
    ],
)
def test_a_bad_template_is_refused_when_saved(template: str, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        message_rules.check(RuleKind.DAY_BEFORE, template)
    assert message in refused.value.message


def test_placeholders_are_per_rule() -> None:
    message_rules.check(RuleKind.DAY_BEFORE, "{date} {time}")
    with pytest.raises(Invalid, match=r"\{date\}"):
        message_rules.check(RuleKind.BIRTHDAY, "{patient_name}様 {date}")


def test_rendering_fills_values_and_keeps_literal_braces() -> None:
    text = message_rules.render(
        "{patient_name}様、{{ご案内}} {days}日", {"patient_name": "佐藤 花子", "days": 3}
    )
    assert text == "佐藤 花子様、{ご案内} 3日"


def test_ensure_rules_creates_each_rule_once_with_its_defaults(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    first = message_rules.ensure_rules(session, clinic=clinic, now=NOW)
    again = message_rules.ensure_rules(session, clinic=clinic, now=NOW)

    assert [rule.id for rule in first] == [rule.id for rule in again]
    by_kind = {rule.kind: rule for rule in first}
    assert by_kind[RuleKind.DAY_BEFORE].params == {"send_at": "18:00"}
    assert by_kind[RuleKind.SAME_DAY].enabled is False
    assert by_kind[RuleKind.SECOND_VISIT].params["days"] == 3
    assert by_kind[RuleKind.LAPSED].params["thresholds"] == [30, 60, 90]
    assert by_kind[RuleKind.STAFF_DIGEST].params == {"send_at": "19:00"}


def test_saving_checks_the_template_and_the_parameter_names(session: Session) -> None:
    clinic = make_clinic(session, hours=False)
    rule = message_rules.find(session, clinic_id=clinic.id, kind=RuleKind.DAY_BEFORE)
    assert rule is None
    rule = message_rules.ensure_rules(session, clinic=clinic, now=NOW)[1]

    message_rules.set_template(rule, template="{patient_name}様 明日{time}です", now=NOW)
    assert rule.template == "{patient_name}様 明日{time}です"
    with pytest.raises(Invalid, match="不明なパラメータ send_time"):
        message_rules.set_param(rule, name="send_time", value="17:00", now=NOW)
    seasonal = message_rules.ensure_rules(session, clinic=clinic, now=NOW)[8]
    with pytest.raises(Invalid, match="MM-DD"):
        message_rules.set_param(seasonal, name="dates", value=[{"on": "13-40"}], now=NOW)
    confirmation = message_rules.ensure_rules(session, clinic=clinic, now=NOW)[0]
    with pytest.raises(Invalid, match=r"\{reason\}"):
        message_rules.set_param(confirmation, name="cancelled_template", value="{reason}", now=NOW)
    assert rule.template == "{patient_name}様 明日{time}です"
