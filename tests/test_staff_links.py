"""Link codes: issued once, redeemed once, refused when unknown, used, expired or misplaced."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from backend import staff_links
from backend.conversation.staff_link import link_code
from backend.errors import Invalid, NotFound
from backend.models import StaffRole
from tests.factories import NOW, make_clinic, make_staff

USER = "U" + "a" * 32
OTHER_USER = "U" + "b" * 32
GROUP = "C" + "c" * 32


@pytest.fixture
def clinic(session: Session):
    return make_clinic(session)


@pytest.fixture
def member(session: Session, clinic):
    return make_staff(session, clinic, shifts=False)


def user_code(session: Session, clinic, member, now=NOW) -> str:
    return staff_links.issue(
        session, clinic_id=clinic.id, purpose="staff_user", staff_id=member.id, now=now
    ).code


def group_code(session: Session, clinic, now=NOW) -> str:
    return staff_links.issue(session, clinic_id=clinic.id, purpose="staff_group", now=now).code


@contextmanager
def refused(reason: str) -> Iterator[None]:
    """Expect the code to be refused for `reason`."""
    with pytest.raises(staff_links.LinkRefused) as caught:
        yield
    assert caught.value.code == "link_refused"
    assert caught.value.context["reason"] == reason


def test_a_code_is_uk_and_six_characters_without_look_alikes(session, clinic, member):
    link = staff_links.issue(
        session, clinic_id=clinic.id, purpose="staff_user", staff_id=member.id, now=NOW
    )
    assert re.fullmatch(r"UK-[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{6}", link.code)
    assert link.expires_at == NOW + timedelta(hours=24)
    assert link.used_at is None


def test_codes_are_random(session, clinic, member):
    codes = {user_code(session, clinic, member) for _ in range(20)}
    assert len(codes) == 20


def test_redeeming_a_staff_code_links_the_line_account(session, clinic, member):
    code = user_code(session, clinic, member)
    link = staff_links.redeem(
        session, code=code, line_user_id=USER, clinic_id=clinic.id, now=NOW + timedelta(hours=1)
    )
    assert member.line_user_id == USER
    assert link.used_at == NOW + timedelta(hours=1)
    assert link.used_by == USER


def test_a_code_typed_by_hand_is_understood(session, clinic, member):
    code = user_code(session, clinic, member)
    typed = "ｕｋ－" + code[3:].lower()  # full-width, lower case, full-width hyphen
    assert link_code(typed) == code
    staff_links.redeem(session, code=typed, line_user_id=USER, clinic_id=clinic.id, now=NOW)
    assert member.line_user_id == USER


def test_redeeming_a_group_code_sets_the_staff_group(session, clinic):
    code = group_code(session, clinic)
    staff_links.redeem(session, code=code, group_id=GROUP, clinic_id=clinic.id, now=NOW)
    assert clinic.line_staff_group_id == GROUP


def test_a_code_works_once(session, clinic, member):
    code = user_code(session, clinic, member)
    staff_links.redeem(session, code=code, line_user_id=USER, clinic_id=clinic.id, now=NOW)
    with refused("used"):
        staff_links.redeem(
            session, code=code, line_user_id=OTHER_USER, clinic_id=clinic.id, now=NOW
        )
    assert member.line_user_id == USER


def test_a_code_expires_after_24_hours(session, clinic, member):
    code = user_code(session, clinic, member)
    with refused("expired"):
        staff_links.redeem(
            session,
            code=code,
            line_user_id=USER,
            clinic_id=clinic.id,
            now=NOW + timedelta(hours=24),
        )
    assert member.line_user_id is None


def test_an_unknown_code_is_refused(session, clinic):
    with refused("unknown"):
        staff_links.redeem(
            session, code="UK-ZZZZZZ", line_user_id=USER, clinic_id=clinic.id, now=NOW
        )


def test_another_clinics_code_is_unknown_here(session, clinic, member):
    code = user_code(session, clinic, member)
    elsewhere = make_clinic(session, hours=False, name="別の院")
    with refused("unknown"):
        staff_links.redeem(session, code=code, line_user_id=USER, clinic_id=elsewhere.id, now=NOW)
    assert member.line_user_id is None


def test_a_personal_code_does_not_link_a_group_nor_a_group_code_a_person(session, clinic, member):
    personal = user_code(session, clinic, member)
    with refused("wrong_place"):
        staff_links.redeem(session, code=personal, group_id=GROUP, clinic_id=clinic.id, now=NOW)
    shared = group_code(session, clinic)
    with refused("wrong_place"):
        staff_links.redeem(session, code=shared, line_user_id=USER, clinic_id=clinic.id, now=NOW)
    assert clinic.line_staff_group_id is None
    assert member.line_user_id is None


def test_a_line_account_of_another_staff_member_is_refused(session, clinic, member):
    member.line_user_id = USER
    colleague = make_staff(session, clinic, shifts=False, name="鈴木 一郎")
    code = user_code(session, clinic, colleague)
    with refused("already_linked"):
        staff_links.redeem(session, code=code, line_user_id=USER, clinic_id=clinic.id, now=NOW)
    assert colleague.line_user_id is None


def test_a_former_staff_members_account_is_released_for_the_new_link(session, clinic, member):
    member.line_user_id = USER
    member.active = False
    returning = make_staff(session, clinic, shifts=False, name="山田 太郎")
    code = user_code(session, clinic, returning)
    staff_links.redeem(session, code=code, line_user_id=USER, clinic_id=clinic.id, now=NOW)
    assert returning.line_user_id == USER
    assert member.line_user_id is None


def test_relinking_a_staff_member_moves_them_to_the_new_account(session, clinic, member):
    member.line_user_id = USER
    code = user_code(session, clinic, member)
    staff_links.redeem(session, code=code, line_user_id=OTHER_USER, clinic_id=clinic.id, now=NOW)
    assert member.line_user_id == OTHER_USER


def test_a_group_of_another_clinic_is_refused(session, clinic):
    make_clinic(session, hours=False, name="別の院", line_staff_group_id=GROUP)
    code = group_code(session, clinic)
    with refused("already_linked"):
        staff_links.redeem(session, code=code, group_id=GROUP, clinic_id=clinic.id, now=NOW)
    assert clinic.line_staff_group_id is None


def test_a_new_code_retires_the_unused_one(session, clinic, member):
    first = user_code(session, clinic, member)
    second = user_code(session, clinic, member, now=NOW + timedelta(minutes=5))
    later = NOW + timedelta(minutes=10)
    with refused("expired"):
        staff_links.redeem(session, code=first, line_user_id=USER, clinic_id=clinic.id, now=later)
    staff_links.redeem(session, code=second, line_user_id=USER, clinic_id=clinic.id, now=later)
    assert member.line_user_id == USER


def test_a_new_group_code_leaves_personal_codes_alone(session, clinic, member):
    personal = user_code(session, clinic, member)
    group_code(session, clinic)
    staff_links.redeem(session, code=personal, line_user_id=USER, clinic_id=clinic.id, now=NOW)
    assert member.line_user_id == USER


def test_issuing_checks_its_target(session, clinic, member):
    with pytest.raises(NotFound):
        staff_links.issue(
            session, clinic_id=clinic.id, purpose="staff_user", staff_id=None, now=NOW
        )
    with pytest.raises(NotFound):
        staff_links.issue(
            session, clinic_id=clinic.id, purpose="staff_user", staff_id=member.id + 99, now=NOW
        )
    with pytest.raises(Invalid):
        staff_links.issue(
            session, clinic_id=clinic.id, purpose="staff_group", staff_id=member.id, now=NOW
        )
    with pytest.raises(NotFound):
        staff_links.issue(session, clinic_id=clinic.id + 99, purpose="staff_group", now=NOW)


def test_redeeming_needs_exactly_one_of_a_user_or_a_group(session, clinic):
    code = group_code(session, clinic)
    with pytest.raises(Invalid):
        staff_links.redeem(session, code=code, clinic_id=clinic.id, now=NOW)
    with pytest.raises(Invalid):
        staff_links.redeem(
            session, code=code, line_user_id=USER, group_id=GROUP, clinic_id=clinic.id, now=NOW
        )


def test_add_staff_creates_the_member_and_their_code(session, clinic):
    member, link = staff_links.add_staff(
        session, clinic_id=clinic.id, name=" 受付 花子 ", role=StaffRole.RECEPTION, now=NOW
    )
    assert (member.name, member.role, member.line_user_id) == ("受付 花子", "reception", None)
    assert (link.staff_id, link.purpose) == (member.id, "staff_user")
    with pytest.raises(Invalid):
        staff_links.add_staff(session, clinic_id=clinic.id, name="  ", now=NOW)
