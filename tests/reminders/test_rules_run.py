"""`reminders.rules.run` over every clinic, the preview that queues nothing, and the
confirmation rule applied where bookings change (backend.notify)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking, message_rules, notify
from backend.models import Channel, MessageRule, OutboxMessage, RuleKind, Source
from reminders import rules
from tests.conftest import SessionStore
from tests.factories import NOW, jst
from tests.reminders.rules_calendar import line_text, open_world


def test_run_runs_every_enabled_rule_of_every_clinic_and_reports_counts(
    session: Session,
) -> None:
    world = open_world(session)
    world.confirmed(world.patient("line"), jst(2026, 12, 1, 10))
    other = open_world(session, name="となり鍼灸院")
    other.confirmed(other.patient("sms"), jst(2026, 12, 1, 10))
    store = SessionStore(session)

    report = rules.run(store, now=jst(2026, 11, 30, 18))
    again = rules.run(store, now=jst(2026, 11, 30, 18, 5))

    assert report["day_before"] == 2
    assert again["day_before"] == 0
    assert "same_day" not in report  # off by default
    assert set(report) == {kind.value for kind in rules.RULES} - {"same_day"}
    made = session.scalars(select(MessageRule).where(MessageRule.clinic_id == other.clinic.id))
    assert len(list(made)) == len(message_rules.DEFAULTS)


def test_a_disabled_rule_queues_nothing(session: Session) -> None:
    world = open_world(session)
    world.confirmed(world.patient("line"), jst(2026, 12, 1, 10))
    world.rule(RuleKind.DAY_BEFORE).enabled = False

    report = rules.run_clinic(session, clinic=world.clinic, now=jst(2026, 11, 30, 18))

    assert "day_before" not in report
    assert world.queued(RuleKind.DAY_BEFORE) == []


def test_preview_shows_the_messages_without_queueing_them(session: Session) -> None:
    world = open_world(session)
    world.confirmed(world.patient("line"), jst(2026, 12, 1, 10))

    shown = rules.preview(
        session,
        clinic=world.clinic,
        rule=world.rule(RuleKind.DAY_BEFORE),
        now=jst(2026, 11, 30, 18),
    )

    assert len(shown) == 1
    assert line_text(shown[0]).startswith("佐藤 花子様\n明日 12月1日(火) 10:00〜")
    assert world.queued(RuleKind.DAY_BEFORE) == []
    assert world.run(RuleKind.DAY_BEFORE, jst(2026, 11, 30, 18)) == 1  # still due for real


def _requested(world, patient):  # type: ignore[no-untyped-def]
    return booking.request(
        world.session,
        clinic_id=world.clinic.id,
        patient_id=patient.id,
        course_id=world.course.id,
        starts_at=jst(2026, 12, 1, 10),
        now=NOW,
        source=Source.PHONE,
        actor="test",
    )


def _confirmations(session: Session) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.purpose == "patient:confirmed")
    return list(session.scalars(query))


def test_a_phone_only_patient_gets_the_confirmation_by_sms(session: Session) -> None:
    world = open_world(session)
    made = booking.confirm(
        session, booking_id=_requested(world, world.patient("sms")).id, actor="s", now=NOW
    )

    notify.confirmed(session, booking=made, now=NOW)

    [row] = _confirmations(session)
    assert (row.channel, row.recipient) == (Channel.SMS, "+819011112222")
    assert row.payload["text"] == (
        "ご予約が確定しました。\n12月1日(火) 10:00〜 骨盤矯正\n"
        "ご来院をお待ちしております。変更・キャンセルは「予約確認」からどうぞ。"
    )


def test_the_confirmation_follows_the_clinics_template_and_switch(session: Session) -> None:
    world = open_world(session)
    made = booking.confirm(
        session, booking_id=_requested(world, world.patient("line")).id, actor="s", now=NOW
    )
    rule = world.rule(RuleKind.CONFIRMATION)
    message_rules.set_template(
        rule, template="{patient_name}様、{date} {time}で承りました。", now=NOW
    )

    notify.confirmed(session, booking=made, now=NOW)
    rule.enabled = False
    notify.cancelled_by_clinic(session, booking=made, now=NOW)

    [row] = _confirmations(session)
    assert line_text(row) == "佐藤 花子様、12月1日(火) 10:00で承りました。"
    cancelled = select(OutboxMessage).where(OutboxMessage.purpose == "patient:cancelled")
    assert list(session.scalars(cancelled)) == []
