"""Calls through backend.dialogue.phone.answer and call_ended on the real database: the
call log (outcomes, last step, duration), staff, callbacks, missed and abandoned calls.

`Call` is the phone the other phone dialogue tests use too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.conversation import codec
from backend.conversation.model import (
    CallStarted,
    Card,
    Dialed,
    Effect,
    Event,
    Expect,
    Hangup,
    Keys,
    PatientInfo,
    Reply,
    Say,
    Text,
    Transfer,
)
from backend.dialogue import facts as clinic_facts
from backend.dialogue import phone
from backend.dialogue import phone_calls as calls
from backend.errors import Invalid
from backend.models import CallLog, CallOutcome, Channel, Clinic, OutboxMessage
from tests.dialogue.patient_chat import GROUP, open_clinic
from tests.factories import jst, make_patient

MOBILE = "+819012345678"
LANDLINE = "+81312345679"
LINE_URL = "https://lin.ee/test"
OPEN = jst(2026, 11, 30, 10)  # Monday 10:00: open


@dataclass
class Call:
    """One phone call to one clinic; each turn's replies, and what it left behind."""

    session: Session
    clinic: Clinic
    caller: str = MOBILE
    sid: str = "CA0000000000000000000000000000001"
    now: datetime = OPEN
    replies: tuple[Reply, ...] = field(default=())

    def turn(self, event: Event) -> str:
        """One turn; what the caller hears. Every turn listens, rings staff or hangs up."""
        self.replies = phone.answer(
            self.session,
            clinic_id=self.clinic.id,
            call_sid=self.sid,
            caller=self.caller,
            event=event,
            now=self.now,
        ).replies
        assert isinstance(self.replies[-1], Expect | Transfer | Hangup), self.replies
        return "".join(reply.text for reply in self.replies if isinstance(reply, Say))

    def start(self) -> str:
        return self.turn(CallStarted(self.caller))

    def press(self, digits: str) -> str:
        return self.turn(Keys(digits))

    def say(self, words: str) -> str:
        return self.turn(Text(words))

    def end(self, status: str = "completed", seconds: int | None = 60, caller: str = "") -> None:
        phone.call_ended(
            self.session,
            clinic_id=self.clinic.id,
            call_sid=self.sid,
            status=status,
            duration_seconds=seconds,
            now=self.now,
            caller=caller,
        )

    @property
    def log(self) -> CallLog:
        """The call's row as the database has it now: turns write it with plain statements,
        which do not refresh a CallLog the session loaded before."""
        query = select(CallLog).where(CallLog.call_sid == self.sid)
        return self.session.scalars(query.execution_options(populate_existing=True)).one()

    def sms(self) -> list[OutboxMessage]:
        """The SMS rows queued so far."""
        query = select(OutboxMessage).where(OutboxMessage.channel == Channel.SMS)
        return list(self.session.scalars(query.order_by(OutboxMessage.id)))

    def cards(self) -> list[Card]:
        """The cards queued for the staff group so far."""
        rows = self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == GROUP).order_by(OutboxMessage.id)
        )
        replies = [reply for row in rows for reply in codec.load(row.payload["replies"])]
        return [reply for reply in replies if isinstance(reply, Card)]


def rows(card: Card) -> dict[str, str]:
    return dict(card.rows)


@pytest.fixture
def clinic(session: Session) -> Clinic:
    return open_clinic(session, line_add_url=LINE_URL).clinic


def test_every_call_is_logged_with_how_far_it_got(session: Session, clinic: Clinic) -> None:
    call = Call(session, clinic)
    assert "テスト整骨院です。自動音声でご案内いたします。" in call.start()
    log = call.log
    assert (log.from_number, log.outcome, log.last_step) == (
        MOBILE,
        CallOutcome.IN_PROGRESS,
        "greeting",
    )
    assert log.started_at == OPEN
    call.press("1")
    assert call.log.last_step == "book_when"


def test_the_caller_a_turn_links_is_seen_by_the_rest_of_the_turn(
    session: Session, clinic: Clinic
) -> None:
    call = calls.opened(session, clinic_id=clinic.id, call_sid="CA1", caller=MOBILE, now=OPEN)
    assert calls.patient_info(session, call) is None
    patient = make_patient(session, clinic, name="山田 花子")

    calls.change(session, call, patient_id=patient.id)  # as a request or identify effect

    assert calls.patient_info(session, call) == PatientInfo(patient.id, "山田 花子")


