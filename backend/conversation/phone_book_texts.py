"""What the caller hears while booking, changing and cancelling by phone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from backend.conversation import when, words
from backend.conversation.phone_texts import digits_aloud, spoken_day, spoken_moment, spoken_time

ASK_WHEN = (
    "ご希望の日にちとお時間をお話しください。例えば、明日の午後、金曜日の10時、のようにお話しください。"
    "番号で入力される場合は、日にちを4桁で押してください。12月3日でしたら、1203です。"
)
NOT_A_DAY = "日にちを確認できませんでした。"
NOT_A_TIME = "お時間を確認できませんでした。"
NO_MORE = "ご案内できるお時間は以上です。"
NOTHING_NEAR = "近い日程に空きが見つかりませんでした。"
TAKEN = "申し訳ございません。そのお時間は、ちょうど埋まってしまいました。"
GONE = "そのお時間は、すでに過ぎております。"
ASK_NAME = "ご予約のお名前を、フルネームでお話しください。"
NO_COURSE = "申し訳ございません。ただいまお電話でご予約いただけるメニューがございません。"
SMS_WILL_BE_SENT = "確認のショートメッセージをお送りします。"
ASK_MOBILE = (
    "確認のショートメッセージをお送りします。携帯電話の番号を、11桁で押してください。"
    "不要な方は、シャープを押してください。"
)
NOT_A_MOBILE = "携帯電話の番号を確認できませんでした。"
SMS_SKIPPED = "承知いたしました。ショートメッセージはお送りしません。"
NO_BOOKINGS = "このお電話番号でお預かりしているご予約は見つかりませんでした。"
WITHHELD = "お電話番号が非通知のため、ご予約をお調べできませんでした。"
KEPT = "承知いたしました。ご予約はそのままです。"
NOT_ACTIVE = "このご予約は、すでにお手続きが済んでいるため、変更・キャンセルはできません。"

_WINDOW_WORDS = {(start, end): word for word, (start, end) in when.WINDOWS.items()}


def ask_hour(day: date) -> str:
    """After a day keyed as MMDD: the time, keyed as HHMM."""
    return (
        f"{spoken_day(day)}ですね。ご希望のお時間を4桁で押してください。"
        "午後3時でしたら、1500です。お時間のご希望がなければ、0とシャープを押してください。"
    )


def wanted(search: Mapping[str, Any]) -> str:
    """What the caller asked for: 「12月3日 木曜日 午前10時」, 「11月27日 金曜日の午後」."""
    try:
        first = date.fromisoformat(str(search["date_from"]))
        last = date.fromisoformat(str(search["date_to"]))
    except (KeyError, ValueError):
        return "ご希望の日時"
    days = spoken_day(first) if first == last else f"{spoken_day(first)}から{spoken_day(last)}"
    start, end = _time(search.get("time_from")), _time(search.get("time_to"))
    if search.get("kind") == "exact" and start is not None:
        return f"{days} {spoken_time(start)}"
    if search.get("kind") == "window":
        return f"{days}の{_window(start, end)}"
    return days


def _time(value: object) -> time | None:
    return time.fromisoformat(value) if isinstance(value, str) and value else None


def _window(start: time | None, end: time | None) -> str:
    word = _WINDOW_WORDS.get((start, end))
    if word:
        return word
    if start and end:
        return f"{spoken_time(start)}から{spoken_time(end)}まで"
    return f"{spoken_time(start)}以降" if start else f"{spoken_time(end or time(0))}まで"


def no_room(reason: str, search: Mapping[str, Any]) -> str:
    """Why the time asked for cannot be booked."""
    asked = wanted(search)
    reasons = {
        "closed_day": f"{asked}は、休診日です。",
        "closed_hours": f"{asked}は、診療時間外です。",
        "full": f"{asked}は、あいにく埋まっております。",
        "staff_off": f"{asked}は、担当スタッフがお休みをいただいております。",
        "past": f"{asked}は、すでに受付を終了しております。",
        "beyond": f"{asked}は、まだご予約を承っておりません。",
    }
    return reasons.get(reason, f"{asked}は、あいにく空きがございません。")


def found(search: Mapping[str, Any], reason: str) -> str:
    """Before the free times found for what was asked."""
    if reason:
        return f"{no_room(reason, search)}近いお時間をご案内します。"
    return f"{wanted(search)}のご希望ですね。空いているお時間をご案内します。"


def later(search: Mapping[str, Any], reason: str) -> str:
    """Before free times after a day with no room."""
    return f"{no_room(reason, search)}それ以降で空いているお時間をご案内します。"


def offer(starts: list[datetime]) -> str:
    """「1番、12月3日 木曜日 午前10時。2番、午前10時15分。」 and how to choose."""
    items = []
    for number, start in enumerate(starts, start=1):
        same_day = number > 1 and start.date() == starts[number - 2].date()
        said = spoken_time(start.time()) if same_day else spoken_moment(start)
        items.append(f"{number}番、{said}。")
    other = "ほかのお時間をお探しの場合は、9を押してください。"
    return "".join(items) + "ご希望の番号を押してください。" + other


def exact_free(start: datetime) -> str:
    """The time asked for is free."""
    return (
        f"{spoken_moment(start)}は、ご予約いただけます。"
        "このお時間でよろしければ1、ほかのお時間をお探しの場合は9を押してください。"
    )


def heard_name(name: str) -> str:
    """The name as heard, said back."""
    return f"{name}様ですね。"


def requested(status: str, start: datetime, course: str) -> str:
    """What happens next: staff confirm the request, or it is confirmed already."""
    what = f"{spoken_moment(start)}、{course}"
    if status == "confirmed":
        return f"ご予約を承りました。{what}です。ご来院をお待ちしております。"
    return f"ご予約のリクエストを承りました。{what}です。スタッフが確認し、ご連絡いたします。"


def sms_to(number: str) -> str:
    """A keyed mobile number, said back by its last four digits."""
    last_four = digits_aloud(number[-4:])
    return f"末尾 {last_four} の携帯電話に、確認のショートメッセージをお送りします。"


def bookings_found(count: int) -> str:
    """Before reading the caller's bookings one by one."""
    return f"このお電話番号でお預かりしているご予約が、{count}件ございます。"


