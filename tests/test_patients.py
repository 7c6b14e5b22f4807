"""The カルテ: phone normalisation, create and update with audit, kana-insensitive search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import patients
from backend.errors import Invalid, NotFound
from backend.models import AuditAction, AuditLog, Media, Patient
from tests.factories import NOW, make_clinic, make_patient

LATER = NOW + timedelta(hours=2)


@pytest.fixture
def clinic(session: Session):
    return make_clinic(session, hours=False)


def audit_entries(session: Session, patient_id: int) -> list[AuditLog]:
    query = select(AuditLog).where(AuditLog.patient_id == patient_id).order_by(AuditLog.id)
    return list(session.scalars(query))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("090-1234-5678", "+819012345678"),
        ("09012345678", "+819012345678"),
        ("０９０－１２３４－５６７８", "+819012345678"),
        ("０９０ー１２３４ー５６７８", "+819012345678"),
        (" +81 90 1234 5678 ", "+819012345678"),
        ("+81-90-1234-5678", "+819012345678"),
        ("03-1234-5678", "+81312345678"),
        ("(03) 1234-5678", "+81312345678"),
        ("0120-123-456", "+81120123456"),
        ("050-1234-5678", "+815012345678"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_phone_numbers_are_stored_in_e164(raw: str, expected: str) -> None:
    assert patients.normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "abc", "123", "090-1234-567", "090-1234-5678-9999", "0000000000", "+81", "📞", "0" * 300],
)
def test_junk_is_not_a_phone_number(raw: str) -> None:
    with pytest.raises(Invalid) as refused:
        patients.normalize_phone(raw)
    assert refused.value.context["field"] == "phone"


def test_create_normalises_and_audits_field_names_only(session: Session, clinic) -> None:
    patient = patients.create(
        session,
        clinic_id=clinic.id,
        actor="reception",
        now=NOW,
        name="高橋 健",
        kana="たかはし けん",
        phone="080-2222-3333",
        consent_line=True,
        tags=["回数券", " 回数券 ", "紹介"],
    )
    assert patient.phone == "+818022223333"
    assert patient.kana == "タカハシ ケン"
    assert patient.consent_updated_at == NOW
    assert [tag.tag for tag in patient.tags] == ["回数券", "紹介"]
    [entry] = audit_entries(session, patient.id)
    assert (entry.action, entry.actor) == (AuditAction.CREATE, "reception")
    assert entry.detail == "fields consent_line, kana, name, phone, tags"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ｽｽﾞｷ　ｲﾁﾛｳ", "スズキ イチロウ"),
        ("  すずき   いちろう ", "スズキ イチロウ"),
        ("鈴木 いちろう", "鈴木 イチロウ"),
        ("　", None),
        ("", None),
        (None, None),
    ],
)
def test_create_stores_kana_as_full_width_katakana(
    session: Session, clinic, typed: str | None, stored: str | None
) -> None:
    patient = patients.create(
        session, clinic_id=clinic.id, actor="a", now=NOW, name="鈴木 一郎", kana=typed
    )
    session.expire_all()
    assert session.get(Patient, patient.id).kana == stored


def test_update_stores_kana_as_full_width_katakana(session: Session, clinic) -> None:
    patient = make_patient(session, clinic, kana="スズキ")
    patients.update(session, patient_id=patient.id, actor="a", now=LATER, kana="すずき")
    assert audit_entries(session, patient.id)[-1].detail == "fields none"
    patients.update(session, patient_id=patient.id, actor="a", now=LATER, kana="ｽｽﾞｷ ｲﾁﾛｳ")
    assert patient.kana == "スズキ イチロウ"
    assert audit_entries(session, patient.id)[-1].detail == "fields kana"
    patients.update(session, patient_id=patient.id, actor="a", now=LATER, kana=" 　")
    assert patient.kana is None


def test_kana_that_normalising_lengthens_past_the_column_is_refused(
    session: Session, clinic
) -> None:
    fits = patients.create(
        session, clinic_id=clinic.id, actor="a", now=NOW, name="x", kana="ア" * 100
    )
    assert fits.kana == "ア" * 100
    with pytest.raises(Invalid) as refused:
        patients.create(session, clinic_id=clinic.id, actor="a", now=NOW, name="x", kana="㌔" * 51)
    assert refused.value.context["field"] == "kana"


def test_create_refuses_what_does_not_fit(session: Session, clinic) -> None:
    other = make_clinic(session, hours=False, name="別の院")
    media = Media(clinic_id=other.id, name="チラシ")
    session.add(media)
    session.flush()
    with pytest.raises(Invalid, match="name"):
        patients.create(session, clinic_id=clinic.id, actor="a", now=NOW, kana="カナ")
    with pytest.raises(Invalid) as unknown:
        patients.create(session, clinic_id=clinic.id, actor="a", now=NOW, name="x", symptoms="腰痛")
    assert unknown.value.context["field"] == "symptoms"
    with pytest.raises(NotFound) as foreign:
        patients.create(
            session, clinic_id=clinic.id, actor="a", now=NOW, name="x", media_id=media.id
        )
    assert foreign.value.context["field"] == "media_id"
    with pytest.raises(NotFound):
        patients.create(session, clinic_id=clinic.id + 999_999, actor="a", now=NOW, name="x")


def test_update_audits_changed_field_names_never_values(session: Session, clinic) -> None:
    patient = make_patient(session, clinic)
    patients.update(
        session,
        patient_id=patient.id,
        actor="owner",
        now=LATER,
        phone="070-9999-8888",
        note_job="看護師",
        name=patient.name,
    )
    entry = audit_entries(session, patient.id)[-1]
    assert entry.action == AuditAction.UPDATE
    assert entry.detail == "fields note_job, phone"
    assert "看護師" not in entry.detail
    assert "9999" not in entry.detail
    assert patient.phone == "+817099998888"
    assert patient.updated_at == LATER
    assert patient.consent_updated_at is None


def test_consent_changes_are_timestamped(session: Session, clinic) -> None:
    patient = make_patient(session, clinic)
    patients.update(session, patient_id=patient.id, actor="a", now=LATER, consent_sms=True)
    assert patient.consent_updated_at == LATER
    patients.update(session, patient_id=patient.id, actor="a", now=LATER + timedelta(days=1))
    patients.update(session, patient_id=patient.id, actor="a", now=NOW, consent_sms=True)
    assert patient.consent_updated_at == LATER


def test_tags_are_replaced(session: Session, clinic) -> None:
    patient = patients.create(
        session, clinic_id=clinic.id, actor="a", now=NOW, name="x", tags=["A", "B"]
    )
    patients.update(session, patient_id=patient.id, actor="a", now=LATER, tags=["B", "C"])
    session.expire_all()
    assert [tag.tag for tag in session.get(Patient, patient.id).tags] == ["B", "C"]
    assert audit_entries(session, patient.id)[-1].detail == "fields tags"


def test_update_refuses_nulls_self_referral_and_merged_records(session: Session, clinic) -> None:
    patient = make_patient(session, clinic)
    with pytest.raises(Invalid) as null:
        patients.update(session, patient_id=patient.id, actor="a", now=NOW, gender=None)
    assert null.value.context["field"] == "gender"
    with pytest.raises(Invalid):
        patients.update(
            session, patient_id=patient.id, actor="a", now=NOW, referrer_patient_id=patient.id
        )
    duplicate = make_patient(session, clinic, merged_into_id=patient.id)
    with pytest.raises(Invalid, match="merged"):
        patients.update(session, patient_id=duplicate.id, actor="a", now=NOW, note_job="x")


def test_reading_a_record_is_audited(session: Session, clinic) -> None:
    patient = make_patient(session, clinic)
    assert patients.get(session, patient_id=patient.id, actor="staff:1", now=LATER) is patient
    [entry] = audit_entries(session, patient.id)
    assert (entry.action, entry.actor, entry.at, entry.detail) == (
        AuditAction.READ,
        "staff:1",
        LATER,
        None,
    )
    with pytest.raises(NotFound):
        patients.get(session, patient_id=patient.id + 999_999, actor="a", now=NOW)


@pytest.fixture
def register(session: Session, clinic):
    def make(name: str, kana: str | None, phone: str | None = None, **extra) -> Patient:
        return make_patient(session, clinic, name=name, kana=kana, phone=phone, **extra)

    return make


def names(found: list[Patient]) -> list[str]:
    return [patient.name for patient in found]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("さとう", ["佐藤 花子"]),
        ("サトウ", ["佐藤 花子"]),
        ("ｻﾄｳ", ["佐藤 花子"]),
        ("すずき", ["鈴木 一郎"]),
        ("スズキイチロウ", ["鈴木 一郎"]),
        ("ダ", ["田中 健太"]),
        ("ｹﾝﾀ", ["田中 健太"]),
        ("佐藤", ["佐藤 花子"]),
        ("Ｓｍｉｔｈ", ["Smith John"]),
        ("5678", ["佐藤 花子"]),
        ("090-1234", ["佐藤 花子"]),
        ("+81312", ["鈴木 一郎"]),
        ("03-1234-0000", ["鈴木 一郎"]),
        ("", ["Smith John", "佐藤 花子", "鈴木 一郎", "田中 健太"]),
        ("いない", []),
    ],
)
def test_search_by_name_kana_in_either_script_or_phone(
    session: Session, clinic, register, query: str, expected: list[str]
) -> None:
    register("佐藤 花子", "サトウ ハナコ", "+819012345678")
    register("鈴木 一郎", "すずき いちろう", "+81312340000")
    register("田中 健太", "ﾀﾞﾅｶ ｹﾝﾀ")
    register("Smith John", None)
    found = patients.search(session, clinic_id=clinic.id, query=query, limit=10)
    assert names(found) == expected


def test_search_leaves_out_merged_duplicates_and_other_clinics(
    session: Session, clinic, register
) -> None:
    kept = register("佐藤 花子", "サトウ ハナコ")
    register("佐藤 花子", "サトウ ハナコ", merged_into_id=kept.id)
    make_patient(session, make_clinic(session, hours=False), name="佐藤 花子")
    found = patients.search(session, clinic_id=clinic.id, query="さとう", limit=10)
    assert [patient.id for patient in found] == [kept.id]
    every = patients.search(
        session, clinic_id=clinic.id, query="さとう", limit=10, include_merged=True
    )
    assert len(every) == 2


def test_search_is_limited(session: Session, clinic, register) -> None:
    for number in range(5):
        register(f"患者{number}", f"カンジャ{number}")
    assert names(patients.search(session, clinic_id=clinic.id, query="", limit=2)) == [
        "患者0",
        "患者1",
    ]
    with pytest.raises(Invalid):
        patients.search(session, clinic_id=clinic.id, query="", limit=0)
    with pytest.raises(NotFound):
        patients.search(session, clinic_id=clinic.id + 999_999, query="", limit=5)


def test_register_writes_the_row_its_tags_and_the_audit_entry(session: Session, clinic) -> None:
    registered = patients.register(
        session,
        clinic_id=clinic.id,
        actor="patient:phone",
        now=NOW,
        name="山田 花子",
        name_verified=False,
        phone="090-1234-5678",
        consent_sms=True,
        tags=["腰痛", " 腰痛 ", "紹介"],
    )

    session.expire_all()
    found = session.get(Patient, registered)
    assert found is not None
    assert (found.clinic_id, found.name, found.name_verified) == (clinic.id, "山田 花子", False)
    assert (found.phone, found.consent_sms) == ("+819012345678", True)
    assert found.created_at == found.updated_at == found.consent_updated_at == NOW
    assert sorted(tag.tag for tag in found.tags) == ["紹介", "腰痛"]
    entries = audit_entries(session, registered)
    assert [(e.actor, e.action, e.detail, e.at) for e in entries] == [
        (
            "patient:phone",
            AuditAction.CREATE,
            "fields consent_sms, name, name_verified, phone, tags",
            NOW,
        )
    ]


def test_register_refuses_what_create_refuses(session: Session, clinic) -> None:
    for fields, refusal in (
        ({}, Invalid),
        ({"name": " "}, Invalid),
        ({"name": "山田", "phone": "12"}, Invalid),
        ({"name": "山田", "shoe_size": 27}, Invalid),
        ({"name": "山田", "media_id": 987654}, NotFound),
    ):
        with pytest.raises(refusal):
            patients.register(session, clinic_id=clinic.id, actor="x", now=NOW, **fields)
    with pytest.raises(NotFound):
        patients.register(session, clinic_id=987654, actor="x", now=NOW, name="山田")
