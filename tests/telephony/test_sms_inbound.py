"""Replies to the clinic's SMS, really signed: 停止 stops SMS, 再開 restarts it, anything
else gets a pointer to the phone or LINE; a wrong signature stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import campaigns, segments, sms_replies
from backend.models import AuditLog, Clinic, InboundEvent, OutboxMessage, Patient
from tests.conftest import SessionStore
from tests.factories import NOW, make_clinic, make_patient
from tests.telephony.conftest import ACCOUNT, CALLER, PUBLIC, Twilio

SMS_PATH = "/twilio/sms"


def sms_form(body: str, sid: str = "SM" + "1" * 32, sender: str = CALLER) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT,
        "ApiVersion": "2010-04-01",
        "MessageSid": sid,
        "SmsSid": sid,
        "From": sender,
        "To": "+12025550100",
        "Body": body,
        "NumMedia": "0",
    }


@pytest.fixture
def patients(session: Session, clinic: Clinic) -> list[Patient]:
    """The same mobile number in two clinics (one person), and someone else."""
    other_clinic = make_clinic(session, name="別の院")
    return [
        make_patient(session, clinic, phone=CALLER, consent_sms=True),
        make_patient(session, other_clinic, phone=CALLER, consent_sms=True),
        make_patient(session, clinic, name="田中 一郎", phone="+819087654321", consent_sms=True),
    ]


def refreshed(session: Session, patients: list[Patient]) -> list[tuple[bool, bool]]:
    for patient in patients:
        session.refresh(patient)
    return [(patient.sms_opted_out, patient.consent_sms) for patient in patients]


@pytest.mark.parametrize("body", ["停止", " 停止。", "ＳＴＯＰ", "stop", "配信 停止", "「停止」"])
def test_a_stop_reply_opts_every_patient_with_that_number_out(
    twilio: Twilio, session: Session, patients: list[Patient], body: str
) -> None:
    response = twilio.post(SMS_PATH, sms_form(body))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        f"{sms_replies.STOPPED}</Message></Response>"
    )
    assert refreshed(session, patients) == [(True, False), (True, False), (False, True)]
    audit = session.scalars(select(AuditLog).where(AuditLog.actor == "sms")).all()
    assert {entry.patient_id for entry in audit} == {patients[0].id, patients[1].id}


def test_a_restart_reply_reverses_it(
    twilio: Twilio, session: Session, patients: list[Patient]
) -> None:
    twilio.post(SMS_PATH, sms_form("停止", sid="SM" + "1" * 32))
    response = twilio.post(SMS_PATH, sms_form("再開", sid="SM" + "2" * 32))
    assert sms_replies.STARTED in response.text
    assert refreshed(session, patients) == [(False, True), (False, True), (False, True)]


def test_an_opted_out_patient_gets_no_campaign_sms(
    twilio: Twilio, session: Session, clinic: Clinic, patients: list[Patient]
) -> None:
    twilio.post(SMS_PATH, sms_form("ＳＴＯＰ"))
    campaign = campaigns.create(
        session,
        clinic_id=clinic.id,
        name="冬",
        segment=segments.Segment(),
        template="{patient_name}様",
        actor="test",
        now=NOW,
    )
    delivery = campaigns.send(SessionStore(session), campaign_id=campaign.id, now=NOW)
    assert (delivery.queued, delivery.unreachable) == (1, 1)
    assert [row.recipient for row in session.scalars(select(OutboxMessage))] == ["+819087654321"]


def test_anything_else_points_to_the_phone_or_line_and_changes_nothing(
    twilio: Twilio, session: Session, patients: list[Patient]
) -> None:
    response = twilio.post(SMS_PATH, sms_form("腰が痛いので明日行けますか"))
    assert response.status_code == 200
    # This number is a patient of two clinics: which one to call is not for us to guess.
    assert "ご返信にはお答えできません。ご予約・お問い合わせはお電話またはLINE" in response.text
    one_clinic = twilio.post(
        SMS_PATH, sms_form("はい", sid="SM" + "3" * 32, sender="+819087654321")
    )
    assert "テスト整骨院（03-1234-5678）へのお電話、またはLINE" in one_clinic.text
    assert refreshed(session, patients) == [(False, True), (False, True), (False, True)]
    # The reply is recorded without its words: they may be health information.
    events = select(InboundEvent).where(InboundEvent.source == "twilio-sms")
    event = session.scalars(events.order_by(InboundEvent.id)).first()
    assert event is not None
    assert event.payload == {"from": CALLER, "intent": "other"}


def test_a_redelivered_reply_is_handled_once(
    twilio: Twilio, session: Session, patients: list[Patient]
) -> None:
    twilio.post(SMS_PATH, sms_form("停止"))
    again = twilio.post(SMS_PATH, sms_form("停止"))
    assert sms_replies.STOPPED in again.text
    assert len(session.scalars(select(AuditLog).where(AuditLog.actor == "sms")).all()) == 2
    assert len(session.scalars(select(InboundEvent)).all()) == 1


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_a_wrong_signature_is_403_and_stores_nothing(
    twilio: Twilio, session: Session, patients: list[Patient], signature: str
) -> None:
    response = twilio.post(SMS_PATH, sms_form("停止"), signature=signature)
    assert response.status_code == 403
    assert refreshed(session, patients)[0] == (False, True)
    assert session.scalars(select(InboundEvent)).all() == []


def test_a_signature_for_another_url_is_refused(twilio: Twilio, session: Session) -> None:
    response = twilio.post(SMS_PATH, sms_form("停止"), signed_url=PUBLIC + "/twilio/voice")
    assert response.status_code == 403


def test_a_form_without_message_sid_is_400(twilio: Twilio) -> None:
    form = {key: value for key, value in sms_form("停止").items() if "Sid" not in key}
    assert twilio.post(SMS_PATH, form).status_code == 400


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("停止", "stop"),
        ("ＳＴＯＰ　", "stop"),
        ("Stop!", "stop"),
        ("配信停止", "stop"),
        ("再開", "start"),
        ("ｓｔａｒｔ", "start"),
        ("停止しないで", "other"),
        ("", "other"),
    ],
)
def test_intent_tolerates_width_case_and_spacing(text: str, intent: str) -> None:
    assert sms_replies.intent(text) == intent
