"""One-time link codes: they tie a staff member's LINE account, or the clinic's staff group,
to the clinic.

`uketsuke staff add` / `staff link-group` issue a code; the staff member sends it to the
bot 1:1, or posts it in the group the bot was invited to, and the bot redeems it. A code is
random, works once, and expires after a day, so one seen over a shoulder is soon worthless.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import kana as kana_module
from backend.conversation import staff_link
from backend.errors import Invalid, NotFound
from backend.models import Clinic, LinkCode, Staff, StaffRole

# No 0/O or 1/I/L: codes are read off a terminal and typed on a phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 6
PREFIX = "UK-"
LIFETIME = timedelta(hours=24)
STAFF_USER: Final = "staff_user"
STAFF_GROUP: Final = "staff_group"
Purpose = Literal["staff_user", "staff_group"]


class LinkRefused(Invalid):
    """A link code that cannot be used; `reason` is unknown, expired, used, wrong_place
    (a personal code in a group, or a group code 1:1) or already_linked."""

    code = "link_refused"


def add_staff(
    session: Session,
    *,
    clinic_id: int,
    name: str,
    kana: str | None = None,
    role: StaffRole = StaffRole.PRACTITIONER,
    now: datetime,
) -> tuple[Staff, LinkCode]:
    """Add a staff member and issue the code that links their LINE account."""
    if session.get(Clinic, clinic_id) is None:
        raise NotFound(f"clinic {clinic_id} not found", field="clinic_id")
    if not name.strip():
        raise Invalid("a staff member needs a name", field="name")
    member = Staff(
        clinic_id=clinic_id,
        name=name.strip(),
        kana=kana_module.normalize(kana or "") or None,
        role=role,
        created_at=now,
    )
    session.add(member)
    session.flush()
    link = issue(session, clinic_id=clinic_id, purpose=STAFF_USER, staff_id=member.id, now=now)
    return member, link


def member(session: Session, *, staff_id: int) -> Staff:
    """An active staff member, or NotFound."""
    found = session.get(Staff, staff_id)
    if found is None or not found.active:
        raise NotFound(f"staff {staff_id} not found", field="staff_id")
    return found


def roster(session: Session, *, clinic_id: int) -> list[Staff]:
    """Every staff member of the clinic, active ones first."""
    rows = session.scalars(
        select(Staff).where(Staff.clinic_id == clinic_id).order_by(Staff.active.desc(), Staff.id)
    )
    return list(rows)


def issue(
    session: Session,
    *,
    clinic_id: int,
    purpose: Purpose,
    staff_id: int | None = None,
    now: datetime,
) -> LinkCode:
    """A fresh code for a staff member's LINE account (`staff_user`, give `staff_id`) or for
    the staff group; it replaces any unused code for the same target."""
    _check_target(session, clinic_id=clinic_id, purpose=purpose, staff_id=staff_id)
    _retire_unused(session, clinic_id=clinic_id, purpose=purpose, staff_id=staff_id, now=now)
    link = LinkCode(
        clinic_id=clinic_id,
        code=_unused_code(session),
        purpose=purpose,
        staff_id=staff_id,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(link)
    session.flush()
    return link


def redeem(
    session: Session,
    *,
    code: str,
    line_user_id: str | None = None,
    group_id: str | None = None,
    clinic_id: int,
    now: datetime,
) -> LinkCode:
    """Use a code: link `line_user_id` to the code's staff member, or make `group_id` the
    clinic's staff group. Give exactly one of the two."""
    if (line_user_id is None) == (group_id is None):
        raise Invalid("give either line_user_id or group_id", field="line_user_id")
    link = _usable(session, code=code, clinic_id=clinic_id, now=now)
    if group_id is not None:
        _expect(link, STAFF_GROUP)
        _link_group(session, clinic_id=clinic_id, group_id=group_id)
    else:
        assert line_user_id is not None
        _expect(link, STAFF_USER)
        _link_staff(session, link, line_user_id=line_user_id)
    link.used_at = now
    link.used_by = group_id or line_user_id
    session.flush()
    return link


