"""Staff conversations on LINE: the staff group, any other group, and 1:1 with staff.

Each table tries its parts in order (a link code, a request card's buttons, the agenda
words); what none of them claims gets no reply in a group, where staff talk among
themselves, and a short help 1:1. Nothing here needs to remember anything between events,
so every table lives in its start state.
"""

from __future__ import annotations

from collections.abc import Callable

from backend.conversation import staff_agenda, staff_calls, staff_link, staff_requests, staff_words
from backend.conversation.engine import Handler, Table
from backend.conversation.model import Event, Facts, Say, State, Step, Text, Unfollowed

Part = Callable[[State, Event, Facts], Step | None]

HELP = (
    "「今日」「明日」「未承認」と送ると予約を確認できます。\n"
    "予約リクエストへの対応はスタッフグループで行えます。"
)
ONLY_IN_GROUP = "予約の操作はスタッフグループで行ってください。"
SEND_CODE = "スタッフ登録のコード（UK-で始まるもの）を送ってください。"


def is_link_code(event: Event) -> bool:
    """Whether a 1:1 message is a staff link code, which the DIRECT table redeems even for a
    LINE user not linked yet (everyone else 1:1 talks to the patient table)."""
    return isinstance(event, Text) and staff_link.link_code(event.text) is not None


def _first(*parts: Part, otherwise: Handler) -> Handler:
    """A handler that lets the first part that recognises the event answer it."""

    def handle(state: State, event: Event, facts: Facts) -> Step:
        for part in parts:
            step = part(state, event, facts)
            if step is not None:
                return step
        return otherwise(state, event, facts)

    return handle


def _quiet(state: State, event: Event, facts: Facts) -> Step:
    return Step(state)


def _direct_otherwise(state: State, event: Event, facts: Facts) -> Step:
    if isinstance(event, Unfollowed):
        return Step(state)
    if not staff_words.is_staff(facts):
        return Step(state, (Say(SEND_CODE),))
    if staff_requests.is_request_button(event):
        return Step(state, (Say(ONLY_IN_GROUP),))
    return Step(state, (Say(HELP),))


GROUP = Table(
    name="staff_group",
    handlers={
        "idle": _first(
            staff_link.in_group,
            staff_requests.answer,
            staff_calls.answer,
            staff_agenda.in_group,
            otherwise=_quiet,
        )
    },
)
# The bot may sit in groups that are not the staff group: there it answers only a link code.
OTHER_GROUP = Table(
    name="other_group",
    handlers={"idle": _first(staff_link.in_group, otherwise=_quiet)},
)
DIRECT = Table(
    name="staff_direct",
    handlers={
        "idle": _first(staff_link.in_direct, staff_agenda.in_direct, otherwise=_direct_otherwise)
    },
)
