"""Answers to the clinic's notices: the day-before reminder's 確認 button, and the words
that stop or resume marketing messages on LINE (配信停止 / 停止 / ストップ, 配信再開).

The reminder's キャンセル button is the patient's own cancel flow (`booking:<id>:cancel`,
patient_manage), so the deadline and the question before cancelling are the same.
"""

from __future__ import annotations

from collections.abc import Callable

from backend.conversation.model import Effect, Facts, Result, Say, State, Step
from backend.conversation.patient_common import (
    IDLE,
    OPT_IN,
    OPT_OUT,
    ResultHandler,
    fields,
    fresh,
    number,
)

STOP_WORDS = frozenset({"配信停止", "停止", "ストップ", "配信を停止", "配信停止します"})
RESUME_WORDS = frozenset({"配信再開", "再開", "配信を再開"})

THANKS = "ご確認ありがとうございます。ご来院をお待ちしております。"
STOPPED = (
    "お知らせ（キャンペーン・季節のご案内など）の配信を停止しました。\n"
    "ご予約の確定やリマインドなど、ご予約に関するご連絡はこれまでどおりお送りします。\n"
    "再開をご希望の際は「配信再開」と送ってください。"
)
RESUMED = "お知らせの配信を再開しました。配信を止めるときは「配信停止」と送ってください。"
NOT_REGISTERED = "こちらのLINEにはお知らせをお送りしていません。ご予約は「予約」と送ってください。"
FAILED = (
    "申し訳ございません。うまく受け付けられませんでした。少し時間をおいてもう一度お送りください。"
)


def tapped(value: str, facts: Facts) -> Step | None:
    """`notice:<id>:ok` (確認 on a reminder): thanks, nothing changes. None for any other
    value."""
    notice = fields(value, "notice", 2)
    if not notice or not number(notice[0]) or notice[1] != "ok":
        return None
    return Step(fresh(IDLE), (Say(THANKS),))


def _asking(effect: str) -> Callable[[State, Facts], Step]:
    def ask(state: State, facts: Facts) -> Step:
        if facts.patient is None:
            return Step(fresh(IDLE), (Say(NOT_REGISTERED),))
        return Step(fresh(IDLE), effect=Effect(effect))

    return ask


WORDS: tuple[tuple[Callable[[str], object], Callable[[State, Facts], Step]], ...] = (
    (STOP_WORDS.__contains__, _asking(OPT_OUT)),
    (RESUME_WORDS.__contains__, _asking(OPT_IN)),
)


def _answer(done: str) -> ResultHandler:
    def answer(state: State, result: Result, facts: Facts) -> Step:
        return Step(fresh(IDLE), (Say(done if result.ok else FAILED),))

    return answer


RESULTS: dict[str, ResultHandler] = {OPT_OUT: _answer(STOPPED), OPT_IN: _answer(RESUMED)}
