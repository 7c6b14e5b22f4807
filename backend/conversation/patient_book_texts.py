"""What the patient reads while booking, changing and cancelling (polite, short Japanese)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from backend.conversation import when, words
from backend.conversation.model import Card, Choice, CourseInfo, DatePick, Facts, Say
from backend.conversation.patient_texts import BACK, MENU, STOP, call_us, label, lines


def course_line(course: CourseInfo) -> str:
    """「骨盤矯正（30分・4,400円）」."""
    return f"{course.name}（{words.minutes(course.minutes)}・{price(course)}）"


def price(course: CourseInfo) -> str:
    """The price a patient pays; insurance courses are a guide."""
    if course.insurance:
        return f"{words.yen(course.price_yen)}〜（保険適用）"
    return words.yen(course.price_yen)


def period(first: date, last: date) -> str:
    """「11月28日(土)」 or 「11月28日(土)〜11月29日(日)」."""
    return words.day(first) if first == last else f"{words.day(first)}〜{words.day(last)}"


def slot_label(start: datetime, *, with_day: bool) -> str:
    """「10:00」, or 「12/4(金) 10:00」 when the offer spans several days."""
    if not with_day:
        return words.clock(start)
    return f"{start.month}/{start.day}({words.WEEKDAYS[start.weekday()]}) {words.clock(start)}"


def _hhmm(text: str) -> str:
    """「09:00」 → 「9:00」."""
    return text.lstrip("0") if not text.startswith("00") else text[1:]


_WINDOW_WORDS = {
    (start.strftime("%H:%M") if start else None, end.strftime("%H:%M") if end else None): word
    for word, (start, end) in when.WINDOWS.items()
}


def window(time_from: str | None, time_to: str | None) -> str:
    """「午後」, 「16:00〜19:00」, 「15:00以降」 or 「12:00まで」."""
    word = _WINDOW_WORDS.get((time_from, time_to))
    if word:
        return word
    if time_from and time_to:
        return f"{_hhmm(time_from)}〜{_hhmm(time_to)}"
    return f"{_hhmm(time_from)}以降" if time_from else f"{_hhmm(time_to or '')}まで"


def wanted(search: Mapping[str, Any]) -> str:
    """What the patient asked for: 「11月27日(金) 午後」, 「12月3日(木) 10:00」."""
    try:
        first = date.fromisoformat(str(search["date_from"]))
        last = date.fromisoformat(str(search["date_to"]))
    except (KeyError, ValueError):
        return "ご希望の日時"
    days = period(first, last)
    if search.get("kind") == "exact":
        return f"{days} {_hhmm(str(search.get('time_from')))}"
    if search.get("kind") == "window":
        return f"{days} {window(search.get('time_from'), search.get('time_to'))}"
    return days


def ask_course(courses: list[CourseInfo], note: str = "") -> Say:
    """メニュー, with length and price."""
    listed = [f"・{course_line(course)}" for course in courses]
    choices = tuple(Choice(label(course.name), f"course:{course.id}") for course in courses)
    return Say(lines(note, "ご希望のメニューをお選びください。", *listed), (*choices, STOP))


def ask_staff(facts: Facts, note: str = "") -> Say:
    """指名 (or none)."""
    staff = tuple(Choice(label(member.name), f"staff:{member.id}") for member in facts.staff[:10])
    return Say(
        lines(note, "担当スタッフのご指名はありますか？"),
        (Choice("指名なし", "staff:0"), *staff, BACK),
    )


def ask_day(days: list[date], first: date, last: date, note: str = "") -> Say:
    """Days with room, and a calendar for any other day."""
    choices = tuple(Choice(words.day(day), f"day:{day.isoformat()}") for day in days[:8])
    return Say(
        lines(
            note,
            "ご希望の日をお選びください。空きのある日を表示しています。",
            "カレンダーからも選べます。「12/3 10時」のように送っていただいても結構です。",
        ),
        (*choices, BACK),
        DatePick("カレンダーから選ぶ", "pick_day", first, last),
    )


def no_days(facts: Facts) -> Say:
    """Nothing free in the whole booking window."""
    return Say(
        lines("申し訳ございません。ご予約いただける日に空きがありませんでした。", call_us(facts)),
        MENU,
    )


def past_day(day: date) -> str:
    """A calendar day already gone."""
    return f"{words.day(day)}はすでに過ぎています。"


def offer(intro: str, starts: list[datetime], *, more: bool) -> Say:
    """Free times as buttons (at most 12, or 11 and 「もっと後の時間」), and 「別の日にする」."""
    with_day = len({start.date() for start in starts}) > 1
    shown = starts[:11] if more else starts[:12]
    choices = [
        Choice(slot_label(start, with_day=with_day), f"slot:{start.isoformat()}") for start in shown
    ]
    if more and shown:
        choices.append(Choice("もっと後の時間", f"more:{shown[-1].isoformat()}"))
    return Say(intro, (*choices, *OTHER_DAY))


OTHER_DAY = (Choice("別の日にする", "back"),)
PICK_TIME = "ご希望の時間をお選びください。"
GONE = "そのお時間はすでに過ぎています。"


def found(search: Mapping[str, Any], reason: str, staff: str = "") -> str:
    """The words before the free times found for what the patient asked."""
    if reason:
        return lines(no_room(reason, search, staff), NEAREST)
    if search.get("after"):
        return f"{wanted(search)}の続きの時間です。{PICK_TIME}"
    if search.get("kind") == "day":
        return f"{wanted(search)}の空いている時間です。{PICK_TIME}"
    return f"{wanted(search)}で空いている時間です。{PICK_TIME}"


def no_room(reason: str, search: Mapping[str, Any], staff: str = "") -> str:
    """Why nothing was found: 休診日, 診療時間外, 満席, the nominee's day off, past, too far."""
    asked = wanted(search)
    reasons = {
        "closed_day": f"{asked}は休診日です。",
        "closed_hours": f"{asked}は診療時間外です。",
        "full": f"{asked}はあいにく満席です。",
        "staff_off": f"{asked}はご指名の{staff}がお休みをいただいています。",
        "past": f"{asked}はすでに受付を終了しています。",
        "beyond": f"{asked}はまだご予約を承っていない日です。",
    }
    return reasons.get(reason, f"{asked}は空きがありませんでした。")


