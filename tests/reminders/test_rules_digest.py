"""The staff digest: tomorrow's bookings, pending requests and unreturned calls, in the
staff group at 19:00, once a day."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend import booking
from backend.conversation import codec
from backend.conversation.model import Card, Say
from backend.models import CallLog, CallOutcome, Channel, RuleKind, Source
from tests.factories import NOW, jst
from tests.reminders.rules_calendar import open_world

GROUP = "C0000000000000000000000000000staff"
DIGEST = RuleKind.STAFF_DIGEST


def _call(world, sid: str, outcome: CallOutcome, **fields) -> None:  # type: ignore[no-untyped-def]
    world.session.add(
        CallLog(
            clinic_id=world.clinic.id,
            call_sid=sid,
            from_number="+819099998888",
            outcome=outcome,
            started_at=jst(2026, 11, 30, 11),
            **fields,
        )
    )


def test_the_digest_lists_tomorrow_requests_and_calls_once_a_day(session: Session) -> None:
    world = open_world(session, line_staff_group_id=GROUP)
    world.confirmed(world.patient("line"), jst(2026, 12, 1, 10))
    asking = world.patient("line", line_user_id="Uasking", name="依頼 さん")
    booking.request(
        session,
        clinic_id=world.clinic.id,
        patient_id=asking.id,
        course_id=world.course.id,
        starts_at=jst(2026, 12, 2, 10),
        now=NOW,
        source=Source.LINE,
        actor="test",
    )
    _call(world, "CA1", CallOutcome.MISSED)
    _call(world, "CA2", CallOutcome.CALLBACK_REQUESTED)
    _call(world, "CA3", CallOutcome.MISSED, followed_up_at=jst(2026, 11, 30, 12))

    assert world.run(DIGEST, jst(2026, 11, 30, 18, 59)) == 0
    assert world.run(DIGEST, jst(2026, 11, 30, 19)) == 1
    assert world.run(DIGEST, jst(2026, 11, 30, 23)) == 0

    [row] = world.queued(DIGEST)
    assert (row.channel, row.recipient, row.patient_id) == (Channel.LINE, GROUP, None)
    said, card = codec.load(row.payload["replies"])
    assert isinstance(said, Say)
    assert isinstance(card, Card)
    assert said.text == (
        "【明日の予定】12月1日(火)\nご予約 1件／未対応のリクエスト 1件／折り返し待ちのお電話 2件"
    )
    assert card.rows == (("10:00", "佐藤 花子 骨盤矯正"),)


def test_no_digest_without_a_staff_group(session: Session) -> None:
    world = open_world(session)

    assert world.run(DIGEST, jst(2026, 11, 30, 19)) == 0
    assert world.queued() == []
