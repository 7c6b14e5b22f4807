"""The staff side through backend.dialogue.line.handle, on the real database: linking by
code, answering request cards in the staff group, and the agenda words."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking, staff_links
from backend.conversation import codec
from backend.conversation.model import Card, Carousel, Event, Picked, Reply, Say, Text
from backend.db import Database
from backend.dialogue import line
from backend.models import (
    Awaiting,
    Booking,
    BookingStatus,
    Clinic,
    OutboxMessage,
    Party,
    StaffRole,
)
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

GROUP = "C0000000000000000000000000000staff"
YAMADA = "U00000000000000000000000000yamada"
SUZUKI = "U00000000000000000000000000suzuki"
STRANGER = "U0000000000000000000000000stranger"
PATIENT = "U0000000000000000000000000patient"
TEN = jst(2026, 12, 1, 10)
TEN_TEXT = "12月1日(火) 10:00 佐藤 花子さま 骨盤矯正"


@dataclass(frozen=True)
class Sent:
    """One outbox row, decoded."""

    to: str
    purpose: str
    replies: tuple[Reply, ...]

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies if isinstance(reply, Say))

    def values(self) -> list[str]:
        return [
            choice.value
            for reply in self.replies
            if isinstance(reply, Say | Card)
            for choice in reply.choices
        ]


def send(
    session: Session,
    clinic: Clinic,
    event: Event,
    *,
    user: str | None,
    group: str | None = None,
    now: datetime = NOW,
) -> list[Sent]:
    """Handle one LINE event; return the outbox rows it wrote."""
    before = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))
    line.handle(
        session,
        clinic_id=clinic.id,
        source=line.Source(user_id=user, group_id=group),
        event=event,
        now=now,
        reply_token="token",
    )
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id > (before or 0)).order_by(OutboxMessage.id)
    )
    return [Sent(row.recipient, row.purpose, codec.load(row.payload["replies"])) for row in rows]


def only(sent: list[Sent], to: str) -> Sent:
    """The one message to `to`."""
    mine = [item for item in sent if item.to == to]
    assert len(mine) == 1, sent
    return mine[0]


@pytest.fixture
def clinic(session: Session) -> Clinic:
    clinic = make_clinic(session, line_staff_group_id=GROUP)
    make_bed(session, clinic)
    return clinic


@pytest.fixture
def yamada(session, clinic):
    return make_staff(session, clinic, name="山田 太郎", line_user_id=YAMADA)


@pytest.fixture
def suzuki(session, clinic):
    return make_staff(session, clinic, name="鈴木 一郎", line_user_id=SUZUKI)


@pytest.fixture
def course(session, clinic):
    return make_course(session, clinic)


@pytest.fixture
def patient(session, clinic):
    return make_patient(session, clinic, line_user_id=PATIENT)


@pytest.fixture
def requested(session, yamada, course, patient) -> Booking:
    return make_booking(session, patient=patient, course=course, starts_at=TEN)


def tap(session, clinic, value: str, *, user: str = YAMADA, group: str = GROUP, now=NOW):
    return send(session, clinic, Picked(value), user=user, group=group, now=now)


# Linking


def test_a_staff_member_links_their_line_account_with_a_code(session, clinic):
    member = make_staff(session, clinic, name="鈴木 一郎")
    code = staff_links.issue(
        session, clinic_id=clinic.id, purpose="staff_user", staff_id=member.id, now=NOW
    ).code
    sent = send(session, clinic, Text(code.lower()), user=SUZUKI)
    greeting = only(sent, SUZUKI)
    assert greeting.purpose == "chat:staff_direct"
    assert greeting.text.startswith("鈴木 一郎さん、LINEの連携が完了しました")
    assert member.line_user_id == SUZUKI
    # From now on the same user is staff 1:1.
    today = only(send(session, clinic, Text("今日"), user=SUZUKI), SUZUKI)
    assert today.text == "11月30日(月)の予約はありません。"


def test_a_wrong_code_1_to_1_is_refused_and_links_nobody(session, clinic):
    sent = only(send(session, clinic, Text("UK-ZZZZZZ"), user=STRANGER), STRANGER)
    assert sent.purpose == "chat:staff_direct"
    assert "見つかりませんでした" in sent.text


def test_other_words_from_someone_not_linked_go_to_the_patient_chat(session, clinic):
    sent = send(session, clinic, Text("こんにちは"), user=STRANGER)
    assert {item.purpose for item in sent} <= {"chat:patient"}


def test_a_group_becomes_the_staff_group_with_a_code(session):
    clinic = make_clinic(session)
    code = staff_links.issue(session, clinic_id=clinic.id, purpose="staff_group", now=NOW).code
    sent = only(send(session, clinic, Text(code), user=STRANGER, group=GROUP), GROUP)
    assert sent.purpose == "chat:other_group"
    assert sent.text.startswith("このグループをスタッフグループに設定しました")
    assert clinic.line_staff_group_id == GROUP


def test_the_bot_stays_quiet_in_other_groups(session, clinic, yamada, requested):
    assert send(session, clinic, Text("今日"), user=YAMADA, group="Cother") == []
    assert tap(session, clinic, f"req:{requested.id}:approve", group="Cother") == []
    assert requested.status == BookingStatus.REQUESTED


# Answering requests


def test_approve_confirms_and_tells_the_patient_and_the_group(session, clinic, requested, yamada):
    sent = tap(session, clinic, f"req:{requested.id}:approve")
    assert requested.status == BookingStatus.CONFIRMED
    assert requested.changes[-1].actor == f"staff:{yamada.id}"
    told = only(sent, PATIENT)
    assert told.purpose == "patient:confirmed"
    assert "ご予約が確定しました" in told.text
    group = only(sent, GROUP)
    assert group.purpose == "chat:staff_group"
    assert group.text == f"山田 太郎さんが承認しました: {TEN_TEXT}"


def test_decline_asks_a_reason_then_offers_the_patient_alternatives(
    session, clinic, requested, yamada
):
    asked = only(tap(session, clinic, f"req:{requested.id}:decline"), GROUP)
    assert f"req:{requested.id}:decline:full" in asked.values()
    assert requested.status == BookingStatus.REQUESTED

    sent = tap(session, clinic, f"req:{requested.id}:decline:full")
    assert requested.status == BookingStatus.DECLINED
    assert requested.changes[-1].reason == "満席のため"
    told = only(sent, PATIENT)
    assert "（満席のため）" in told.text
    offered = [datetime.fromisoformat(v.split(":", 2)[2]) for v in told.values()]
    assert len(offered) == 3
    assert offered == sorted(offered)
    assert all(not TEN <= start < TEN + timedelta(minutes=30) for start in offered)
    assert all(abs(start - TEN) <= timedelta(hours=1) for start in offered)
    assert only(sent, GROUP).text == (
        f"山田 太郎さんがお断りしました: {TEN_TEXT}（満席のため）\n"
        "患者さまに空き時間の候補を3件お送りしました。"
    )


def test_decline_without_a_reason(session, clinic, requested, yamada):
    sent = tap(session, clinic, f"req:{requested.id}:decline:none")
    assert requested.status == BookingStatus.DECLINED
    assert requested.changes[-1].reason is None
    assert "（" not in only(sent, PATIENT).text.split("\n")[0]


def test_propose_moves_the_request_and_asks_the_patient(session, clinic, requested, yamada):
    offered = only(tap(session, clinic, f"req:{requested.id}:propose"), GROUP)
    times = [reply.label for reply in offered.replies[0].choices]  # type: ignore[union-attr]
    assert times == [
        "12月1日(火) 10:30",
        "12月1日(火) 10:45",
        "12月1日(火) 11:00",
        "12月1日(火) 11:15",
        "12月1日(火) 11:30",
        "12月1日(火) 15:00",
    ]
    assert requested.starts_at == TEN

    sent = tap(session, clinic, offered.values()[2])
    assert requested.starts_at == jst(2026, 12, 1, 11)
    assert (requested.status, requested.awaiting) == (BookingStatus.REQUESTED, Awaiting.PATIENT)
    told = only(sent, PATIENT)
    assert told.purpose == "patient:proposed"
    assert told.values() == [f"proposal:{requested.id}:accept", f"proposal:{requested.id}:decline"]
    assert only(sent, GROUP).text.endswith("を提案しました。患者さまの返答をお待ちください。")


def test_a_proposed_slot_taken_meanwhile_offers_fresh_ones(
    session, clinic, requested, yamada, course
):
    offered = only(tap(session, clinic, f"req:{requested.id}:propose"), GROUP).values()
    other = make_patient(session, clinic, name="高橋 次郎", line_user_id=None)
    make_booking(session, patient=other, course=course, starts_at=jst(2026, 12, 1, 10, 30))
    sent = only(tap(session, clinic, offered[0]), GROUP)
    assert "埋まりました" in sent.text
    assert f"req:{requested.id}:propose:" in sent.values()[0]
    assert requested.starts_at == TEN


def test_someone_not_linked_is_refused_and_nothing_changes(session, clinic, requested, yamada):
    for value in ("approve", "decline:full", "propose"):
        sent = tap(session, clinic, f"req:{requested.id}:{value}", user=STRANGER)
        assert [item.to for item in sent] == [GROUP]
        assert "LINE連携済みのスタッフのみ" in sent[0].text
    assert requested.status == BookingStatus.REQUESTED
    assert len(requested.changes) == 1


def test_the_second_approval_sees_who_handled_it(session, clinic, requested, yamada, suzuki):
    tap(session, clinic, f"req:{requested.id}:approve", user=YAMADA)
    sent = tap(session, clinic, f"req:{requested.id}:approve", user=SUZUKI)
    assert [item.to for item in sent] == [GROUP]
    assert sent[0].text == f"{TEN_TEXT}\n山田 太郎さんが承認済みです。"
    declined = tap(session, clinic, f"req:{requested.id}:decline:full", user=SUZUKI)
    assert declined[0].text.endswith("山田 太郎さんが承認済みです。")
    assert requested.status == BookingStatus.CONFIRMED


def test_reception_staff_are_named_too(session, clinic, requested, yamada):
    desk = make_staff(
        session, clinic, name="受付 花子", role=StaffRole.RECEPTION, line_user_id=SUZUKI
    )
    sent = tap(session, clinic, f"req:{requested.id}:approve", user=SUZUKI)
    assert only(sent, GROUP).text.startswith("受付 花子さんが承認しました")
    again = tap(session, clinic, f"req:{requested.id}:approve", user=YAMADA)
    assert again[0].text.endswith("受付 花子さんが承認済みです。")
    assert requested.changes[-1].actor == f"staff:{desk.id}"


def test_a_proposal_already_made_is_not_answered_again(session, clinic, requested, yamada, suzuki):
    offered = only(tap(session, clinic, f"req:{requested.id}:propose"), GROUP).values()
    tap(session, clinic, offered[0])
    sent = tap(session, clinic, f"req:{requested.id}:approve", user=SUZUKI)
    assert sent[0].text.endswith(
        "山田 太郎さんが別の時間を提案済みです。患者さまの返答をお待ちください。"
    )


def test_an_expired_request_says_so(session, clinic, requested, yamada):
    later = requested.hold_until + timedelta(minutes=1)
    sent = tap(session, clinic, f"req:{requested.id}:approve", now=later)
    assert sent[0].text == f"{TEN_TEXT}\nこのリクエストは期限切れです。"
    assert requested.status == BookingStatus.REQUESTED
    booking.expire_holds(session, now=later)
    sent = tap(session, clinic, f"req:{requested.id}:propose", now=later)
    assert sent[0].text.endswith("このリクエストは期限切れです。")


def test_a_cancelled_request_says_so(session, clinic, requested, yamada):
    booking.cancel(session, booking_id=requested.id, by=Party.PATIENT, actor="patient", now=NOW)
    sent = tap(session, clinic, f"req:{requested.id}:approve")
    assert sent[0].text == f"{TEN_TEXT}\nこのリクエストは取り消されています。"
    assert requested.status == BookingStatus.CANCELLED


def test_another_clinics_request_is_not_found(session, clinic, yamada):
    elsewhere = make_clinic(session, name="別の院")
    make_bed(session, elsewhere)
    make_staff(session, elsewhere)
    theirs = make_booking(
        session,
        patient=make_patient(session, elsewhere),
        course=make_course(session, elsewhere),
        starts_at=TEN,
    )
    sent = tap(session, clinic, f"req:{theirs.id}:approve")
    assert sent[0].text == "このリクエストは見つかりませんでした。"
    assert theirs.status == BookingStatus.REQUESTED


# Agenda


def test_today_tomorrow_and_pending(session, clinic, requested, yamada, course, patient):
    confirmed = make_booking(
        session, patient=patient, course=course, starts_at=jst(2026, 11, 30, 15), staff=yamada
    )
    booking.confirm(session, booking_id=confirmed.id, actor="test", now=NOW)

    today = only(send(session, clinic, Text("今日"), user=YAMADA, group=GROUP), GROUP)
    assert today.text == ("11月30日(月)の予約 1件\n15:00 佐藤 花子さま 骨盤矯正（山田 太郎） 確定")
    tomorrow = only(send(session, clinic, Text("明日"), user=YAMADA, group=GROUP), GROUP)
    assert tomorrow.text == (
        "12月1日(火)の予約 1件\n10:00 佐藤 花子さま 骨盤矯正（山田 太郎） 未承認"
    )
    pending = only(send(session, clinic, Text("未承認"), user=YAMADA, group=GROUP), GROUP)
    heading, carousel = pending.replies
    assert heading == Say("未承認のリクエスト 1件")
    assert isinstance(carousel, Carousel)
    (card,) = carousel.cards
    assert dict(card.rows)["お名前"] == "佐藤 花子"
    assert [choice.value for choice in card.choices] == [
        f"req:{requested.id}:approve",
        f"req:{requested.id}:propose",
        f"req:{requested.id}:decline",
    ]


def test_pending_1_to_1_has_no_buttons(session, clinic, requested, yamada):
    pending = only(send(session, clinic, Text("未承認"), user=YAMADA), YAMADA)
    carousel = pending.replies[1]
    assert isinstance(carousel, Carousel)
    assert carousel.cards[0].choices == ()


def test_nothing_pending_says_so(session, clinic, yamada):
    sent = only(send(session, clinic, Text("未承認"), user=YAMADA, group=GROUP), GROUP)
    assert sent.text == "未承認のリクエストはありません。"


def test_agenda_in_the_group_is_for_linked_staff_only(session, clinic, requested):
    sent = only(send(session, clinic, Text("未承認"), user=STRANGER, group=GROUP), GROUP)
    assert "LINE連携済みのスタッフのみ" in sent.text


def test_expired_and_declined_requests_are_not_listed(session, clinic, requested, yamada):
    later = requested.hold_until + timedelta(minutes=1)
    sent = only(send(session, clinic, Text("未承認"), user=YAMADA, now=later), YAMADA)
    assert sent.text == "未承認のリクエストはありません。"


# Two staff at once, on real connections


def test_two_staff_approving_at_once_one_wins(committed: Database) -> None:
    with committed.transaction() as session:
        clinic = make_clinic(session, line_staff_group_id=GROUP)
        make_bed(session, clinic)
        make_staff(session, clinic, name="山田 太郎", line_user_id=YAMADA)
        make_staff(session, clinic, name="鈴木 一郎", line_user_id=SUZUKI)
        patient = make_patient(session, clinic, line_user_id=PATIENT)
        request = make_booking(
            session, patient=patient, course=make_course(session, clinic), starts_at=TEN
        )
        clinic_id, request_id = clinic.id, request.id
    barrier = threading.Barrier(2)

    def approve(user: str) -> None:
        barrier.wait()
        with committed.transaction() as session:
            clinic = session.get(Clinic, clinic_id)
            assert clinic is not None
            tap(session, clinic, f"req:{request_id}:approve", user=user)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(approve, [YAMADA, SUZUKI]))
    with committed.reader() as session:
        done = session.get(Booking, request_id)
        assert done is not None
        assert [change.to_status for change in done.changes] == [
            BookingStatus.REQUESTED,
            BookingStatus.CONFIRMED,
        ]
        sent = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [row.recipient for row in sent].count(PATIENT) == 1
    answers = [
        reply.text
        for row in sent
        if row.recipient == GROUP
        for reply in codec.load(row.payload["replies"])
        if isinstance(reply, Say)
    ]
    assert len(answers) == 2
    assert sum("さんが承認しました" in answer for answer in answers) == 1
    assert sum(answer.endswith("さんが承認済みです。") for answer in answers) == 1