def _check_target(session: Session, *, clinic_id: int, purpose: str, staff_id: int | None) -> None:
    if session.get(Clinic, clinic_id) is None:
        raise NotFound(f"clinic {clinic_id} not found", field="clinic_id")
    if purpose == STAFF_GROUP:
        if staff_id is not None:
            raise Invalid("a group code belongs to no staff member", field="staff_id")
        return
    if purpose != STAFF_USER:
        raise Invalid(f"unknown purpose {purpose!r}", field="purpose")
    member = session.get(Staff, staff_id) if staff_id is not None else None
    if member is None or member.clinic_id != clinic_id or not member.active:
        raise NotFound(f"staff {staff_id} not found", field="staff_id")


def _retire_unused(
    session: Session, *, clinic_id: int, purpose: str, staff_id: int | None, now: datetime
) -> None:
    # Only the newest code for a target works: an older one printed and left on a desk
    # should not link someone later.
    session.execute(
        update(LinkCode)
        .where(
            LinkCode.clinic_id == clinic_id,
            LinkCode.purpose == purpose,
            LinkCode.staff_id.is_(None) if staff_id is None else LinkCode.staff_id == staff_id,
            LinkCode.used_at.is_(None),
            LinkCode.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def _unused_code(session: Session) -> str:
    for _ in range(10):
        code = PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if session.scalar(select(LinkCode.id).where(LinkCode.code == code)) is None:
            return code
    raise RuntimeError("could not find an unused link code")  # 31**6 codes: never in practice


def _usable(session: Session, *, code: str, clinic_id: int, now: datetime) -> LinkCode:
    wanted = staff_link.link_code(code) or code
    link = session.scalar(
        select(LinkCode)
        .where(LinkCode.code == wanted)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    # Another clinic's code is as good as none: say nothing about it.
    if link is None or link.clinic_id != clinic_id:
        raise LinkRefused("unknown link code", reason="unknown")
    if link.used_at is not None:
        raise LinkRefused("the link code was already used", reason="used")
    if now >= link.expires_at:
        raise LinkRefused("the link code has expired", reason="expired")
    return link


def _expect(link: LinkCode, purpose: str) -> None:
    if link.purpose != purpose:
        raise LinkRefused(
            f"a {link.purpose} code cannot be used here", reason="wrong_place", purpose=link.purpose
        )


def _link_staff(session: Session, link: LinkCode, *, line_user_id: str) -> None:
    member = session.get(Staff, link.staff_id) if link.staff_id is not None else None
    if member is None or member.clinic_id != link.clinic_id or not member.active:
        raise LinkRefused("the staff member of this code is gone", reason="unknown")
    other = session.scalar(
        select(Staff).where(
            Staff.clinic_id == link.clinic_id,
            Staff.line_user_id == line_user_id,
            Staff.id != member.id,
        )
    )
    if other is not None and other.active:
        raise LinkRefused(
            "this LINE account is linked to another staff member",
            reason="already_linked",
            purpose=STAFF_USER,
            staff_name=other.name,
        )
    if other is not None:
        # An inactive (former) staff record still holds this account; release it, or the
        # unique (clinic, LINE user) constraint would refuse the new link.
        other.line_user_id = None
        session.flush()
    member.line_user_id = line_user_id


def _link_group(session: Session, *, clinic_id: int, group_id: str) -> None:
    taken = session.scalar(
        select(Clinic.id).where(Clinic.line_staff_group_id == group_id, Clinic.id != clinic_id)
    )
    if taken is not None:
        raise LinkRefused(
            "this group is another clinic's staff group",
            reason="already_linked",
            purpose=STAFF_GROUP,
        )
    clinic = session.get(Clinic, clinic_id)
    assert clinic is not None
    clinic.line_staff_group_id = group_id
