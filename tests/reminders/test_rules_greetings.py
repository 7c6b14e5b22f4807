"""Birthday and seasonal greetings: on the day, from the send time, once, with consent."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from backend import message_rules
from backend.models import MessageKind, RuleKind
from tests.factories import NOW, jst
from tests.reminders.rules_calendar import line_text, open_world


def test_the_birthday_message_comes_on_the_day_once(session: Session) -> None:
    world = open_world(session)
    world.patient("line", birth_on=date(1985, 12, 3))
    world.patient("line", line_user_id="Unoconsent", birth_on=date(1990, 12, 3), consent=False)
    world.patient("line", line_user_id="Uother", birth_on=date(1985, 12, 4))

    assert world.run(RuleKind.BIRTHDAY, jst(2026, 12, 3, 9, 59)) == 0
    assert world.run(RuleKind.BIRTHDAY, jst(2026, 12, 3, 10)) == 1
    assert world.run(RuleKind.BIRTHDAY, jst(2026, 12, 3, 15)) == 0

    [row] = world.queued(RuleKind.BIRTHDAY)
    assert row.kind == MessageKind.MARKETING
    assert line_text(row).startswith("佐藤 花子様\nお誕生日おめでとうございます。")
    assert row.idempotency_key == f"rule:birthday:{row.patient_id}:2026"


def test_a_29_february_birthday_is_greeted_on_the_28th_in_other_years(session: Session) -> None:
    world = open_world(session)
    world.patient("line", birth_on=date(1988, 2, 29))

    assert world.run(RuleKind.BIRTHDAY, jst(2027, 2, 28, 10)) == 1


def test_seasonal_greetings_go_to_recent_patients_on_the_set_date(session: Session) -> None:
    world = open_world(session)
    recent = world.patient("line")
    world.visit(recent, jst(2026, 11, 30, 10))
    world.patient("line", line_user_id="Unever")  # never came: no greeting
    greeting = {"on": "12-20", "greeting": "年末年始は12月29日から1月3日まで休診いたします。"}
    message_rules.set_param(world.rule(RuleKind.SEASONAL), name="dates", value=[greeting], now=NOW)

    assert world.run(RuleKind.SEASONAL, jst(2026, 12, 19, 10)) == 0
    assert world.run(RuleKind.SEASONAL, jst(2026, 12, 20, 10)) == 1
    assert world.run(RuleKind.SEASONAL, jst(2026, 12, 20, 11)) == 0
    assert world.run(RuleKind.SEASONAL, jst(2026, 12, 21, 10)) == 0

    [row] = world.queued(RuleKind.SEASONAL)
    assert row.patient_id == recent.id
    assert line_text(row) == (
        "佐藤 花子様\n年末年始は12月29日から1月3日まで休診いたします。\n"
        "テスト整骨院（03-1234-5678）"
    )