def test_staff_answer_a_transfer(session: Session, clinic: Clinic) -> None:
    call = Call(session, clinic)
    call.start()
    assert "スタッフにおつなぎいたします" in call.say("受付の人と話したい")
    assert isinstance(call.replies[-1], Transfer)
    call.turn(Dialed(answered=True))
    assert call.replies == (Hangup(),)
    call.end(seconds=185)
    log = call.log
    assert (log.outcome, log.duration_seconds, log.twilio_status) == (
        CallOutcome.TRANSFERRED,
        185,
        "completed",
    )
    assert log.ended_at == OPEN
    assert call.cards() == []
    assert call.sms() == []


def test_nobody_answering_turns_into_a_callback_request(session: Session, clinic: Clinic) -> None:
    call = Call(session, clinic)
    call.start()
    call.press("3")
    assert "折り返しお電話いたしましょうか" in call.turn(Dialed(answered=False))
    assert "スタッフより、折り返しお電話いたします。" in call.press("1")
    assert isinstance(call.replies[-1], Hangup)
    assert call.log.outcome == CallOutcome.CALLBACK_REQUESTED
    [card] = call.cards()
    assert card.title == "折り返しのご依頼"
    assert rows(card) == {
        "電話": "090-1234-5678",
        "着信": "11月30日(月) 10:00",
        "ご用件": "スタッフ不在（転送に応答なし）",
    }
    call.end()
    assert call.log.outcome == CallOutcome.CALLBACK_REQUESTED
    assert len(call.cards()) == 1


@pytest.mark.parametrize(
    "now",
    [
        jst(2026, 11, 30, 8),  # before opening
        jst(2026, 11, 30, 13),  # the lunch break
        jst(2026, 11, 29, 10),  # Sunday
        jst(2026, 11, 23, 10),  # 勤労感謝の日, a Monday
    ],
)
def test_out_of_hours_the_attendant_takes_a_callback(
    session: Session, clinic: Clinic, now: datetime
) -> None:
    call = Call(session, clinic, now=now)
    assert "ただいま診療時間外ですが" in call.start()
    assert "スタッフにおつなぎできません" in call.press("3")
    call.press("1")
    [card] = call.cards()
    assert rows(card)["ご用件"] == "診療時間外のお問い合わせ"


def test_a_withheld_number_keys_where_to_call_back(session: Session, clinic: Clinic) -> None:
    call = Call(session, clinic, caller="")
    call.start()
    call.press("3")
    call.turn(Dialed(answered=False))
    assert "市外局番から" in call.press("1")
    call.press("0312345678")
    [card] = call.cards()
    assert rows(card)["電話"] == "03-1234-5678"
    assert call.log.from_number is None


def test_hearing_the_hours_is_an_outcome_of_its_own(session: Session, clinic: Clinic) -> None:
    call = Call(session, clinic)
    call.start()
    assert "月曜から金曜は、午前9時から正午までと" in call.say("何時までやってますか")
    assert call.log.outcome == CallOutcome.INFORMATION
    call.end()
    assert call.log.outcome == CallOutcome.INFORMATION
    assert call.cards() == []


def test_hearing_the_hours_then_breaking_off_a_booking_is_abandoned(
    session: Session, clinic: Clinic
) -> None:
    call = Call(session, clinic)
    call.start()
    call.press("4")
    call.press("1")
    call.end()
    assert call.log.outcome == CallOutcome.ABANDONED
    assert len(call.cards()) == 1


def test_a_call_abandoned_mid_way_alerts_staff_and_texts_back_once(
    session: Session, clinic: Clinic
) -> None:
    call = Call(session, clinic)
    call.start()
    call.press("1")
    call.end(seconds=40)
    call.end(seconds=40)  # Twilio retried the status callback
    assert call.log.outcome == CallOutcome.ABANDONED
    [card] = call.cards()
    assert card.title == "途中で切れたお電話"
    assert rows(card)["状況"] == "予約日時のご希望"
    assert rows(card)["電話"] == "090-1234-5678"
    [sms] = call.sms()
    assert sms.recipient == MOBILE
    assert sms.purpose == "phone:text-back"
    assert sms.payload["text"] == (
        "【テスト整骨院】お電話ありがとうございました。ただいまお電話に出られませんでした。"
        f"LINEからもご予約いただけます: {LINE_URL}"
    )


