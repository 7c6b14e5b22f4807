"""What the patient reads: polite, short Japanese, always saying what happens next."""

from __future__ import annotations

from backend.conversation import words
from backend.conversation.model import Choice, Facts, Say

LABEL_LENGTH = 20  # LINE cuts quick-reply labels at 20 characters

MENU = (
    Choice("予約する", "menu:book"),
    Choice("予約確認", "menu:list"),
    Choice("診療時間・アクセス", "menu:info"),
    Choice("電話する", "menu:call"),
)
STOP = Choice("やめる", "stop")
BACK = Choice("戻る", "back")
SKIP = Choice("スキップ", "skip")
KINDS = (Choice("初めての方", "reg:new"), Choice("通院中の方", "reg:existing"))
GENDERS = (
    Choice("女性", "gender:female"),
    Choice("男性", "gender:male"),
    Choice("その他", "gender:other"),
    Choice("回答しない", "skip"),
)
YES_NO = (Choice("はい", "yes"), Choice("いいえ", "no"))

STATUS_WORDS = {
    "requested": "確認待ち",
    "confirmed": "確定",
    "completed": "ご来院済み",
    "cancelled": "キャンセル済み",
    "declined": "お受けできなかったご予約",
    "expired": "期限切れのリクエスト",
    "no_show": "過ぎたご予約",
}


def label(text: str) -> str:
    """A button label LINE shows whole."""
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1] + "…"


def phone(facts: Facts) -> str:
    """The clinic's number as people in Japan write it (03-1234-5678)."""
    return words.phone(facts.clinic.phone)


def call_us(facts: Facts) -> str:
    """「お電話でご連絡ください」 with the number, when the clinic has one."""
    number = phone(facts)
    return f"お手数ですが、お電話でご連絡ください。\n電話: {number}" if number else ""


def lines(*parts: str) -> str:
    """Join the non-empty parts, one per line."""
    return "\n".join(part for part in parts if part)


# General


def help_(facts: Facts) -> Say:
    """What the bot can do, with the main buttons."""
    return Say(
        lines(
            f"{facts.clinic.name}のLINE受付です。下のボタンからお選びください。",
            "「明日の午後」「12/3 10時」のように送っていただくと、空いている時間をお探しします。",
        ),
        MENU,
    )


def stale() -> Say:
    """A button from an old message."""
    return Say(
        "申し訳ございません。こちらのボタンは受付が終わっています。"
        "お手数ですが、もう一度メニューからお選びください。",
        MENU,
    )


def stopped() -> Say:
    """The patient stopped a flow."""
    return Say("承知しました。手続きを中止しました。ほかにご用があればメニューからどうぞ。", MENU)


def failed(facts: Facts) -> Say:
    """Something went wrong that the patient cannot fix by typing."""
    return Say(lines("申し訳ございません。うまく受け付けられませんでした。", call_us(facts)), MENU)


def info(facts: Facts) -> Say:
    """診療時間・アクセス."""
    clinic = facts.clinic
    parts = [clinic.name, "", "【診療時間】", clinic.hours_text or "お問い合わせください"]
    if clinic.address:
        parts += ["", "【住所】", clinic.address]
    if phone(facts):
        parts += ["", "【電話】", phone(facts)]
    return Say("\n".join(parts), MENU)


def call(facts: Facts) -> Say:
    """電話する."""
    if not phone(facts):
        return Say("申し訳ございません。お電話番号をご案内できません。", MENU)
    return Say(f"お電話はこちらへどうぞ（診療時間内にお願いいたします）。\n{phone(facts)}", MENU)


# Follow and registration


def greeting(facts: Facts) -> str:
    """The first words after a follow."""
    return (
        f"友だち追加ありがとうございます。{facts.clinic.name}です。\n"
        "こちらのLINEで、ご予約・変更・キャンセルができます。"
    )


