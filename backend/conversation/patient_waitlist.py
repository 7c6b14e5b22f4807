"""キャンセル待ち in the patient's chat: joining when a day is full, seeing and leaving the
list, and taking a freed slot offered by LINE (backend.waitlist sends the offer).

Buttons carry everything they act on, so they work from any state and from old messages:
``wait:<day>:<course id>:<staff id, 0 = 指名なし>`` joins, ``waitlist:<entry id>:leave``
leaves, ``waitoffer:<offer id>`` takes the slot. The words キャンセル待ち or 空き待ち
show the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from backend.conversation import patient_book_texts as book_texts
from backend.conversation import patient_texts as texts
from backend.conversation import words
from backend.conversation.model import Choice, Effect, Facts, Result, Say, State, Step
from backend.conversation.patient_common import (
    ACCEPT_OFFER,
    IDLE,
    JOIN_WAITLIST,
    LEAVE_WAITLIST,
    LIST_WAITLIST,
    NO_STAFF,
    ResultHandler,
    a_day,
    fields,
    fresh,
    moment,
    number,
)

JOIN = "空きが出たら知らせる"
INVITE = "空きが出たらLINEでお知らせすることもできます（キャンセル待ち）。"
WORDS = frozenset(
    {"キャンセル待ち", "空き待ち", "キャンセル待ち確認", "キャンセル待ちの確認", "空き待ち確認"}
)
HOW_TO_LEAVE = "お知らせが不要になりましたら「キャンセル待ち」と送ってお取り消しください。"
TAKEN = "申し訳ありません、この枠は先に埋まりました。"
STILL_WAITING = "キャンセル待ちはそのまま承っております。ほかの日時は「予約する」からどうぞ。"
GONE = "申し訳ありません、このお時間はご予約いただけなくなりました。"
PAST = "申し訳ありません、このお時間はすでに過ぎています。"
OVER = "こちらのご案内は受付が終わっています。ご予約は「予約する」からどうぞ。"
YOURS = "このお時間はすでにご予約を承っています。「予約確認」からご覧いただけます。"
NOT_WAITING = "現在、キャンセル待ちのご登録はありません。"


def invite(step: Step, state: State, search: Mapping[str, Any], reason: str) -> Step:
    """Add 「空きが出たら知らせる」 to the answer when the one day asked for is full for the
    course (and nominee). Not while moving a booking: the list is for new bookings."""
    day = _full_day(search, reason)
    course_id = state.data.get("course_id")
    if day is None or not isinstance(course_id, int) or state.data.get("mode") == "change":
        return step
    if not step.replies or not isinstance(step.replies[-1], Say):
        return step
    staff_id = state.data.get("staff_id")
    nominee = staff_id if isinstance(staff_id, int) else NO_STAFF
    join = Choice(JOIN, f"wait:{day.isoformat()}:{course_id}:{nominee}")
    said = step.replies[-1]
    # After the times offered, before 「別の日にする」: a time that fits now comes first.
    times = tuple(choice for choice in said.choices if choice.value != "back")
    others = tuple(choice for choice in said.choices if choice.value == "back")
    answer = Say(texts.lines(said.text, INVITE), (*times, join, *others), said.date_pick)
    return Step(step.state, (*step.replies[:-1], answer), step.effect)


def _full_day(search: Mapping[str, Any], reason: str) -> date | None:
    # A time window (「午後」) being full says nothing of the rest of the day.
    single = search.get("date_from") == search.get("date_to")
    if reason != "full" or search.get("kind") not in ("day", "exact") or not single:
        return None
    return None if search.get("after") else a_day(search.get("date_from"))


def tapped(value: str) -> Step | None:
    """The waitlist's buttons; None when the value is none of them."""
    join = fields(value, "wait", 3)
    if join and a_day(join[0]) and number(join[1]) and join[2].isdigit():
        staff_id = int(join[2]) or None
        args = {"day": join[0], "course_id": number(join[1]), "staff_id": staff_id}
        return Step(fresh(IDLE), effect=Effect(JOIN_WAITLIST, args))
    leave = fields(value, "waitlist", 2)
    if leave and number(leave[0]) and leave[1] == "leave":
        return Step(fresh(IDLE), effect=Effect(LEAVE_WAITLIST, {"entry_id": number(leave[0])}))
    take = fields(value, "waitoffer", 1)
    if take and number(take[0]):
        return Step(fresh(IDLE), effect=Effect(ACCEPT_OFFER, {"offer_id": number(take[0])}))
    return None


