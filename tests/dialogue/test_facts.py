"""Clinic facts are cached per config token, and every change that matters replaces it."""

from __future__ import annotations

from datetime import time

from sqlalchemy.orm import Session

from backend.dialogue import facts
from backend.models import Media, OpeningHours
from tests.factories import NOW, make_clinic, make_course, make_staff


def test_the_cache_answers_until_something_changes(session: Session) -> None:
    clinic = make_clinic(session)
    first = facts.clinic_facts(session, clinic.id)
    assert facts.clinic_facts(session, clinic.id) is first
    make_course(session, clinic, name="鍼灸")
    session.flush()
    after_course = facts.clinic_facts(session, clinic.id)
    assert after_course is not first
    assert [course.name for course in after_course.courses] == ["鍼灸"]


def test_clinic_staff_media_and_hours_changes_are_seen(session: Session) -> None:
    clinic = make_clinic(session)
    staff = make_staff(session, clinic, name="山田 太郎")
    assert facts.clinic_facts(session, clinic.id).staff_by_line == {}
    staff.line_user_id = "U" + "a" * 32
    session.flush()
    assert facts.clinic_facts(session, clinic.id).staff_by_line == {"U" + "a" * 32: staff.id}
    clinic.name = "新しい名前の整骨院"
    session.flush()
    assert facts.clinic_facts(session, clinic.id).clinic.name == "新しい名前の整骨院"
    session.add(Media(clinic_id=clinic.id, name="チラシ"))
    session.flush()
    assert [media.name for media in facts.clinic_facts(session, clinic.id).media] == ["チラシ"]
    session.add(OpeningHours(clinic_id=clinic.id, weekday=6, opens_at=time(10), closes_at=time(13)))
    session.flush()
    assert "日 10:00〜13:00" in facts.clinic_facts(session, clinic.id).clinic.hours_text


def test_load_puts_now_in_the_clinic_zone(session: Session) -> None:
    clinic = make_clinic(session)
    loaded = facts.load(session, clinic_id=clinic.id, now=NOW)
    assert loaded.now == NOW
    assert loaded.now.utcoffset().total_seconds() == 9 * 3600