def confirm_card(
    facts: Facts, course: CourseInfo, staff: str, start: datetime, previous: datetime | None
) -> Card:
    """The summary to confirm a booking, or a change when `previous` is given."""
    rows: tuple[tuple[str, str], ...] = (("日時", words.moment(start)),)
    if previous is not None:
        rows = (("変更前", words.moment(previous)), ("変更後", words.moment(start)))
    rows += (("メニュー", course.name), ("担当", staff or "指名なし"), ("料金", price(course)))
    ok = "この日時に変更する" if previous else "この内容で予約する"
    return Card(
        title="ご予約の変更" if previous else "ご予約内容の確認",
        rows=rows,
        choices=(Choice(ok, "ok"), Choice("時間を選び直す", "back"), STOP),
        note=f"よろしければ「{ok}」を押してください。",
    )


def booked(status: str, start: datetime, course: str) -> Say:
    """What happens next after a request: staff confirm it, or it is confirmed already."""
    when_text = f"{words.moment(start)}〜 {course}"
    if status == "confirmed":
        return Say(
            lines(
                "ご予約が確定しました。",
                when_text,
                "ご来院をお待ちしております。変更・キャンセルは「予約確認」からどうぞ。",
            ),
            MENU,
        )
    return Say(
        lines(
            "ご予約のリクエストを受け付けました。",
            when_text,
            "スタッフが確認してご連絡します。確定のご連絡まで少々お待ちください。",
        ),
        MENU,
    )


def taken(start: datetime | None) -> str:
    """The time went to someone else between the offer and the tap."""
    asked = f"{words.moment(start)}は" if start else "ご希望の時間は"
    return f"申し訳ございません。{asked}ちょうど埋まってしまいました。"


NEAREST = "近い時間で空いているのはこちらです。ご希望の時間をお選びください。"
LATER = "それ以降で空いている時間はこちらです。"
NO_ALTERNATIVES = (
    "近い日程に空きが見つかりませんでした。別の日をお選びいただくか、お電話でご相談ください。"
)
