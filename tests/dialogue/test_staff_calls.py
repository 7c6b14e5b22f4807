"""Staff mark a missed call handled (対応済み) from its card in the staff group: recorded
once, the second tap says when, and only linked staff can do it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from backend.conversation import staff_calls
from backend.conversation.model import Say
from backend.models import CallLog, Clinic
from tests.dialogue.patient_chat import GROUP as PHONE_GROUP
from tests.dialogue.patient_chat import open_clinic
from tests.dialogue.test_phone_calls import LINE_URL, Call
from tests.dialogue.test_staff_line import STRANGER, YAMADA, tap
from tests.factories import NOW, make_staff


def missed_call(session: Session) -> tuple[Clinic, CallLog]:
    clinic = open_clinic(session, line_add_url=LINE_URL).clinic
    call = Call(session, clinic)
    call.start()
    call.end(seconds=6)
    [card] = call.cards()
    assert card.title == "不在着信"
    assert [(choice.label, choice.value) for choice in card.choices] == [
        ("対応済みにする", f"call:{call.log.id}:done")
    ]
    return clinic, call.log


def test_a_staff_member_marks_a_missed_call_handled_once(session: Session) -> None:
    clinic, log = missed_call(session)
    make_staff(session, clinic, name="山田 太郎", line_user_id=YAMADA)
    later = NOW + timedelta(minutes=30)

    first = tap(session, clinic, f"call:{log.id}:done", group=PHONE_GROUP, now=later)
    again = tap(session, clinic, f"call:{log.id}:done", group=PHONE_GROUP, now=later)

    assert log.followed_up_at == later
    [done] = first
    assert done.text == "山田 太郎さんが 090-1234-5678 のお電話を対応済みにしました。"
    [said] = again
    assert said.text.startswith("090-1234-5678 のお電話は")
    assert said.text.endswith("に対応済みになっています。")


def test_someone_not_linked_as_staff_cannot_mark_a_call(session: Session) -> None:
    clinic, log = missed_call(session)

    [answer] = tap(session, clinic, f"call:{log.id}:done", user=STRANGER, group=PHONE_GROUP)

    assert log.followed_up_at is None
    assert isinstance(answer.replies[0], Say)
    assert "スタッフ" in answer.text


def test_an_unknown_call_is_said_to_be_not_found(session: Session) -> None:
    clinic = open_clinic(session, line_add_url=LINE_URL).clinic
    make_staff(session, clinic, name="山田 太郎", line_user_id=YAMADA)

    [answer] = tap(session, clinic, "call:999999:done", group=PHONE_GROUP)

    assert answer.text == staff_calls.NOT_FOUND