def booking_item(index: int, start: datetime, name: str, course: str, *, last: bool) -> str:
    """One booking, and what the keys do with it."""
    nine = "メニューに戻る場合は9" if last else "次のご予約は9"
    return (
        f"{index + 1}件目、{spoken_moment(start)}、{name}様、{course}のご予約です。"
        f"キャンセルは1、日時の変更は2、{nine}を押してください。"
    )


def confirm_cancel(start: datetime) -> str:
    """Ask before cancelling."""
    return (
        f"{spoken_moment(start)}のご予約をキャンセルいたします。"
        "よろしければ1、おやめになる場合は2を押してください。"
    )


def cancelled(start: datetime | None) -> str:
    """The booking is cancelled."""
    what = f"{spoken_moment(start)}の" if start else ""
    return f"{what}ご予約のキャンセルを承りました。"


def too_late(deadline_minutes: int, action: str) -> str:
    """After the deadline the attendant cannot cancel or move: staff call back."""
    limit = words.minutes(deadline_minutes)
    return (
        f"申し訳ございません。ご予約の{limit}前を過ぎているため、自動音声では{action}を承れません。"
    )


def changing(start: datetime) -> str:
    """Before asking for the new time."""
    return f"{spoken_moment(start)}のご予約を変更いたします。"


def moved(status: str, start: datetime) -> str:
    """The change is requested (staff confirm it) or done."""
    if status == "confirmed":
        return f"ご予約を、{spoken_moment(start)}に変更いたしました。"
    return (
        f"ご予約の変更を承りました。変更後は、{spoken_moment(start)}です。"
        "スタッフが確認し、ご連絡いたします。"
    )