def welcome_back(facts: Facts, name: str) -> Say:
    """A known patient followed again."""
    return Say(
        f"{name}様、おかえりなさい。{facts.clinic.name}です。\n"
        "またLINEでご予約・変更・キャンセルができます。",
        MENU,
    )


def ask_kind(*, for_booking: bool = False) -> Say:
    """初めての方 or 通院中の方."""
    first = "ご予約の前に、かんたんなご登録をお願いします（1分ほどです）。\n" if for_booking else ""
    return Say(f"{first}当院のご利用は初めてですか？", KINDS)


ASK_NAME = "お名前を漢字でご入力ください。（例：山田 花子）"
BAD_NAME = "お名前を文字だけでご入力ください。（例：山田 花子）"
BAD_KANA = "フリガナはカタカナ（ひらがなでも結構です）でご入力ください。（例：ヤマダ ハナコ）"
ASK_PHONE = "お電話番号をご入力ください。（例：090-1234-5678）"
BAD_PHONE = "お電話番号を確認できませんでした。もう一度ご入力ください。（例：090-1234-5678）"
BAD_BIRTH = "生年月日を読み取れませんでした。1985/4/1 のようにご入力ください。"
ASK_CONSENT = (
    "最後に、次回来院のご案内やお知らせをLINEでお送りしてもよろしいですか？\n"
    "（ご予約に関するご連絡は、どちらでもお送りします）"
)


def ask_kana(name: str) -> Say:
    """フリガナ, after the name."""
    return Say(f"{name}様ですね。フリガナをカタカナでご入力ください。（例：ヤマダ ハナコ）")


def ask_birth(*, optional: bool) -> Say:
    """生年月日, optional when registering, required when matching a カルテ."""
    if optional:
        return Say(
            "生年月日をご入力ください。（例：1985/4/1）\nご回答されない場合は「スキップ」を押してください。",
            (SKIP,),
        )
    return Say("ご登録の生年月日をご入力ください。（例：1985/4/1 または 1985年4月1日）")


def ask_gender() -> Say:
    """性別 (may be skipped)."""
    return Say("性別をお選びください。", GENDERS)


def ask_media(facts: Facts) -> Say:
    """来院経路 from the clinic's media list."""
    choices = tuple(Choice(label(media.name), f"media:{media.id}") for media in facts.media[:12])
    return Say("当院を何でお知りになりましたか？", (*choices, SKIP))


def ask_consent() -> Say:
    """Consent to LINE messages beyond bookings."""
    return Say(ASK_CONSENT, YES_NO)


def registered(name: str) -> str:
    """The カルテ was made."""
    return f"ご登録ありがとうございます。{name}様のカルテを作成しました。"


BOOK_FIRST = "ご予約の前に、ご登録をお願いします。"
NO_BOOKINGS_YET = "まだご登録がないため、ご予約はありません。"
LINKED = "ありがとうございます。カルテとの連携が完了しました。"


def unregistered(facts: Facts) -> str:
    """Someone not registered wrote something that is not a booking."""
    return (
        f"{facts.clinic.name}のLINE受付です。"
        "ご予約には、はじめにかんたんなご登録をお願いしています。"
    )


BOOK_NOW = "ご予約は「予約する」からどうぞ。"


def not_matched(facts: Facts) -> Say:
    """No single カルテ matched: staff will check rather than the bot guessing."""
    return Say(
        lines(
            "ご登録の情報をこちらでは確認できませんでした。スタッフが確認のうえ、ご連絡いたします。",
            f"お急ぎの場合はお電話ください。\n電話: {phone(facts)}" if phone(facts) else "",
        ),
        (Choice("もう一度入力する", "reg:existing"), Choice("初めての方として登録", "reg:new")),
    )


def already_registered(name: str) -> Say:
    """A registration button tapped by a registered patient."""
    return Say(f"{name}様はご登録済みです。ご用件をお選びください。", MENU)
