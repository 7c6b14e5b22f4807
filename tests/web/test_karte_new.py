"""新しいカルテ: registering a patient at the desk with the edit form's rules; a phone number
another カルテ has is asked about, not refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import AuditAction, AuditLog, Clinic, Gender, Media, Patient
from tests.factories import make_clinic, make_patient
from tests.web.conftest import csrf_of, sign_in


@pytest.fixture
def clinic(session: Session) -> Clinic:
    found = make_clinic(session)
    session.add(Media(clinic_id=found.id, name="ホームページ"))
    session.flush()
    return found


def form(token: str, **fields: str) -> dict[str, str]:
    return {"csrf": token, "name": "山田 さくら", "gender": "female"} | fields


def created(session: Session, name: str) -> Patient:
    return session.scalars(select(Patient).where(Patient.name == name)).one()


def test_the_search_page_leads_to_an_empty_form(web: TestClient, clinic: Clinic) -> None:
    sign_in(web)
    assert 'href="/patients/new"' in web.get("/patients").text
    page = web.get("/patients/new").text
    assert "新しいカルテ" in page
    assert 'action="/patients/new"' in page
    assert "カルテを作成する" in page
    assert "ホームページ" in page  # the clinic's 来院経路
    assert "このお名前で合っているとご本人に確認しました" not in page


def test_a_new_karte_is_registered_audited_and_opened_ready_to_book(
    web: TestClient, session: Session, clinic: Clinic
) -> None:
    token = sign_in(web)
    media = session.scalars(select(Media).where(Media.clinic_id == clinic.id)).one()
    answer = web.post(
        "/patients/new",
        data=form(
            token,
            kana="やまだ さくら",
            phone="０９０－５５５５－１２３４",
            birth_on="1990-05-06",
            media_id=str(media.id),
            tags="紹介、腰痛",
            consent_line="on",
        ),
    )
    assert answer.status_code == 303
    patient = created(session, "山田 さくら")
    assert answer.headers["location"] == f"/patients/{patient.id}?notice=created&book=1"
    assert patient.clinic_id == clinic.id
    assert patient.phone == "+819055551234"
    assert patient.gender == Gender.FEMALE
    assert patient.media_id == media.id
    assert patient.consent_line is True
    assert patient.consent_sms is False
    assert patient.name_verified is True
    assert sorted(tag.tag for tag in patient.tags) == ["紹介", "腰痛"]
    (entry,) = session.scalars(
        select(AuditLog).where(
            AuditLog.patient_id == patient.id, AuditLog.action == AuditAction.CREATE
        )
    ).all()
    assert entry.actor == "dashboard"
    page = web.get(answer.headers["location"]).text
    assert "カルテを作成しました" in page
    assert '<details class="edit card book-card" open>' in page


def test_a_refused_form_keeps_what_was_typed_and_creates_nothing(
    web: TestClient, session: Session, clinic: Clinic
) -> None:
    token = sign_in(web)
    answer = web.post(
        "/patients/new", data=form(token, name="", kana="ヤマダ", phone="12345", note_job="看護師")
    )
    assert answer.status_code == 422
    assert "作成できませんでした" in answer.text
    assert "お名前を入力してください。" in answer.text
    assert "電話番号として正しくありません" in answer.text
    assert 'value="ヤマダ"' in answer.text
    assert "看護師" in answer.text
    assert session.scalars(select(Patient).where(Patient.kana == "ヤマダ")).first() is None


def test_a_phone_number_already_on_a_karte_is_asked_about_once(
    web: TestClient, session: Session, clinic: Clinic
) -> None:
    token = sign_in(web)
    mother = make_patient(session, clinic, name="山田 花子", phone="+819055551234")
    asked = web.post("/patients/new", data=form(token, phone="090-5555-1234"))
    assert asked.status_code == 422
    assert "この電話番号のカルテがすでにあります" in asked.text
    assert f'<a href="/patients/{mother.id}">山田 花子（No.{mother.id}）</a>' in asked.text
    assert 'name="someone_else"' in asked.text
    assert session.scalars(select(Patient).where(Patient.name == "山田 さくら")).first() is None

    token = csrf_of(asked.text)
    answer = web.post("/patients/new", data=form(token, phone="090-5555-1234", someone_else="on"))
    assert answer.status_code == 303
    assert created(session, "山田 さくら").phone == mother.phone


def test_creating_needs_the_form_token(web: TestClient, session: Session, clinic: Clinic) -> None:
    sign_in(web)
    answer = web.post("/patients/new", data=form("forged"))
    assert answer.status_code == 403
    assert session.scalars(select(Patient).where(Patient.name == "山田 さくら")).first() is None


def test_without_a_clinic_the_page_says_so(web: TestClient) -> None:
    token = sign_in(web)
    assert "院が登録されていません" in web.get("/patients/new").text
    assert web.post("/patients/new", data=form(token)).status_code == 422
