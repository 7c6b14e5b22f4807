"""Which channel, when, and whether at all: consent, quiet hours, the marketing cap."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import messaging
from backend.conversation.model import Card, Choice, Say
from backend.models import Channel, MessageKind, OutboxMessage
from tests.factories import jst, make_clinic, make_patient

T, M = MessageKind.TRANSACTIONAL, MessageKind.MARKETING
EVENING = jst(2026, 12, 1, 22, 30)
NOON = jst(2026, 12, 1, 12, 0)


@pytest.mark.parametrize(
    ("fields", "kind", "expected"),
    [
        ({"line_user_id": "U1"}, T, [Channel.LINE, Channel.SMS]),
        ({"line_user_id": "U1"}, M, []),
        ({"line_user_id": "U1", "consent_line": True}, M, [Channel.LINE]),
        ({"line_user_id": "U1", "line_reachable": False}, T, [Channel.SMS]),
        ({"phone": "+81312345678"}, T, []),  # a landline takes no SMS
        ({"sms_opted_out": True}, T, []),
        ({"consent_sms": True}, M, [Channel.SMS]),
        ({"email": "hanako@example.jp"}, T, [Channel.SMS, Channel.EMAIL]),
        ({"email": "hanako@example.jp", "consent_email": True}, M, [Channel.EMAIL]),
    ],
)
def test_routes_follow_reachability_and_consent(session: Session, fields, kind, expected):
    patient = make_patient(session, make_clinic(session), **fields)
    assert [route.channel for route in messaging.routes(patient, kind=kind)] == expected


@pytest.mark.parametrize(
    ("phone", "mobile"),
    [("+819012345678", True), ("+818011112222", True), ("+817033334444", True),
     ("+81312345678", False), ("+815012345678", False), ("+14155550100", False), (None, False)],
)  # fmt: skip
def test_only_japanese_mobiles_take_sms(phone, mobile):
    assert messaging.is_mobile(phone) is mobile


def test_marketing_waits_for_the_morning_and_transactional_does_not(session: Session):
    clinic = make_clinic(session)
    morning = jst(2026, 12, 2, 9)
    assert messaging.after_quiet_hours(clinic, at=EVENING, kind=M) == morning
    assert messaging.after_quiet_hours(clinic, at=jst(2026, 12, 2, 3), kind=M) == morning
    assert messaging.after_quiet_hours(clinic, at=jst(2026, 12, 2, 9), kind=M) == morning
    assert messaging.after_quiet_hours(clinic, at=EVENING, kind=T) == EVENING
    clinic.quiet_hours_transactional = True
    assert messaging.after_quiet_hours(clinic, at=EVENING, kind=T) == morning


def test_quiet_hours_within_one_day(session: Session):
    clinic = make_clinic(session, quiet_start=time(12), quiet_end=time(13))
    noon = jst(2026, 12, 1, 12, 30)
    assert messaging.after_quiet_hours(clinic, at=noon, kind=M) == jst(2026, 12, 1, 13)
    assert messaging.after_quiet_hours(clinic, at=EVENING, kind=M) == EVENING


def test_send_queues_one_row_per_key_on_the_best_channel(session: Session):
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, line_user_id="U1")
    card = Card("ご予約", (("日時", "12月2日(水) 10:00"),), (Choice("確認", "x"),))
    args = {"replies": [Say("明日のご予約です。"), card], "purpose": "reminder", "now": EVENING}
    first = messaging.send(session, clinic=clinic, patient=patient, idempotency_key="k1", **args)
    again = messaging.send(session, clinic=clinic, patient=patient, idempotency_key="k1", **args)
    assert first is not None
    assert again is None
    row = session.get(OutboxMessage, first)
    assert (row.channel, row.recipient, row.due_at) == (Channel.LINE, "U1", EVENING)
    assert row.payload["replies"][1]["title"] == "ご予約"


def test_sms_bodies_are_plain_text_and_marketing_says_how_to_stop(session: Session):
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, consent_sms=True)
    card = Card(
        "ご予約", (("日時", "12月2日(水) 10:00"), ("", "初めての方")), note="お待ちしております"
    )
    sent = messaging.send(
        session,
        clinic=clinic,
        patient=patient,
        replies=[Say("こんにちは"), card],
        purpose="campaign",
        idempotency_key="c1",
        now=EVENING,
        kind=M,
    )
    row = session.get(OutboxMessage, sent)
    assert row.payload["text"] == (
        "こんにちは\n【ご予約】\n日時: 12月2日(水) 10:00\n初めての方\nお待ちしております\n"
        "配信停止は「停止」と返信、またはお電話（03-1234-5678）で"
    )
    assert row.due_at == jst(2026, 12, 2, 9)


def test_marketing_is_capped_per_patient(session: Session):
    clinic = make_clinic(session, marketing_interval_days=7)
    patient = make_patient(session, clinic, consent_sms=True)

    def campaign(key: str, at):
        return messaging.send(
            session,
            clinic=clinic,
            patient=patient,
            replies=[Say("キャンペーンのお知らせ")],
            purpose="campaign",
            idempotency_key=key,
            now=at,
            kind=M,
        )

    noon = jst(2026, 12, 1, 12)
    assert campaign("a", noon) is not None
    assert campaign("b", noon + timedelta(days=6)) is None
    assert campaign("c", noon + timedelta(days=7, minutes=1)) is not None
    assert len(session.scalars(select(OutboxMessage)).all()) == 2


def test_nobody_reachable_means_nothing_queued(session: Session):
    clinic = make_clinic(session)
    patient = make_patient(session, clinic, phone=None)
    sent = messaging.send(
        session,
        clinic=clinic,
        patient=patient,
        replies=[Say("x")],
        purpose="p",
        idempotency_key="k",
        now=EVENING,
    )
    assert sent is None


def test_marketing_email_says_how_to_stop_it_and_a_booking_message_does_not(session: Session):
    clinic = make_clinic(session)
    patient = make_patient(
        session, clinic, phone=None, email="hanako@example.com", consent_email=True
    )
    common = {"clinic": clinic, "patient": patient, "replies": [Say("お知らせです")], "now": NOON}

    advert = messaging.send(session, purpose="campaign", idempotency_key="e1", kind=M, **common)
    notice = messaging.send(session, purpose="booking", idempotency_key="e2", **common)

    assert session.get(OutboxMessage, advert).payload["body"] == (
        "お知らせです\n配信停止をご希望の方は、このメールへのご返信"
        "またはお電話（03-1234-5678）でお知らせください。"
    )
    assert session.get(OutboxMessage, notice).payload["body"] == "お知らせです"
