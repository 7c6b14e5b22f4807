"""The day-before reminder's buttons and the opt-out words, end to end through a signed
LINE webhook: 確認 thanks, キャンセル cancels (the deadline holds), 配信停止 withdraws LINE
marketing consent at once and 配信再開 gives it back."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.conversation import codec, patient_notices
from backend.conversation.model import Say
from backend.models import Booking, BookingStatus, OutboxMessage, RuleKind
from bot import inbound
from tests.bot.conftest import USER, Line, make_app, postback, text
from tests.factories import jst
from tests.reminders.rules_calendar import World, line_buttons, open_world

TUESDAY_10 = jst(2026, 12, 1, 10)


def _line(session: Session, clock: list) -> Line:
    app = make_app(session, clock)
    line = Line(TestClient(app))
    app.state.kick = lambda: inbound.process(app.state.store, clock=lambda: clock[0])
    return line


def _answer(session: Session) -> Say:
    """The bot's latest answer to the patient."""
    row = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == USER, OutboxMessage.purpose == "chat:patient")
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).one()
    reply = codec.load(row.payload["replies"])[0]
    assert isinstance(reply, Say)
    return reply


def _status(session: Session, booking_id: int) -> BookingStatus:
    return session.execute(select(Booking.status).where(Booking.id == booking_id)).scalar_one()


def _reminded(session: Session) -> tuple[World, int, dict[str, str]]:
    world = open_world(session)
    made = world.confirmed(world.patient("line", line_user_id=USER), TUESDAY_10)
    assert world.run(RuleKind.DAY_BEFORE, jst(2026, 11, 30, 18)) == 1
    buttons = dict(line_buttons(world.queued(RuleKind.DAY_BEFORE)[0]))
    return world, made.id, buttons


def test_kakunin_thanks_the_patient_and_changes_nothing(session: Session, clock: list) -> None:
    _world, booking_id, buttons = _reminded(session)
    clock[0] = jst(2026, 11, 30, 18, 30)

    assert _line(session, clock).post(postback(buttons["確認"])).status_code == 200

    assert _answer(session).text == "ご確認ありがとうございます。ご来院をお待ちしております。"
    assert _status(session, booking_id) == BookingStatus.CONFIRMED


def test_cancel_asks_then_cancels_the_booking(session: Session, clock: list) -> None:
    _world, booking_id, buttons = _reminded(session)
    clock[0] = jst(2026, 11, 30, 18, 30)
    line = _line(session, clock)

    line.post(postback(buttons["キャンセル"]))
    asked = _answer(session)
    assert asked.text == "12月1日(火) 10:00〜 骨盤矯正 のご予約をキャンセルしますか？"
    line.post(postback("ok"))

    assert _answer(session).text.startswith("ご予約をキャンセルしました。")
    assert _status(session, booking_id) == BookingStatus.CANCELLED


def test_cancel_after_the_deadline_is_refused(session: Session, clock: list) -> None:
    _world, booking_id, buttons = _reminded(session)
    clock[0] = jst(2026, 12, 1, 8)  # two hours before; the deadline is three

    _line(session, clock).post(postback(buttons["キャンセル"]))

    assert _answer(session).text.startswith(
        "申し訳ございません。ご予約の3時間前を過ぎているため、LINEではキャンセルを承れません。"
    )
    assert _status(session, booking_id) == BookingStatus.CONFIRMED


def test_haishin_teishi_withdraws_line_marketing_consent_at_once(
    session: Session, clock: list
) -> None:
    world = open_world(session)
    patient = world.patient("line", line_user_id=USER)
    world.visit(patient, jst(2026, 11, 1, 10))
    clock[0] = jst(2026, 11, 30, 9)

    _line(session, clock).post(text("配信停止"))

    assert _answer(session).text == patient_notices.STOPPED
    session.expire_all()
    assert (patient.consent_line, patient.consent_updated_at) == (False, clock[0])
    # Thirty days after the last visit the lapsed rule would write; now it cannot on LINE.
    assert world.run(RuleKind.LAPSED, jst(2026, 12, 1, 10)) == 0
    assert world.queued(RuleKind.LAPSED) == []


def test_stop_words_and_resuming(session: Session, clock: list) -> None:
    world = open_world(session)
    patient = world.patient("line", line_user_id=USER)
    line = _line(session, clock)

    line.post(text("ストップ"))
    session.expire_all()
    assert patient.consent_line is False
    line.post(text("配信再開"))

    assert _answer(session).text == patient_notices.RESUMED
    session.expire_all()
    assert patient.consent_line is True
