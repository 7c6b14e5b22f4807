"""What the caller hears: short, polite spoken Japanese, with days and times read in full
(「12月3日 木曜日 午前10時」), never in the written shorthand of LINE (「12/3(木) 10:00」).

Also the few words staff read about a call (why a callback was asked, how far a caller
got) and the SMS texts, which carry no health information (DESIGN rule 6).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from backend.conversation import words
from backend.conversation.model import Facts

WEEKDAYS = words.WEEKDAYS

AGAIN = "恐れ入ります、もう一度お願いいたします。"
NOT_HEARD = "申し訳ございません。うまくお聞き取りできませんでした。"
FAR_AWAY = "お電話が遠いようですので、失礼いたします。またのお電話をお待ちしております。"
GOODBYE = "お電話ありがとうございました。失礼いたします。"
FAILED = "申し訳ございません。ただいま自動音声ではお手続きができませんでした。"

MENU = (
    "ご用件をお選びください。ご予約は1、ご予約の変更・キャンセルは2、"
    "スタッフとお話しになる方は3、診療時間と場所のご案内は4を押してください。"
    "ご用件をお話しいただいても結構です。"
)
ANYTHING_ELSE = "ほかにご用件はございますか。ある方は1、ない方は2を押してください。"
NOT_YOU = "失礼いたしました。"

CONNECTING = "スタッフにおつなぎいたします。そのまま少々お待ちください。"
NO_ANSWER = "申し訳ございません。ただいまスタッフが電話に出られません。"
CLOSED_FOR_STAFF = "ただいま診療時間外のため、スタッフにおつなぎできません。"
CALLBACK_OFFER = (
    "スタッフから折り返しお電話いたしましょうか。"
    "ご希望の方は1、メニューに戻る方は2を押してください。"
)
CALLBACK_NUMBER = (
    "折り返し先のお電話番号を、市外局番から押してください。最後にシャープを押してください。"
)
NOT_A_NUMBER = "お電話番号を確認できませんでした。"
WILL_CALL_BACK = "スタッフより、折り返しお電話いたします。"
CALLING_BACK = "承知いたしました。" + WILL_CALL_BACK

# Why staff should call back, and how far a caller got: words on the staff card.
CALLBACK_REASONS = {
    "no_answer": "スタッフ不在（転送に応答なし）",
    "closed": "診療時間外のお問い合わせ",
    "unclear": "自動音声で聞き取れず",
    "failed": "自動音声で手続きできず",
    "not_found": "予約が見つからず",
    "late_change": "締切後の予約変更のご希望",
}
STEPS = {
    "idle": "着信直後",
    "greeting": "ごあいさつ",
    "confirm_caller": "ご本人確認",
    "menu": "ご用件の選択",
    "book_when": "予約日時のご希望",
    "book_hour": "予約時間のご希望",
    "book_pick": "空き時間の選択",
    "book_name": "お名前の入力",
    "sms_number": "SMS送信先の入力",
    "manage": "予約の変更・キャンセル",
    "cancel_confirm": "キャンセルの確認",
    "transfer": "スタッフへの転送",
    "callback_offer": "折り返しのご案内",
    "callback_number": "折り返し番号の入力",
    "anything_else": "手続き完了後",
    "goodbye": "終話のごあいさつ",
}


def step_words(step: str | None) -> str:
    """How far a caller got, for staff: 「予約日時のご希望」."""
    return STEPS.get(step or "idle", "ご案内の途中")


def surname(name: str) -> str:
    """「佐藤 花子」 → 「佐藤」: enough to recognise oneself, little to overhear."""
    parts = name.split()
    return parts[0] if parts else name


def spoken_time(value: time) -> str:
    """「午前10時」, 「午後3時30分」, 「正午」."""
    if (value.hour, value.minute) == (12, 0):
        return "正午"
    half = "午前" if value.hour < 12 else "午後"
    minutes = f"{value.minute}分" if value.minute else ""
    return f"{half}{value.hour % 12}時{minutes}"


def spoken_day(value: date) -> str:
    """「12月3日 木曜日」."""
    return f"{value.month}月{value.day}日 {WEEKDAYS[value.weekday()]}曜日"


def spoken_moment(value: datetime) -> str:
    """「12月3日 木曜日 午前10時」, in the zone `value` carries."""
    return f"{spoken_day(value.date())} {spoken_time(value.time())}"


def greeting(facts: Facts, *, open_now: bool) -> str:
    """The clinic's name, and whether the attendant is standing in for closed hours."""
    hello = f"お電話ありがとうございます。{facts.clinic.name}です。"
    if open_now:
        return hello + "自動音声でご案内いたします。"
    return hello + "ただいま診療時間外ですが、ご予約は自動音声で承ります。"


