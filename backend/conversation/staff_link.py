"""Link codes in chat: recognising one, redeeming it, and the answers staff read.

A code (「UK-7QX4PM」, printed by `uketsuke staff add` or `staff link-group`) links a staff
member's LINE account when sent 1:1, or makes a group the clinic's staff group when posted
there. The codes themselves are checked by backend.staff_links; this module only talks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from backend.conversation.model import Effect, Event, Facts, Result, Say, State, Step, Text

REDEEM_STAFF = "redeem_staff_code"
REDEEM_GROUP = "redeem_group_code"

# Loose on purpose: a mistyped code (an O for a 0) should still reach the staff tables and
# be told it is unknown, not fall through to the patient chat.
_CODE = re.compile(r"UK[-ー―‐−\s]?([A-Z0-9]{6})")
_QUOTES = " \t\r\n「」『』\"'`"

GROUP_LINKED = (
    "このグループをスタッフグループに設定しました。\n"
    "予約リクエストがここに届きます。「今日」「明日」「未承認」で予約を確認できます。"
)
REFUSALS = {
    "unknown": "このコードは見つかりませんでした。コードをご確認ください。",
    "expired": (
        "このコードは有効期限（24時間）が切れています。管理者に新しいコードを発行してもらってください。"
    ),
    "used": "このコードはすでに使われています。管理者に新しいコードを発行してもらってください。",
}
WRONG_PLACE = {
    "staff_user": "このコードは個人用です。公式LINEに1対1で送ってください。",
    "staff_group": "このコードはグループ用です。スタッフグループに投稿してください。",
}
FAILED = "連携できませんでした。もう一度お試しください。"


def link_code(text: str) -> str | None:
    """The link code a message consists of, as 「UK-XXXXXX」, or None.

    Full-width letters, lower case, a missing or Japanese hyphen and quotes around it are
    forgiven: staff copy codes by hand from a terminal or a note."""
    cleaned = unicodedata.normalize("NFKC", text).strip(_QUOTES).upper()
    match = _CODE.fullmatch(cleaned)
    return f"UK-{match.group(1)}" if match else None


def in_group(state: State, event: Event, facts: Facts) -> Step | None:
    """A code posted in a group, and the answer once it was redeemed."""
    return _redeem(state, event, REDEEM_GROUP, _group_linked)


def in_direct(state: State, event: Event, facts: Facts) -> Step | None:
    """A code sent 1:1, and the greeting once the account is linked."""
    return _redeem(state, event, REDEEM_STAFF, _staff_linked)


def _redeem(
    state: State, event: Event, effect: str, linked: Callable[[Mapping[str, Any]], str]
) -> Step | None:
    match event:
        case Text(text=text) if (code := link_code(text)) is not None:
            return Step(state, effect=Effect(effect, {"code": code}))
        case Result(name=name, ok=True, data=data) if name == effect:
            return Step(state, (Say(linked(data)),))
        case Result(name=name, ok=False, data=data) if name == effect:
            return Step(state, (Say(refusal(data)),))
    return None


def _group_linked(data: Mapping[str, Any]) -> str:
    return GROUP_LINKED


def _staff_linked(data: Mapping[str, Any]) -> str:
    return (
        f"{data.get('name', '')}さん、LINEの連携が完了しました。\n"
        "スタッフグループで予約リクエストの承認・お断り・別の時間の提案ができます。\n"
        "ここで「今日」「明日」「未承認」と送ると予約を確認できます。"
    )


def refusal(data: Mapping[str, Any]) -> str:
    """Why a code could not be used, in words staff can act on."""
    if data.get("code") != "link_refused":
        return FAILED
    reason = data.get("reason")
    if reason == "wrong_place":
        return WRONG_PLACE.get(str(data.get("purpose")), REFUSALS["unknown"])
    if reason == "already_linked":
        return _already_linked(data)
    return REFUSALS.get(str(reason), FAILED)


def _already_linked(data: Mapping[str, Any]) -> str:
    if data.get("purpose") == "staff_group":
        return "このグループはすでに別の院のスタッフグループです。"
    other = data.get("staff_name")
    whom = f"（{other}さん）" if other else ""
    return f"このLINEアカウントはすでに別のスタッフ{whom}と連携されています。"
