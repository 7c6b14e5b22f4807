"""Segments: each filter in SQL, on a hand-built clinic, and counts per marketing channel."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.orm import Session

from backend import messaging, segments
from backend.errors import Invalid
from backend.models import Clinic, Course, Media, Patient, PatientTag, Staff, Visit
from tests.factories import NOW, jst, make_clinic, make_course, make_patient, make_staff


def visit(
    session: Session, patient: Patient, at: datetime, course: Course, staff: Staff | None = None
) -> Visit:
    row = Visit(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        course_id=course.id,
        staff_id=staff.id if staff else None,
        visited_at=at,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def clinic_world(session: Session) -> SimpleNamespace:
    """Four patients: 花子 (3 visits, LINE, tag VIP), 一郎 (1 visit, SMS), 次郎 (never came,
    email, post), and a merged duplicate of 花子; plus a patient of another clinic."""
    clinic = make_clinic(session)
    massage = make_course(session, clinic, name="全身もみほぐし")
    pelvis = make_course(session, clinic)
    yamada = make_staff(session, clinic)
    suzuki = make_staff(session, clinic, name="鈴木 一郎")
    flyer = Media(clinic_id=clinic.id, name="チラシ")
    session.add(flyer)
    session.flush()
    hanako = make_patient(session, clinic, line_user_id="U1", consent_line=True, media_id=flyer.id)
    hanako.tags.append(PatientTag(tag="VIP"))
    ichiro = make_patient(
        session, clinic, name="田中 一郎", consent_sms=True, birth_on=date(1970, 12, 24)
    )
    jiro = make_patient(
        session,
        clinic,
        name="田中 次郎",
        phone="+81312340000",
        email="jiro@example.jp",
        consent_email=True,
        consent_post=True,
        postal_code="1500001",
        address="東京都渋谷区神宮前1-2-3",
    )
    make_patient(session, clinic, merged_into_id=hanako.id, line_user_id="U9", consent_line=True)
    make_patient(session, make_clinic(session, name="別の院"))
    for day in (1, 8, 15):
        visit(session, hanako, jst(2026, 10, day, 10), pelvis, yamada)
    visit(session, ichiro, jst(2026, 6, 1, 23, 30), massage, suzuki)
    session.flush()
    return SimpleNamespace(clinic=clinic, hanako=hanako, ichiro=ichiro, jiro=jiro)


def names(session: Session, clinic: Clinic, **fields: Any) -> list[str]:
    segment = segments.Segment(**fields)
    return [
        p.name for p in session.scalars(segments.patients(session, clinic=clinic, segment=segment))
    ]


def test_an_empty_segment_is_every_patient_of_the_clinic_but_merged_ones(
    session: Session, clinic_world: SimpleNamespace
) -> None:
    assert names(session, clinic_world.clinic) == ["佐藤 花子", "田中 一郎", "田中 次郎"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"last_visit_from": date(2026, 10, 15)}, ["佐藤 花子"]),
        ({"last_visit_from": date(2026, 10, 16)}, []),
        ({"last_visit_to": date(2026, 10, 14)}, ["田中 一郎"]),
        # 23:30 in Tokyo on 1 June is 14:30 UTC: the day is the clinic's, not UTC's.
        ({"last_visit_from": date(2026, 6, 1), "last_visit_to": date(2026, 6, 1)}, ["田中 一郎"]),
        ({"last_visit_to": date(2026, 5, 31)}, []),
        ({"min_visits": 2}, ["佐藤 花子"]),
        ({"min_visits": 1, "max_visits": 1}, ["田中 一郎"]),
        ({"max_visits": 0}, ["田中 次郎"]),
        ({"course": "全身もみほぐし"}, ["田中 一郎"]),
        ({"staff": "山田 太郎"}, ["佐藤 花子"]),
        ({"media": "チラシ"}, ["佐藤 花子"]),
        ({"tags": ["VIP"]}, ["佐藤 花子"]),
        ({"tags": ["VIP", "家族"]}, []),
        ({"birth_month": 12}, ["田中 一郎"]),
        ({"birth_month": 4}, ["佐藤 花子", "田中 次郎"]),
        ({"channel": "line"}, ["佐藤 花子"]),
        ({"channel": "sms"}, ["田中 一郎"]),
        ({"channel": "email"}, ["田中 次郎"]),
        ({"channel": "post"}, ["田中 次郎"]),
        ({"min_visits": 1, "channel": "sms", "birth_month": 12}, ["田中 一郎"]),
    ],
)
def test_each_filter_narrows_the_segment(
    session: Session, clinic_world: SimpleNamespace, fields: dict[str, Any], expected: list[str]
) -> None:
    assert names(session, clinic_world.clinic, **fields) == expected


def test_withdrawn_consent_opt_out_and_blocking_leave_the_channel(
    session: Session, clinic_world: SimpleNamespace
) -> None:
    clinic_world.hanako.line_reachable = False
    clinic_world.ichiro.sms_opted_out = True
    clinic_world.jiro.consent_post = False
    session.flush()
    for channel in ("line", "sms", "post"):
        assert names(session, clinic_world.clinic, channel=channel) == []


def test_counts_split_by_the_channel_marketing_would_use(
    session: Session, clinic_world: SimpleNamespace
) -> None:
    counts = segments.count(session, clinic=clinic_world.clinic, segment=segments.Segment())
    assert counts == segments.Counts(total=3, line=1, sms=1, email=1, unreachable=0, post=1)
    clinic_world.jiro.consent_email = False
    session.flush()
    counts = segments.count(session, clinic=clinic_world.clinic, segment=segments.Segment())
    assert (counts.email, counts.unreachable, counts.post) == (0, 1, 1)


def test_iterate_pages_through_every_patient_once(
    session: Session, clinic_world: SimpleNamespace
) -> None:
    found = segments.iterate(
        session, clinic=clinic_world.clinic, segment=segments.Segment(), batch=2
    )
    assert [p.name for p in found] == ["佐藤 花子", "田中 一郎", "田中 次郎"]


def test_an_unknown_name_is_refused_naming_the_field(
    session: Session, clinic_world: SimpleNamespace
) -> None:
    segment = segments.Segment(course="存在しないコース")
    with pytest.raises(Invalid) as caught:
        segments.count(session, clinic=clinic_world.clinic, segment=segment)
    assert caught.value.context["field"] == "segment.course"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"birth_month": 13}, "segment.birth_month"),
        ({"last_visit_from": "2026-10-02", "last_visit_to": "2026-10-01"}, "segment.last_visit_to"),
        ({"min_visits": 3, "max_visits": 2}, "segment.max_visits"),
        ({"min_visits": -1}, "segment.min_visits"),
        ({"channel": "fax"}, "segment.channel"),
        ({"tags": [""]}, "segment.tags.0"),
        ({"last_visit_from": "0001-01-01"}, "segment.last_visit_from"),
        ({"colour": "red"}, "segment.colour"),
    ],
)
def test_a_bad_segment_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        segments.parse(data)
    assert caught.value.context["field"] == field


def test_sms_reach_in_sql_agrees_with_the_check_made_when_sending(session: Session) -> None:
    clinic = make_clinic(session)
    phones = [
        "+819012345678",  # 090 mobile
        "+818012345678",  # 080
        "+817012345678",  # 070
        "+81312345678",  # Tokyo landline
        "+815012345678",  # 050 IP phone: no SMS
        "+8190123456",  # too short to be a mobile
        "+81901234567890",  # too long
        "+12065550100",  # not Japanese
    ]
    for n, phone in enumerate(phones):
        make_patient(session, clinic, name=f"番号 {n}", phone=phone, consent_sms=True)

    segment = segments.Segment(channel="sms")
    found = session.scalars(segments.patients(session, clinic=clinic, segment=segment))
    in_sql = {patient.phone for patient in found}

    assert in_sql == {phone for phone in phones if messaging.is_mobile(phone)}
    assert len(in_sql) == 3
