"""Thanks after a first visit, the second-visit follow-up, the next-visit nudge and the
lapsed-patient messages, on a fixed calendar: a first visit on Monday 30 November 2026,
10:00 in Tokyo, with a course whose revisit interval is 7 days."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend import message_rules
from backend.models import Channel, MessageKind, RuleKind
from tests.factories import NOW, jst
from tests.reminders.rules_calendar import line_text, open_world

FIRST = jst(2026, 11, 30, 10)

OPT_OUT = "\n配信停止は「停止」と返信、またはお電話（03-1234-5678）で"


def test_thanks_come_two_hours_after_the_first_visit_only(session: Session) -> None:
    world = open_world(session)
    new = world.patient("line")
    world.visit(new, FIRST)
    regular = world.patient("line", line_user_id="Uregular", name="常連 さん")
    world.visit(regular, jst(2026, 11, 2, 10))
    world.visit(regular, FIRST)

    assert world.run(RuleKind.THANK_YOU, jst(2026, 11, 30, 11, 59)) == 0
    assert world.run(RuleKind.THANK_YOU, jst(2026, 11, 30, 12)) == 1
    assert world.run(RuleKind.THANK_YOU, jst(2026, 11, 30, 13)) == 0

    [row] = world.queued(RuleKind.THANK_YOU)
    assert row.patient_id == new.id
    assert row.kind == MessageKind.TRANSACTIONAL
    assert line_text(row).startswith(
        "佐藤 花子様\n本日はテスト整骨院にご来院いただき、ありがとうございました。"
    )


def test_thanks_are_not_sent_more_than_a_day_late(session: Session) -> None:
    world = open_world(session)
    world.visit(world.patient("line"), FIRST)

    assert world.run(RuleKind.THANK_YOU, jst(2026, 12, 1, 12, 1)) == 0


def test_the_second_visit_follow_up_comes_three_days_after_the_first(session: Session) -> None:
    world = open_world(session)
    world.visit(world.patient("line"), FIRST)

    assert world.run(RuleKind.SECOND_VISIT, jst(2026, 12, 2, 10)) == 0
    assert world.run(RuleKind.SECOND_VISIT, jst(2026, 12, 3, 9, 59)) == 0
    assert world.run(RuleKind.SECOND_VISIT, jst(2026, 12, 3, 10)) == 1
    assert world.run(RuleKind.SECOND_VISIT, jst(2026, 12, 4, 10)) == 0

    [row] = world.queued(RuleKind.SECOND_VISIT)
    assert row.kind == MessageKind.MARKETING
    assert "先日はご来院ありがとうございました。" in line_text(row)


def test_no_follow_up_without_consent_with_a_booking_or_a_second_visit(
    session: Session,
) -> None:
    world = open_world(session)
    world.visit(world.patient("line", consent=False), FIRST)
    booked = world.patient("line", line_user_id="Ubooked")
    world.visit(booked, FIRST)
    world.confirmed(booked, jst(2026, 12, 7, 10))
    returned = world.patient("line", line_user_id="Ureturned")
    world.visit(returned, FIRST)
    world.visit(returned, jst(2026, 12, 2, 10))

    assert world.run(RuleKind.SECOND_VISIT, jst(2026, 12, 3, 10)) == 0


def test_the_next_visit_nudge_comes_when_the_revisit_interval_has_passed(
    session: Session,
) -> None:
    world = open_world(session)
    world.visit(world.patient("line"), FIRST)

    assert world.run(RuleKind.NEXT_VISIT, jst(2026, 12, 6, 10)) == 0
    assert world.run(RuleKind.NEXT_VISIT, jst(2026, 12, 7, 10)) == 1
    assert world.run(RuleKind.NEXT_VISIT, jst(2026, 12, 8, 10)) == 0
    assert "前回のご来院から7日が経ちました。" in line_text(world.queued(RuleKind.NEXT_VISIT)[0])


def test_the_next_visit_nudge_is_not_sent_long_after_it_was_due(session: Session) -> None:
    world = open_world(session)
    world.visit(world.patient("line"), FIRST)

    assert world.run(RuleKind.NEXT_VISIT, jst(2026, 12, 10, 10)) == 0


def test_each_lapse_threshold_fires_once_per_lapse(session: Session) -> None:
    world = open_world(session)
    patient = world.patient("line")
    world.visit(patient, FIRST)

    assert world.run(RuleKind.LAPSED, jst(2026, 12, 29, 10)) == 0
    assert world.run(RuleKind.LAPSED, jst(2026, 12, 30, 10)) == 1  # 30 days
    assert world.run(RuleKind.LAPSED, jst(2026, 12, 31, 10)) == 0
    assert world.run(RuleKind.LAPSED, jst(2027, 1, 29, 10)) == 1  # 60 days
    # The patient comes back, then lapses again: 30 days after the new visit, once more.
    world.visit(patient, jst(2027, 2, 1, 10))
    assert world.run(RuleKind.LAPSED, jst(2027, 3, 3, 10)) == 1

    keys = [row.idempotency_key for row in world.queued(RuleKind.LAPSED)]
    assert keys == [
        f"rule:lapsed:{patient.id}:2026-11-30:30",
        f"rule:lapsed:{patient.id}:2026-11-30:60",
        f"rule:lapsed:{patient.id}:2027-02-01:30",
    ]


def test_lapse_thresholds_are_configurable_and_never_sent_weeks_late(session: Session) -> None:
    world = open_world(session)
    world.visit(world.patient("line"), FIRST)
    message_rules.set_param(world.rule(RuleKind.LAPSED), name="thresholds", value=[45], now=NOW)

    assert world.run(RuleKind.LAPSED, jst(2026, 12, 30, 10)) == 0
    assert world.run(RuleKind.LAPSED, jst(2027, 1, 24, 10)) == 0  # 55 days: long past 45
    assert world.run(RuleKind.LAPSED, jst(2027, 1, 14, 10)) == 1  # 45 days


def test_marketing_waits_for_the_morning_and_says_how_to_stop_by_sms(session: Session) -> None:
    world = open_world(session)
    world.visit(world.patient("sms"), FIRST)
    message_rules.set_param(world.rule(RuleKind.LAPSED), name="send_at", value="22:00", now=NOW)

    assert world.run(RuleKind.LAPSED, jst(2026, 12, 30, 22)) == 1

    [row] = world.queued(RuleKind.LAPSED)
    assert row.channel == Channel.SMS
    assert row.due_at == jst(2026, 12, 31, 9)  # quiet hours end at 9:00
    assert row.payload["text"].endswith(OPT_OUT)


def test_marketing_respects_the_cap_and_per_channel_consent(session: Session) -> None:
    world = open_world(session)
    capped = world.patient("line")
    world.visit(capped, FIRST)
    no_line_consent = world.patient("line", line_user_id="Unoconsent", consent_line=False)
    world.visit(no_line_consent, FIRST)
    assert world.run(RuleKind.NEXT_VISIT, jst(2026, 12, 7, 10)) == 1

    # Three days later the same patient would lapse-nudge again: the 7-day cap holds it.
    message_rules.set_param(world.rule(RuleKind.LAPSED), name="thresholds", value=[10], now=NOW)
    assert world.run(RuleKind.LAPSED, jst(2026, 12, 10, 10)) == 0
    assert [row.patient_id for row in world.queued()] == [capped.id]
