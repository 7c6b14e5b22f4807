"""The day-before and same-day reminders and the no-show follow-up, on a fixed calendar:
Monday 30 November 2026 in Tokyo, a booking on Tuesday 1 December at 10:00."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from backend import booking, message_rules
from backend.models import BookingStatus, Channel, MessageKind, Party, RuleKind, Source
from tests.factories import NOW, jst
from tests.reminders.rules_calendar import LINE_USER, line_buttons, line_text, open_world

DAY_BEFORE = RuleKind.DAY_BEFORE
TUESDAY_10 = jst(2026, 12, 1, 10)


def test_the_day_before_reminder_fires_at_six_the_evening_before_and_once(
    session: Session,
) -> None:
    world = open_world(session)
    made = world.confirmed(world.patient("line"), TUESDAY_10)

    assert world.run(DAY_BEFORE, jst(2026, 11, 30, 17, 59)) == 0
    assert world.run(DAY_BEFORE, jst(2026, 11, 30, 18, 0)) == 1
    assert world.run(DAY_BEFORE, jst(2026, 11, 30, 18, 1)) == 0

    [row] = world.queued(DAY_BEFORE)
    assert (row.channel, row.recipient, row.kind) == (Channel.LINE, LINE_USER, "transactional")
    assert line_text(row) == (
        "佐藤 花子様\n明日 12月1日(火) 10:00〜 骨盤矯正 のご予約をいただいております。"
        "ご来院をお待ちしております。\nテスト整骨院（03-1234-5678）"
    )
    assert line_buttons(row) == [
        ("確認", f"notice:{made.id}:ok"),
        ("キャンセル", f"booking:{made.id}:cancel"),
    ]
    assert row.due_at == jst(2026, 11, 30, 18, 0)


def test_a_late_tick_sends_the_reminder_that_evening_but_not_on_the_day_itself(
    session: Session,
) -> None:
    world = open_world(session)
    world.confirmed(world.patient("line"), TUESDAY_10)

    assert world.run(DAY_BEFORE, jst(2026, 12, 1, 0, 30)) == 0  # the worker was down all evening
    assert world.run(DAY_BEFORE, jst(2026, 11, 30, 23, 50)) == 1  # down, but back before midnight


def test_the_reminder_goes_by_sms_or_email_when_the_patient_has_no_line(
    session: Session,
) -> None:
    world = open_world(session)
    by_sms = world.patient("sms", name="電話 太郎")
    by_mail = world.patient("email", name="メール 次郎")
    world.confirmed(by_sms, TUESDAY_10)
    world.confirmed(by_mail, jst(2026, 12, 1, 11))

    assert world.run(DAY_BEFORE, jst(2026, 11, 30, 18)) == 2

    sms, mail = world.queued(DAY_BEFORE)
    assert (sms.channel, sms.recipient) == (Channel.SMS, "+819011112222")
    assert sms.payload["text"].startswith("電話 太郎様\n明日 12月1日(火) 10:00〜 骨盤矯正")
    assert "停止" not in sms.payload["text"]  # transactional: no advertising opt-out line
    assert (mail.channel, mail.recipient) == (Channel.EMAIL, "hanako@example.com")
    assert mail.payload["subject"] == "テスト整骨院"
    assert "12月1日(火) 11:00〜" in mail.payload["body"]


def test_no_reminder_for_requests_merged_or_unreachable_patients_or_late_bookings(
    session: Session,
) -> None:
    world = open_world(session)
    requested = world.patient("line", line_user_id="Urequested")
    booking.request(
        session,
        clinic_id=world.clinic.id,
        patient_id=requested.id,
        course_id=world.course.id,
        starts_at=TUESDAY_10,
        now=NOW,
        source=Source.LINE,
        actor="test",
    )
    survivor = world.patient("sms", name="残る 人")
    merged = world.patient("line", line_user_id="Umerged")
    world.confirmed(merged, jst(2026, 12, 1, 11))
    merged.merged_into_id = survivor.id
    blocked = world.patient("line", line_user_id="Ublocked", line_reachable=False)
    world.confirmed(blocked, jst(2026, 12, 1, 15))
    late = world.patient("line", line_user_id="Ulate")
    world.confirmed(late, jst(2026, 12, 1, 16), now=jst(2026, 11, 30, 19))

    assert world.run(DAY_BEFORE, jst(2026, 11, 30, 20)) == 0
    assert world.queued(DAY_BEFORE) == []


def test_a_moved_booking_is_reminded_of_its_new_time(session: Session) -> None:
    world = open_world(session)
    made = world.confirmed(world.patient("line"), TUESDAY_10)
    assert world.run(DAY_BEFORE, jst(2026, 11, 30, 18)) == 1
    booking.reschedule(
        session,
        booking_id=made.id,
        starts_at=jst(2026, 12, 2, 10),
        by=Party.STAFF,
        actor="staff:test",
        now=jst(2026, 11, 30, 19),
    )

    assert world.run(DAY_BEFORE, jst(2026, 12, 1, 18)) == 1
    assert "12月2日(水) 10:00" in line_text(world.queued(DAY_BEFORE)[-1])


def test_transactional_reminders_follow_the_clinics_quiet_hours_choice(session: Session) -> None:
    world = open_world(session, quiet_hours_transactional=True)
    world.confirmed(world.patient("line"), TUESDAY_10)
    message_rules.set_param(world.rule(DAY_BEFORE), name="send_at", value="21:30", now=NOW)

    assert world.run(DAY_BEFORE, jst(2026, 11, 30, 21, 30)) == 1
    # Held to the end of the quiet hours: the morning of the visit.
    assert world.queued(DAY_BEFORE)[0].due_at == jst(2026, 12, 1, 9)


def test_the_same_day_reminder_is_off_by_default_and_fires_hours_before(
    session: Session,
) -> None:
    world = open_world(session)
    world.confirmed(world.patient("line"), jst(2026, 11, 30, 15))
    rule = world.rule(RuleKind.SAME_DAY)
    assert rule.enabled is False
    message_rules.set_param(rule, name="hours_before", value=2, now=NOW)

    assert world.run(RuleKind.SAME_DAY, jst(2026, 11, 30, 12, 59)) == 0
    assert world.run(RuleKind.SAME_DAY, jst(2026, 11, 30, 13)) == 1
    assert world.run(RuleKind.SAME_DAY, jst(2026, 11, 30, 14)) == 0
    assert "本日 15:00〜 骨盤矯正" in line_text(world.queued(RuleKind.SAME_DAY)[0])


def _no_show(world, patient, starts_at):  # type: ignore[no-untyped-def]
    made = world.confirmed(patient, starts_at)
    return booking.mark_no_show(
        world.session, booking_id=made.id, actor="staff:test", now=starts_at + timedelta(hours=1)
    )


def test_the_no_show_follow_up_comes_the_next_morning_once(session: Session) -> None:
    world = open_world(session)
    missed = _no_show(world, world.patient("line"), jst(2026, 11, 30, 10))
    assert missed.status == BookingStatus.NO_SHOW

    assert world.run(RuleKind.NO_SHOW, jst(2026, 11, 30, 18)) == 0  # not on the day itself
    assert world.run(RuleKind.NO_SHOW, jst(2026, 12, 1, 9, 59)) == 0
    assert world.run(RuleKind.NO_SHOW, jst(2026, 12, 1, 10)) == 1
    assert world.run(RuleKind.NO_SHOW, jst(2026, 12, 2, 10)) == 0

    [row] = world.queued(RuleKind.NO_SHOW)
    assert row.kind == MessageKind.TRANSACTIONAL
    assert line_text(row).startswith(
        "佐藤 花子様\n11月30日(月) 10:00〜のご予約の際はお会いできず残念でした。"
    )


def test_no_follow_up_after_rebooking_or_days_later(session: Session) -> None:
    world = open_world(session)
    rebooked = world.patient("line", line_user_id="Urebooked")
    _no_show(world, rebooked, jst(2026, 11, 30, 10))
    world.confirmed(rebooked, jst(2026, 12, 4, 10))
    forgotten = world.patient("line", line_user_id="Uforgotten")
    _no_show(world, forgotten, jst(2026, 11, 30, 11))

    assert world.run(RuleKind.NO_SHOW, jst(2026, 12, 4, 10)) == 0  # four days on: too late
    assert world.run(RuleKind.NO_SHOW, jst(2026, 12, 1, 10)) == 1
    assert [row.recipient for row in world.queued(RuleKind.NO_SHOW)] == ["Uforgotten"]