def test_no_text_back_to_a_landline(session: Session, clinic: Clinic) -> None:
    call = Call(session, clinic, caller=LANDLINE)
    call.start()
    call.press("1")
    call.end()
    assert call.log.outcome == CallOutcome.ABANDONED
    assert len(call.cards()) == 1
    assert call.sms() == []


def test_no_text_back_to_a_number_that_opted_out(session: Session, clinic: Clinic) -> None:
    make_patient(session, clinic, phone=MOBILE, sms_opted_out=True)
    call = Call(session, clinic)
    call.start()
    call.press("2")
    call.end()
    assert call.log.outcome == CallOutcome.ABANDONED
    assert call.sms() == []


def test_hanging_up_during_the_greeting_is_a_missed_call(session: Session, clinic: Clinic) -> None:
    call = Call(session, clinic)
    call.start()
    call.end(seconds=6)
    assert call.log.outcome == CallOutcome.MISSED
    [card] = call.cards()
    assert card.title == "不在着信"
    assert rows(card)["状況"] == "ごあいさつ"
    assert len(call.sms()) == 1


def test_a_call_twilio_never_connected_is_missed(session: Session, clinic: Clinic) -> None:
    call = Call(session, clinic)
    call.end(status="no-answer", seconds=0)
    log = call.log
    assert (log.outcome, log.twilio_status, log.from_number) == (
        CallOutcome.MISSED,
        "no-answer",
        None,
    )
    [card] = call.cards()
    assert rows(card)["電話"] == "非通知"
    assert call.sms() == []


def test_a_missed_call_twilio_never_connected_keeps_the_callers_number(
    session: Session, clinic: Clinic
) -> None:
    call = Call(session, clinic)
    call.end(status="no-answer", seconds=0, caller="+819087654321")
    assert (call.log.outcome, call.log.from_number) == (CallOutcome.MISSED, "+819087654321")
    [card] = call.cards()
    assert rows(card)["電話"] == "090-8765-4321"
    assert len(call.sms()) == 1  # a mobile caller gets the text-back


def test_a_turn_after_the_call_ended_just_hangs_up(session: Session, clinic: Clinic) -> None:
    call = Call(session, clinic)
    call.start()
    call.end()
    call.press("1")
    assert call.replies == (Hangup(),)
    assert call.log.last_step == "greeting"


def test_two_calls_are_two_rows(session: Session, clinic: Clinic) -> None:
    first, second = Call(session, clinic), Call(session, clinic, sid="CA2", caller=LANDLINE)
    first.start()
    second.start()
    first.press("4")
    assert first.log.outcome == CallOutcome.INFORMATION
    assert second.log.outcome == CallOutcome.IN_PROGRESS


def test_an_effect_reads_the_call_as_the_turn_left_it_not_as_a_refusal_did(
    session: Session,
) -> None:
    setup = open_clinic(session)
    sid = "CA0000000000000000000000000000009"
    call = calls.opened(session, clinic_id=setup.clinic.id, call_sid=sid, caller=MOBILE, now=OPEN)
    known = clinic_facts.load(session, clinic_id=setup.clinic.id, now=OPEN, subject=sid)
    calls.change(session, call, outcome=CallOutcome.INFORMATION, last_step="menu")
    assert calls.of(session, known) == call._replace(
        outcome=CallOutcome.INFORMATION, last_step="menu"
    )

    performers: dict = {}

    @calls.performer(performers, "refused")
    def _refused(session: Session, facts: object, args: object) -> None:
        calls.change(session, calls.of(session, known), outcome=CallOutcome.REQUEST_MADE)
        raise Invalid("refused after changing the call")

    assert not performers["refused"](session, known, Effect("refused")).ok
    assert calls.of(session, known).outcome == CallOutcome.INFORMATION
    stored = session.scalars(select(CallLog).where(CallLog.call_sid == sid)).one()
    assert (stored.outcome, stored.last_step) == (CallOutcome.INFORMATION, "menu")
