"""Registration on LINE: 初めての方 get a new カルテ, 通院中の方 are matched to theirs.

The data gathered waits in the state until the last answer; nothing is written before the
`register` or `match` effect. `then` and `when` in the data remember a booking the patient
started before registering, which goes on once they are registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from backend import kana
from backend.conversation import patient_book as book
from backend.conversation import patient_texts as texts
from backend.conversation.model import Effect, Event, Facts, Reply, Result, Say, State, Step
from backend.conversation.patient_common import (
    CHECK_PHONE,
    IDLE,
    MATCH,
    NO_WORDS,
    REGISTER,
    YES_WORDS,
    ResultHandler,
    fields,
    fresh,
    keep,
    raw_text,
    tapped,
    typed,
)

KIND, NAME, KANA, PHONE, BIRTH = "reg_kind", "reg_name", "reg_kana", "reg_phone", "reg_birth"
GENDER, MEDIA, CONSENT = "reg_gender", "reg_media", "reg_consent"
LINK_PHONE, LINK_BIRTH = "link_phone", "link_birth"
STATES = frozenset({KIND, NAME, KANA, PHONE, BIRTH, GENDER, MEDIA, CONSENT, LINK_PHONE, LINK_BIRTH})
CARRIED = ("then", "when")  # a booking waiting for the registration to finish

_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc-\u30fe・ ]+")
_ERAS = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988, "昭和": 1925, "S": 1925}
_ERAS |= {"大正": 1911, "T": 1911}
_BIRTH = re.compile(
    r"(?P<era>令和|平成|昭和|大正|[RHST])?\s*(?P<y>\d{1,4}|元)\s*[年/.\-]\s*"
    r"(?P<m>\d{1,2})\s*[月/.\-]\s*(?P<d>\d{1,2})\s*日?(?:生まれ)?"
)
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_GENDER_WORDS = {"女性": "female", "女": "female", "男性": "male", "男": "male", "その他": "other"}
_SKIP_WORDS = frozenset({"スキップ", "なし", "無し", "回答しない", "答えない", "skip"})


def start(state: State, facts: Facts, *, intro: str = "", for_booking: bool = False) -> Step:
    """Ask 初めての方 or 通院中の方, keeping a booking the patient already asked for."""
    ask = texts.ask_kind(for_booking=for_booking)
    replies: tuple[Reply, ...] = ((Say(intro),) if intro else ()) + (ask,)
    return Step(State(KIND, keep(state, *CARRIED)), replies)


def start_new(state: State, facts: Facts) -> Step:
    """初めての方: ask the name first."""
    return Step(State(NAME, keep(state, *CARRIED)), (Say(texts.ASK_NAME),))


def start_existing(state: State, facts: Facts) -> Step:
    """通院中の方: ask the phone number the カルテ holds."""
    return Step(State(LINK_PHONE, keep(state, *CARRIED)), (Say(texts.ASK_PHONE),))


def ask_again(state: State, facts: Facts, note: str = "") -> Step:
    """Repeat the current question, after a note saying what was wrong."""
    question = _question(state, facts)
    if note and isinstance(question, Say):
        question = Say(f"{note}\n{question.text}", question.choices, question.date_pick)
    return Step(state, (question,))


def _question(state: State, facts: Facts) -> Reply:
    questions: dict[str, Callable[[], Reply]] = {
        KIND: texts.ask_kind,
        NAME: lambda: Say(texts.ASK_NAME),
        KANA: lambda: texts.ask_kana(str(state.data.get("full_name", ""))),
        PHONE: lambda: Say(texts.ASK_PHONE),
        LINK_PHONE: lambda: Say(texts.ASK_PHONE),
        BIRTH: lambda: texts.ask_birth(optional=True),
        LINK_BIRTH: lambda: texts.ask_birth(optional=False),
        GENDER: texts.ask_gender,
        MEDIA: lambda: texts.ask_media(facts),
        CONSENT: texts.ask_consent,
    }
    return questions.get(state.name, texts.ask_kind)()


# Answers, one handler per question.


def _kind(state: State, event: Event, facts: Facts) -> Step:
    words = typed(event) or ""
    if "初" in words:
        return start_new(state, facts)
    if any(word in words for word in ("通院", "通って", "以前", "前に", "カルテ")):
        return start_existing(state, facts)
    return ask_again(state, facts)


def _name(state: State, event: Event, facts: Facts) -> Step:
    name = person_name(raw_text(event) or "")
    if name is None:
        return ask_again(state, facts, texts.BAD_NAME if isinstance(raw_text(event), str) else "")
    return Step(state.to(KANA, full_name=name), (texts.ask_kana(name),))


def _kana(state: State, event: Event, facts: Facts) -> Step:
    kana = katakana(raw_text(event) or "")
    if kana is None:
        return Step(state, (Say(texts.BAD_KANA),))
    return Step(state.to(PHONE, kana=kana), (Say(texts.ASK_PHONE),))


def _phone(state: State, event: Event, facts: Facts) -> Step:
    words = typed(event)
    if not words:
        return ask_again(state, facts)
    return Step(state, effect=Effect(CHECK_PHONE, {"phone": words}))


def _birth(state: State, event: Event, facts: Facts) -> Step:
    if _skipped(event):
        return Step(state.to(GENDER), (texts.ask_gender(),))
    born = birthday(typed(event) or "", today=facts.now.date())
    if born is None:
        return ask_again(state, facts, texts.BAD_BIRTH)
    return Step(state.to(GENDER, birth_on=born.isoformat()), (texts.ask_gender(),))


def _gender(state: State, event: Event, facts: Facts) -> Step:
    value = tapped(event) or ""
    gender = value.removeprefix("gender:") if value.startswith("gender:") else None
    gender = gender or _GENDER_WORDS.get(typed(event) or "")
    if gender is None and not _skipped(event):
        return ask_again(state, facts)
    if gender not in (None, "female", "male", "other"):
        return ask_again(state, facts)
    return _after_gender(state.with_data(gender=gender), facts)


def _after_gender(state: State, facts: Facts) -> Step:
    if not facts.media:
        return Step(state.to(CONSENT), (texts.ask_consent(),))
    return Step(state.to(MEDIA), (texts.ask_media(facts),))


def _media(state: State, event: Event, facts: Facts) -> Step:
    value = tapped(event) or ""
    parts = fields(value, "media", 1)
    known = {media.id for media in facts.media}
    media_id = int(parts[0]) if parts and parts[0].isdigit() else None
    if media_id in known:
        return Step(state.to(CONSENT, media_id=media_id), (texts.ask_consent(),))
    by_name = next((m.id for m in facts.media if m.name == (typed(event) or "")), None)
    if by_name is not None:
        return Step(state.to(CONSENT, media_id=by_name), (texts.ask_consent(),))
    if _skipped(event):
        return Step(state.to(CONSENT), (texts.ask_consent(),))
    return ask_again(state, facts)


def _consent(state: State, event: Event, facts: Facts) -> Step:
    answer = tapped(event) or typed(event) or ""
    if answer not in ("yes", "no") and answer not in YES_WORDS | NO_WORDS:
        return ask_again(state, facts)
    data = state.data
    args: dict[str, Any] = {
        "name": data.get("full_name"),
        "kana": data.get("kana"),
        "phone": data.get("phone"),
        "birth_on": data.get("birth_on"),
        "gender": data.get("gender"),
        "media_id": data.get("media_id"),
        "consent_line": answer == "yes" or answer in YES_WORDS,
    }
    return Step(state, effect=Effect(REGISTER, args))


def _link_birth(state: State, event: Event, facts: Facts) -> Step:
    born = birthday(typed(event) or "", today=facts.now.date())
    if born is None:
        return ask_again(state, facts, texts.BAD_BIRTH)
    args = {"phone": state.data.get("phone"), "birth_on": born.isoformat()}
    return Step(state, effect=Effect(MATCH, args))


def _skipped(event: Event) -> bool:
    return tapped(event) == "skip" or (typed(event) or "") in _SKIP_WORDS


HANDLERS = {
    KIND: _kind,
    NAME: _name,
    KANA: _kana,
    PHONE: _phone,
    BIRTH: _birth,
    GENDER: _gender,
    MEDIA: _media,
    CONSENT: _consent,
    LINK_PHONE: _phone,
    LINK_BIRTH: _link_birth,
}


# What the effects found.


def _phone_checked(state: State, result: Result, facts: Facts) -> Step:
    if not result.ok:
        return Step(state, (Say(texts.BAD_PHONE),))
    phone = result.data.get("phone")
    if state.name == LINK_PHONE:
        return Step(state.to(LINK_BIRTH, phone=phone), (texts.ask_birth(optional=False),))
    return Step(state.to(BIRTH, phone=phone), (texts.ask_birth(optional=True),))


def _registered(state: State, result: Result, facts: Facts) -> Step:
    if result.ok:
        return _finish(state, texts.registered(str(state.data.get("full_name", ""))))
    if result.data.get("field") == "phone":
        return Step(state.to(PHONE), (Say(texts.BAD_PHONE),))
    return Step(fresh(IDLE), (texts.failed(facts),))


def _matched(state: State, result: Result, facts: Facts) -> Step:
    if result.ok:
        return _finish(state, texts.LINKED)
    if result.data.get("field") == "phone":
        return Step(state.to(LINK_PHONE), (Say(texts.BAD_PHONE),))
    return Step(fresh(IDLE), (texts.not_matched(facts),))


def _finish(state: State, done: str) -> Step:
    """Registered: go on with the booking the patient asked for, or offer one."""
    if state.data.get("then") == "book":
        when = state.data.get("when")
        return book.begin(when=when if isinstance(when, dict) else None, intro=done)
    return Step(fresh(IDLE), (Say(f"{done}\n{texts.BOOK_NOW}", texts.MENU),))


RESULTS: dict[str, ResultHandler] = {
    CHECK_PHONE: _phone_checked,
    REGISTER: _registered,
    MATCH: _matched,
}


# Reading answers.


def person_name(text: str) -> str | None:
    """A name as typed, with spaces tidied; None for digits, links or an empty answer."""
    name = " ".join(text.replace("\u3000", " ").split())
    if not name or len(name) > 50 or any(char.isdigit() for char in name):
        return None
    if any(mark in name for mark in ("@", "http", "/", "<", ">")):
        return None
    return name


def katakana(text: str) -> str | None:
    """フリガナ as the カルテ keeps it (`kana.normalize`), or None unless it is katakana."""
    folded = kana.normalize(text)
    return folded if folded and _KATAKANA.fullmatch(folded) else None


def birthday(text: str, *, today: date) -> date | None:
    """1985/4/1, 1985-04-01, 19850401, 1985年4月1日, 昭和60年4月1日, S60.4.1; None if not a
    plausible birth date."""
    text = text.replace(" ", "").upper()
    match = _BIRTH.fullmatch(text) or _COMPACT.fullmatch(text)
    if match is None:
        return None
    groups = match.groupdict()
    year = 1 if groups["y"] == "元" else int(groups["y"])
    if groups.get("era"):
        year += _ERAS[groups["era"]]
    try:
        born = date(year, int(groups["m"]), int(groups["d"]))
    except ValueError:
        return None
    return born if date(1900, 1, 1) <= born <= today else None
