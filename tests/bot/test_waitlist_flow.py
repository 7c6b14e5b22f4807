"""The waitlist end to end in LINE: really signed webhooks, LINE's API mocked at its URL.

Patient A finds Tuesday full and asks to be told of an opening; patient B cancels their
Tuesday booking; the worker step offers the freed time; A taps 「この時間で予約する」 and
gets a request, which the staff group sees as a request card.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import respx
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import waitlist
from backend.models import (
    Booking,
    BookingStatus,
    Clinic,
    Course,
    OutboxMessage,
    Source,
    WaitlistEntry,
    WaitlistOffer,
    WaitStatus,
)
from reminders import dispatch
from tests.bot.conftest import GROUP, Line, event, postback, settings, text
from tests.conftest import SessionStore
from tests.factories import (
    NOW,
    jst,
    make_bed,
    make_booking,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)

A = "U000000000000000000000000000000aa"
C = "U000000000000000000000000000000cc"
B = "U000000000000000000000000000000bb"
PUSH = "/v2/bot/message/push"
MULTICAST = "/v2/bot/message/multicast"
TUESDAY_TEN = jst(2026, 12, 1, 10)


@pytest.fixture
def clinic(session: Session) -> Clinic:
    """One practitioner and one bed, with the staff group linked."""
    clinic = make_clinic(session, line_staff_group_id=GROUP)
    make_staff(session, clinic)
    make_bed(session, clinic)
    make_course(session, clinic)
    return clinic


def fill_tuesday(session: Session, clinic: Clinic) -> Booking:
    """Every 30 minutes of Tuesday booked; B holds 10:00. Return B's booking."""
    course = session.scalars(select(Course)).one()
    holder = make_patient(session, clinic, name="常連 さん", phone="+819011110000")
    patient_b = make_patient(session, clinic, name="B さん", phone="+819022220000", line_user_id=B)
    starts = [jst(2026, 12, 1, 9) + timedelta(minutes=30 * n) for n in range(6)]
    starts += [jst(2026, 12, 1, 15) + timedelta(minutes=30 * n) for n in range(10)]
    held = None
    for start in starts:
        who = patient_b if start == TUESDAY_TEN else holder
        made = make_booking(
            session, patient=who, course=course, starts_at=start, source=Source.STAFF
        )
        held = made if who is patient_b else held
    assert held is not None
    return held


def as_user(user: str) -> dict[str, Any]:
    return {"source": {"type": "user", "userId": user}}


def new_rows(session: Session, after: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > after).order_by(OutboxMessage.id)
        )
    )


def last_id(session: Session) -> int:
    return session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0


def said(session: Session, user: str, after: int) -> str:
    """Everything queued for `user` since `after`, as JSON text."""
    return json.dumps(
        [row.payload for row in new_rows(session, after) if row.recipient == user],
        ensure_ascii=False,
    )


def pushed_to(router: respx.MockRouter, to: str) -> list[dict[str, Any]]:
    """What LINE was sent for `to`, by push or in a multicast."""
    bodies = [json.loads(call.request.content) for call in router.calls]
    return [
        body
        for body in bodies
        if to in (body["to"] if isinstance(body["to"], list) else [body["to"]])
    ]