def is_it_you(name: str) -> str:
    """Phones are shared: ask before treating the caller as the カルテ's patient."""
    return f"{surname(name)}様でいらっしゃいますか。はいの方は1、違う方は2を押してください。"


def welcome_back(name: str) -> str:
    """A recognised caller confirmed who they are."""
    return f"{surname(name)}様、いつもありがとうございます。"


def info(facts: Facts) -> str:
    """The opening hours and the address, read aloud."""
    hours = spoken_hours(facts.clinic.hours_text)
    place = spoken_address(facts.clinic.address or "")
    where = f"所在地は、{place}です。" if place else ""
    return f"診療時間のご案内です。{hours}{where}"


_DAYS_LINE = re.compile(
    r"(?P<first>[月火水木金土日])(?:〜(?P<last>[月火水木金土日]))?\s+(?P<ranges>.+)"
)
_RANGE = re.compile(r"(\d{1,2}):(\d{2})〜(\d{1,2}):(\d{2})")
_CLOSED_LINE = re.compile(r"休診日[:：]\s*(?P<days>.+)")


def spoken_hours(hours_text: str) -> str:
    """「月〜金 9:00〜12:00・15:00〜20:00」 as 「月曜から金曜は、午前9時から正午までと、
    午後3時から午後8時まで。」; a line in another shape is read as written."""
    return "".join(_spoken_hours_line(line.strip()) for line in hours_text.splitlines() if line)


def _spoken_hours_line(line: str) -> str:
    closed = _CLOSED_LINE.fullmatch(line)
    if closed:
        named = [f"{day}曜" if day in WEEKDAYS else day for day in closed["days"].split("・")]
        return f"{'・'.join(named)}は休診です。"
    found = _DAYS_LINE.fullmatch(line)
    ranges = _RANGE.findall(found["ranges"]) if found else []
    if not found or not ranges:
        return f"{line}。"
    days = f"{found['first']}曜" + (f"から{found['last']}曜" if found["last"] else "")
    spans = [f"{_clock(a, b)}から{_clock(c, d)}まで" for a, b, c, d in ranges]
    return f"{days}は、{'と、'.join(spans)}。"


def _clock(hour: str, minute: str) -> str:
    return spoken_time(time(int(hour) % 24, int(minute)))


def spoken_address(address: str) -> str:
    """「西新宿1-2-3」 read as 「西新宿1の2の3」, as people say it."""
    return re.sub(r"(?<=\d)[-‐−－ー](?=\d)", "の", address)


def digits_aloud(digits: str) -> str:
    """「5678」 as 「5 6 7 8」, so a number is read digit by digit."""
    return " ".join(digits)


# SMS (no health information: no course names, no symptoms).


def sms_request(facts: Facts, *, start: datetime, confirmed: bool) -> str:
    """The confirmation of a booking request made on the phone."""
    head = "ご予約を承りました。" if confirmed else "お電話でのご予約リクエストを承りました。"
    after = (
        "ご来院をお待ちしております。" if confirmed else "スタッフが確認のうえ、ご連絡いたします。"
    )
    lines = [f"【{facts.clinic.name}】{head}", words.moment(start), after]
    if facts.clinic.line_add_url:
        lines.append(f"LINEでご予約の確認・変更ができます: {facts.clinic.line_add_url}")
    return "\n".join(lines)


def sms_text_back(clinic_name: str, line_add_url: str | None) -> str:
    """To a caller whose call was missed or broke off."""
    head = f"【{clinic_name}】お電話ありがとうございました。ただいまお電話に出られませんでした。"
    if line_add_url:
        return f"{head}LINEからもご予約いただけます: {line_add_url}"
    return f"{head}恐れ入りますが、改めてお電話いただけますと幸いです。"