def show(state: State, facts: Facts) -> Step:
    """「キャンセル待ち」: the days the patient waits for, each with 取り消す."""
    if facts.patient is None:
        return Step(fresh(IDLE), (Say(NOT_WAITING, texts.MENU),))
    return Step(fresh(IDLE), effect=Effect(LIST_WAITLIST))


# What the effects found


def _joined(state: State, result: Result, facts: Facts) -> Step:
    day = a_day(result.data.get("day"))
    if result.ok and day is not None:
        if result.data.get("new"):
            said = f"{words.day(day)}に空きが出たら、LINEでお知らせします。"
        else:
            said = f"{words.day(day)}はすでにキャンセル待ちにご登録いただいています。"
        return Step(fresh(IDLE), (Say(texts.lines(said, HOW_TO_LEAVE), texts.MENU),))
    if result.data.get("reason") == "past":
        return Step(fresh(IDLE), (Say("その日はすでに過ぎています。", texts.MENU),))
    if result.data.get("code") == "not_found":
        return Step(fresh(IDLE), (texts.stale(),))
    return Step(fresh(IDLE), (texts.failed(facts),))


def _listed(state: State, result: Result, facts: Facts) -> Step:
    if not result.ok:
        return Step(fresh(IDLE), (texts.failed(facts),))
    found = [item for item in result.data.get("entries", []) if isinstance(item, dict)]
    days = [(a_day(item.get("day")), item) for item in found]
    listed = [(day, item) for day, item in days if day is not None]
    if not listed:
        return Step(fresh(IDLE), (Say(NOT_WAITING, texts.MENU),))
    rows = [f"・{words.day(day)} {item.get('course', '')}" for day, item in listed]
    choices = tuple(
        Choice(texts.label(f"{words.day(day)}を取り消す"), f"waitlist:{item.get('id')}:leave")
        for day, item in listed[:12]
    )
    text = texts.lines("キャンセル待ちにご登録中の日です。", *rows, "取り消す日をお選びください。")
    return Step(fresh(IDLE), (Say(text, choices),))


def _left(state: State, result: Result, facts: Facts) -> Step:
    day = a_day(result.data.get("day"))
    if result.ok and day is not None:
        said = f"{words.day(day)}のキャンセル待ちを取り消しました。"
        return Step(fresh(IDLE), (Say(said, texts.MENU),))
    if result.data.get("code") == "not_found":
        return Step(
            fresh(IDLE), (Say("キャンセル待ちのご登録が見つかりませんでした。", texts.MENU),)
        )
    return Step(fresh(IDLE), (texts.failed(facts),))


def _taken(state: State, result: Result, facts: Facts) -> Step:
    if result.ok:
        start = moment(result.data.get("start"), facts)
        if start is None:
            return Step(fresh(IDLE), (texts.failed(facts),))
        status, course = str(result.data.get("status")), str(result.data.get("course", ""))
        return Step(fresh(IDLE), (book_texts.booked(status, start, course),))
    return Step(fresh(IDLE), (Say(_refusal(result.data), texts.MENU),))


def _refusal(data: Mapping[str, Any]) -> str:
    code, reason = data.get("code"), data.get("reason")
    if code == "illegal_transition" and reason == "yours":
        return YOURS
    if code == "illegal_transition" and reason == "taken":
        return texts.lines(TAKEN, STILL_WAITING)
    if code == "slot_unavailable":
        return PAST if reason == "past" else texts.lines(GONE, STILL_WAITING)
    return OVER


RESULTS: dict[str, ResultHandler] = {
    JOIN_WAITLIST: _joined,
    LIST_WAITLIST: _listed,
    LEAVE_WAITLIST: _left,
    ACCEPT_OFFER: _taken,
}
