"""Starting a chat simulator session: the seat (a patient, or a staff member in the staff
group), the wire to the world, then linking the staff member and group as
`uketsuke staff link` / `link-group` would, or a patient's first follow; then the loop."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from backend import remembered, staff_links
from backend.db import Database
from backend.errors import DomainError, NotFound
from backend.models import Clinic, Staff
from backend.settings import Settings
from bot import chat, chat_wire
from bot.chat_world import World


def converse(
    settings: Settings,
    state: dict[str, Any],
    path: Path,
    world: World,
    *,
    staff: bool,
    console: Console,
) -> None:
    """Chat until the user quits, as the patient or (`staff`) the staff member."""
    seat = chat.Seat(state["staff"], state["group"]) if staff else chat.Seat(state["patient"])
    # Both sides are shown (the other one unnumbered); a staff member's 1:1 only to staff.
    chats = {state["patient"]: "patient", state["group"]: "group"}
    if staff:
        chats[state["staff"]] = "direct"
    with httpx.Client(timeout=10) as http:
        link = chat_wire.Link(
            f"{world.server_url}/line/webhook",
            world.fake_url,
            world.secret,
            state["destination"],
            http,
        )
        simulator = chat.Simulator(link, seat, chats=chats, console=console, ask=input)
        role = "a staff member in the staff group" if staff else "a patient"
        console.print(
            f"[bold]LINE simulator[/bold] — you are {role} ({seat.user_id}). "
            f"Server {world.server_url}. :help for help, :q to quit."
        )
        if staff:
            # No follow: unlinked, the staff member would be greeted as a new patient.
            _link_staff(settings, simulator, seat)
        else:
            _first_follow(simulator, seat, path)
            simulator.show_menu()
        simulator.run()


def _first_follow(simulator: chat.Simulator, seat: chat.Seat, path: Path) -> None:
    """Add the bot as a friend, the first time this patient is seen."""
    state = remembered.load(path)
    followed: list[str] = state.setdefault("followed", [])
    if seat.user_id in followed:
        return
    simulator.follow()
    followed.append(seat.user_id)
    remembered.save(path, state)


def _link_staff(settings: Settings, simulator: chat.Simulator, seat: chat.Seat) -> None:
    """Link the simulated staff member and group as `uketsuke staff link` / `link-group`
    would, by sending the codes they print; say how to do it by hand if that fails."""
    console = simulator.console
    try:
        user_code, group_code = _link_codes(settings, seat, console)
    except (SQLAlchemyError, DomainError) as error:
        console.print(
            f"[yellow]could not issue link codes ({type(error).__name__}). By hand: run "
            "`uketsuke staff add --name NAME` and send its code here with `:dm CODE`, then "
            "`uketsuke staff link-group` and type its code here.[/yellow]"
        )
        return
    if user_code:
        console.print(f"[dim]linking your LINE account: sending {user_code} 1:1 to the bot[/dim]")
        simulator.send(
            chat_wire.message_event(user_code, seat.source(True), now_ms=simulator.now_ms()),
            seat.user_id,
        )
    if group_code:
        console.print(f"[dim]linking this group as the staff group: posting {group_code}[/dim]")
        simulator.send(
            chat_wire.message_event(group_code, seat.source(), now_ms=simulator.now_ms())
        )


def _link_codes(
    settings: Settings, seat: chat.Seat, console: Console
) -> tuple[str | None, str | None]:
    """Codes for what is not linked yet: this staff member, and this group."""
    now = datetime.now(UTC)
    database = Database(settings.database_url)
    try:
        with database.transaction() as session:
            clinic = _clinic(session, settings.line.clinic_id)
            user_code = None
            if not _is_linked_staff(session, clinic.id, seat.user_id):
                member = _unlinked_staff(session, clinic.id, now)
                console.print(
                    f"[dim]the simulator acts as staff member {member.name} (id {member.id})[/dim]"
                )
                issued = staff_links.issue(
                    session, clinic_id=clinic.id, purpose="staff_user", staff_id=member.id, now=now
                )
                user_code = issued.code
            group_code = None
            if clinic.line_staff_group_id != seat.group_id:
                group = staff_links.issue(
                    session, clinic_id=clinic.id, purpose="staff_group", now=now
                )
                group_code = group.code
    finally:
        database.dispose()
    return user_code, group_code


def _clinic(session: Session, clinic_id: int | None) -> Clinic:
    query = select(Clinic).order_by(Clinic.id).limit(1)
    found = session.get(Clinic, clinic_id) if clinic_id else session.scalar(query)
    if found is None:
        raise NotFound("no clinic for the LINE channel")
    return found


def _is_linked_staff(session: Session, clinic_id: int, user_id: str) -> bool:
    query = select(Staff.id).where(
        Staff.clinic_id == clinic_id, Staff.line_user_id == user_id, Staff.active.is_(True)
    )
    return session.scalar(query) is not None


def _unlinked_staff(session: Session, clinic_id: int, now: datetime) -> Staff:
    """The first active staff member without a LINE account, or a new one."""
    query = select(Staff).where(
        Staff.clinic_id == clinic_id, Staff.active.is_(True), Staff.line_user_id.is_(None)
    )
    found = session.scalar(query.order_by(Staff.id).limit(1))
    if found is not None:
        return found
    member, _ = staff_links.add_staff(
        session, clinic_id=clinic_id, name="シミュレーター スタッフ", now=now
    )
    return member
