"""What the patient reads about their bookings: the list, cancelling, changing, proposals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from backend.conversation import words
from backend.conversation.model import Card, Carousel, Choice, Facts, Reply, Say
from backend.conversation.patient_texts import MENU, STATUS_WORDS, call_us, lines

NO_BOOKINGS = "現在、ご予約はありません。"
NOT_FOUND = "ご予約が見つかりませんでした。お手数ですが「予約確認」から最新の内容をご覧ください。"
KEPT = "承知しました。ご予約はそのままです。"
ALREADY_CONFIRMED = "このご予約はすでに確定しています。「予約確認」からご覧いただけます。"
PROPOSAL_OVER = "こちらのご提案は受付が終わっています。お手数ですが、もう一度ご予約ください。"
PROPOSAL_DECLINED = (
    "承知しました。ご提案の日時はお取り消ししました。ご都合のよい日をお選びください。"
)
PROPOSAL_TAKEN = "申し訳ございません。ご提案の日時が埋まってしまいました。別の日をお選びください。"


def booking_line(start: datetime, course: str) -> str:
    """「12月3日(木) 10:00〜 骨盤矯正」."""
    return f"{words.moment(start)}〜 {course}"


def bookings(items: list[tuple[datetime, Mapping[str, Any]]]) -> tuple[Reply, ...]:
    """The upcoming bookings as cards with 変更 / キャンセル (or the proposal's buttons)."""
    if not items:
        return (Say(f"{NO_BOOKINGS}ご予約は「予約する」からどうぞ。", MENU),)
    cards = tuple(_card(start, item) for start, item in items)
    intro = Say(f"ご予約は{len(cards)}件です。変更・キャンセルは各ご予約のボタンからどうぞ。")
    return intro, Carousel(cards, alt=f"ご予約一覧（{len(cards)}件）")


def _card(start: datetime, item: Mapping[str, Any]) -> Card:
    booking_id = item.get("id")
    rows = (
        ("日時", words.moment(start)),
        ("メニュー", str(item.get("course", ""))),
        ("担当", str(item.get("staff") or "指名なし")),
    )
    if item.get("awaiting") == "patient":
        return Card(
            "日時のご提案",
            rows,
            (
                Choice("この日時で予約する", f"proposal:{booking_id}:accept"),
                Choice("別の日時にする", f"proposal:{booking_id}:decline"),
            ),
            note="スタッフからこの日時をご提案しています。",
        )
    confirmed = item.get("status") == "confirmed"
    return Card(
        "ご予約（確定）" if confirmed else "ご予約（確認待ち）",
        rows,
        (
            Choice("変更", f"booking:{booking_id}:change"),
            Choice("キャンセル", f"booking:{booking_id}:cancel"),
        ),
        note="" if confirmed else "スタッフが確認してご連絡します。",
    )


def ask_cancel(start: datetime, course: str) -> Say:
    """Are you sure?"""
    return Say(
        f"{booking_line(start, course)} のご予約をキャンセルしますか？",
        (Choice("キャンセルする", "ok"), Choice("やめておく", "back")),
    )


def cancelled(start: datetime | None, course: str) -> Say:
    """The booking is cancelled."""
    what = booking_line(start, course) if start else ""
    return Say(
        lines("ご予約をキャンセルしました。", what, "またのご予約をお待ちしております。"), MENU
    )


def too_late(facts: Facts, *, action: str, staff_told: bool) -> Say:
    """After the deadline: call the clinic instead (staff were told of a late cancel)."""
    limit = words.minutes(facts.clinic.cancel_deadline_minutes)
    return Say(
        lines(
            f"申し訳ございません。ご予約の{limit}前を過ぎているため、LINEでは{action}を承れません。",
            call_us(facts),
            "（スタッフにもお伝えしました）" if staff_told else "",
        ),
        MENU,
    )


def not_active(status: str) -> Say:
    """A booking that can no longer be changed or cancelled."""
    word = STATUS_WORDS.get(status, "受付が終わったご予約")
    return Say(f"このご予約は{word}のため、変更・キャンセルはできません。", MENU)


def changing(start: datetime, course: str) -> str:
    """Before the days of a change."""
    return f"{booking_line(start, course)} のご予約を変更します。"


def moved(status: str, start: datetime, course: str) -> Say:
    """The change is requested (staff confirm it) or done."""
    if status == "confirmed":
        return Say(
            lines(
                "ご予約を変更しました。",
                booking_line(start, course),
                "ご来院をお待ちしております。",
            ),
            MENU,
        )
    return Say(
        lines(
            "ご予約の変更を受け付けました。",
            f"変更後: {booking_line(start, course)}",
            "スタッフが確認してご連絡します。確定のご連絡まで少々お待ちください。",
        ),
        MENU,
    )