def test_a_full_day_a_cancellation_and_the_first_to_tap_gets_it(
    line: Line, session: Session, clinic: Clinic, clock: list, line_api: respx.MockRouter
) -> None:
    line_api.post(PUSH).respond(200, json={"sentMessages": []})
    line_api.post(MULTICAST).respond(200, json={})

    freed = fill_tuesday(session, clinic)
    patient_a = make_patient(session, clinic, name="A さん", phone="+819033330000", line_user_id=A)
    course = session.scalars(select(Course)).one()

    # A asks for Tuesday 10:00: a course first, then the day is full.
    mark = last_id(session)
    line.post(text("12/1 10時", **as_user(A)))
    assert "メニューをお選びください" in said(session, A, mark)
    mark = last_id(session)
    line.post(postback(f"course:{course.id}", **as_user(A)))
    answer = said(session, A, mark)
    assert "12月1日(火) 10:00はあいにく満席です" in answer
    join = f"wait:2026-12-01:{course.id}:0"
    assert join in answer
    assert "空きが出たら知らせる" in answer

    mark = last_id(session)
    line.post(postback(join, **as_user(A)))
    assert "12月1日(火)に空きが出たら、LINEでお知らせします。" in said(session, A, mark)
    line.post(postback(join, **as_user(A)))
    assert "すでにキャンセル待ちにご登録いただいています" in said(session, A, mark)
    entry = session.scalars(select(WaitlistEntry)).one()
    assert (entry.patient_id, entry.wanted_on, entry.staff_id) == (
        patient_a.id,
        freed.starts_at.date(),
        None,
    )

    # C waits for Tuesday too.
    patient_c = make_patient(session, clinic, name="C さん", phone="+819044440000", line_user_id=C)
    waitlist.join(
        session,
        clinic_id=clinic.id,
        patient_id=patient_c.id,
        course_id=course.id,
        staff_id=None,
        wanted_on=entry.wanted_on,
        now=NOW,
    )

    # B cancels 10:00 from the list; the worker's next tick offers it to A and C.
    clock[0] = NOW + timedelta(minutes=10)
    line.post(postback(f"booking:{freed.id}:cancel", **as_user(B)))
    line.post(postback("ok", **as_user(B)))
    assert freed.status == BookingStatus.CANCELLED
    assert waitlist.offer_freed(SessionStore(session), now=clock[0]) == 1
    offer = session.scalars(select(WaitlistOffer)).one()

    # Everything queued so far leaves through LINE (push, or one multicast for one text).
    dispatch.drain(SessionStore(session), now=clock[0] + timedelta(minutes=2), settings=settings())
    (to_c,) = [
        body for body in pushed_to(line_api, C) if f"waitoffer:{offer.id}" in json.dumps(body)
    ]
    assert (
        to_c["messages"][0]["quickReply"]["items"][0]["action"]["data"] == f"waitoffer:{offer.id}"
    )
    (offer_push,) = [
        body for body in pushed_to(line_api, A) if f"waitoffer:{offer.id}" in json.dumps(body)
    ]
    (message,) = offer_push["messages"]
    assert "12月1日(火) 10:00〜 骨盤矯正 に空きが出ました" in message["text"]
    (button,) = message["quickReply"]["items"]
    assert button["action"] == {
        "type": "postback",
        "label": "この時間で予約する",
        "data": f"waitoffer:{offer.id}",
        "displayText": "この時間で予約する",
    }

    # A taps: a request at 10:00, the offer closed, the entry booked, staff see the card.
    clock[0] = NOW + timedelta(minutes=20)
    mark = last_id(session)
    line.post(postback(f"waitoffer:{offer.id}", **as_user(A)))
    assert "ご予約のリクエストを受け付けました" in said(session, A, mark)
    made = session.scalars(select(Booking).where(Booking.patient_id == patient_a.id)).one()
    assert (made.starts_at, made.status, made.source) == (
        TUESDAY_TEN,
        BookingStatus.REQUESTED,
        Source.LINE,
    )
    session.refresh(offer)
    session.refresh(entry)
    assert (offer.taken_by_booking_id, entry.status) == (made.id, WaitStatus.BOOKED)
    staff = said(session, GROUP, mark)
    assert "予約リクエスト" in staff
    assert f"req:{made.id}:approve" in staff

    dispatch.drain(SessionStore(session), now=clock[0] + timedelta(minutes=2), settings=settings())
    cards = [json.dumps(body, ensure_ascii=False) for body in pushed_to(line_api, GROUP)]
    assert "キャンセルがありました" in cards[0]  # B's cancellation, as before
    (request,) = [card for card in cards if "予約リクエスト" in card]
    assert f"req:{made.id}:approve" in request

    # C is told it has gone, and a tap on C's button says so too.
    assert "先ほどご案内した12月1日(火) 10:00〜の枠は先に埋まりました" in said(session, C, mark)
    mark = last_id(session)
    line.post(postback(f"waitoffer:{offer.id}", **as_user(C)))
    assert "申し訳ありません、この枠は先に埋まりました。" in said(session, C, mark)
    assert session.scalars(select(Booking).where(Booking.patient_id == patient_c.id)).all() == []

    # A second tap on the old button: the slot is already theirs.
    mark = last_id(session)
    line.post(postback(f"waitoffer:{offer.id}", **as_user(A)))
    assert "このお時間はすでにご予約を承っています" in said(session, A, mark)
    assert session.scalars(select(Booking).where(Booking.patient_id == patient_a.id)).one() == made


def test_the_list_shows_the_days_and_leaves_one(
    line: Line, session: Session, clinic: Clinic
) -> None:
    patient = make_patient(session, clinic, name="A さん", line_user_id=A)
    course = session.scalars(select(Course)).one()
    entry, _ = waitlist.join(
        session,
        clinic_id=clinic.id,
        patient_id=patient.id,
        course_id=course.id,
        staff_id=None,
        wanted_on=TUESDAY_TEN.date(),
        now=NOW,
    )

    mark = last_id(session)
    line.post(text("キャンセル待ち", **as_user(A)))
    listed = said(session, A, mark)
    assert "・12月1日(火) 骨盤矯正" in listed
    assert f"waitlist:{entry.id}:leave" in listed

    mark = last_id(session)
    line.post(postback(f"waitlist:{entry.id}:leave", **as_user(A)))
    assert "12月1日(火)のキャンセル待ちを取り消しました" in said(session, A, mark)
    session.refresh(entry)
    assert entry.status == WaitStatus.CANCELLED

    mark = last_id(session)
    line.post(
        event(
            "message",
            replyToken="rt-w",
            **as_user(A),
            message={"type": "text", "id": "1", "quoteToken": "q", "text": "空き待ち"},
        )
    )
    assert "現在、キャンセル待ちのご登録はありません" in said(session, A, mark)
