"""The today page warns first: LINE paused for the monthly quota, messages that could not
be sent, and the calls staff still owe a call back (marked done from the page)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend import outbox
from backend.conversation.model import Say
from backend.models import CallLog, CallOutcome, Clinic, OutboxMessage, OutboxStatus
from tests.factories import NOW, jst, make_clinic
from tests.web.conftest import sign_in


def call(session: Session, clinic: Clinic, outcome: CallOutcome, **fields: object) -> CallLog:
    values: dict[str, object] = {
        "clinic_id": clinic.id,
        "call_sid": f"CA{session.query(CallLog).count():032d}",
        "from_number": "+819012345678",
        "outcome": outcome,
        "started_at": NOW - timedelta(hours=2),
    }
    row = CallLog(**(values | fields))
    session.add(row)
    session.flush()
    return row


def queued(session: Session, clinic: Clinic, status: OutboxStatus) -> None:
    row_id = outbox.line_replies(
        session, clinic_id=clinic.id, to="U1", replies=[Say("x")], purpose="test", now=NOW
    )
    row = session.get(OutboxMessage, row_id)
    assert row is not None
    row.status = status
    session.flush()


def test_a_quiet_day_has_no_warnings(web: TestClient, session: Session) -> None:
    make_clinic(session)
    sign_in(web)

    page = web.get("/").text

    assert 'role="alert"' not in page
    assert "折り返しが必要な電話" not in page


def test_line_paused_and_unsent_messages_are_the_first_thing_staff_read(
    web: TestClient, session: Session
) -> None:
    clinic = make_clinic(session)
    clinic.line_paused_until = jst(2026, 12, 1)  # the month turns
    queued(session, clinic, OutboxStatus.FAILED)
    queued(session, clinic, OutboxStatus.FAILED)
    queued(session, clinic, OutboxStatus.UNCERTAIN)
    queued(session, clinic, OutboxStatus.SENT)
    sign_in(web)

    page = web.get("/").text

    warnings = page.split('role="alert">')[1:]
    assert len(warnings) == 3
    assert "LINEの今月の送信上限に達したため、12月1日(火) 0:00までLINEでのお知らせを" in warnings[0]
    assert "送れなかったメッセージが2件あります" in warnings[1]
    assert "届いたかどうか確認できないSMS・メールが1件" in warnings[2]


def test_calls_owed_a_call_back_are_listed_and_marked_done_once(
    web: TestClient, session: Session
) -> None:
    clinic = make_clinic(session)
    missed = call(session, clinic, CallOutcome.MISSED)
    callback = call(session, clinic, CallOutcome.CALLBACK_REQUESTED, from_number=None)
    call(session, clinic, CallOutcome.REQUEST_MADE)  # nothing owed
    call(session, clinic, CallOutcome.ABANDONED, started_at=NOW - timedelta(days=8))  # too old
    call(session, clinic, CallOutcome.MISSED, followed_up_at=NOW - timedelta(hours=1))
    token = sign_in(web)

    page = web.get("/").text
    owed = page.split('id="calls-heading"')[1].split("</table>")[0]
    assert "2件" in owed
    assert f'id="call-{missed.id}"' in owed
    assert "090-1234-5678" in owed
    assert "不在着信" in owed
    assert f'id="call-{callback.id}"' in owed
    assert "番号非通知" in owed
    assert "折り返し希望" in owed

    done = web.post(f"/calls/{missed.id}/done", data={"csrf": token})
    again = web.post(f"/calls/{missed.id}/done", data={"csrf": token})
    refused = web.post(f"/calls/{callback.id}/done", data={"csrf": "wrong"})

    assert done.headers["location"] == "/?notice=call_done"
    assert again.headers["location"] == "/?notice=call_gone"
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(CallLog, missed.id).followed_up_at == NOW  # type: ignore[union-attr]
    assert session.get(CallLog, callback.id).followed_up_at is None  # type: ignore[union-attr]
    page = web.get(done.headers["location"]).text
    assert "折り返しの電話を対応済みにしました。" in page
    assert f'id="call-{missed.id}"' not in page


def test_a_call_of_another_clinic_cannot_be_marked(web: TestClient, session: Session) -> None:
    make_clinic(session)
    other = call(session, make_clinic(session, name="別の院"), CallOutcome.MISSED)
    token = sign_in(web)

    answer = web.post(f"/calls/{other.id}/done", data={"csrf": token})

    assert answer.headers["location"] == "/?notice=call_gone"
    session.expire_all()
    assert session.get(CallLog, other.id).followed_up_at is None  # type: ignore[union-attr]
