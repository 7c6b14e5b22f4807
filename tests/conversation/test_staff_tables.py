"""The staff tables, pure: fixed facts in, hand-written effect results, replies out."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from backend.conversation import staff
from backend.conversation.engine import Table
from backend.conversation.model import (
    Card,
    Carousel,
    ClinicInfo,
    Effect,
    Event,
    Facts,
    Followed,
    Picked,
    Result,
    Say,
    StaffInfo,
    State,
    Step,
    Text,
    Unfollowed,
)
from backend.conversation.staff_link import link_code
from backend.conversation.staff_words import NOT_STAFF

JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=JST)
CLINIC = ClinicInfo(
    id=1,
    name="テスト整骨院",
    phone="+81312345678",
    address=None,
    hours_text="月〜金 9:00〜12:00",
    auto_approve=False,
    cancel_deadline_minutes=180,
)
YAMADA = "staff:3"
BOOKING = {
    "id": 42,
    "start": "2026-12-01T10:00:00+09:00",
    "patient": "佐藤 花子",
    "course": "骨盤矯正",
    "staff": "山田 太郎",
    "status": "requested",
    "awaiting": "staff",
}
SUMMARY = "12月1日(火) 10:00 佐藤 花子さま 骨盤矯正"


def facts(actor: str = YAMADA) -> Facts:
    return Facts(
        now=NOW,
        clinic=CLINIC,
        staff=(StaffInfo(3, "山田 太郎"), StaffInfo(4, "鈴木 一郎")),
        actor=actor,
        subject="C1:U1",
    )


def step(table: Table, event: Event, actor: str = YAMADA) -> Step:
    return table.step(State(), event, facts(actor))


def text_of(result: Step) -> str:
    assert len(result.replies) == 1, result.replies
    reply = result.replies[0]
    assert isinstance(reply, Say)
    return reply.text


def values(reply: object) -> list[str]:
    assert isinstance(reply, Say | Card)
    return [choice.value for choice in reply.choices]


# Link codes


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("UK-ABC234", "UK-ABC234"),
        ("uk-abc234", "UK-ABC234"),
        ("ＵＫ－ＡＢＣ２３４", "UK-ABC234"),
        (" UKABC234 ", "UK-ABC234"),
        ("「UK-ABC234」", "UK-ABC234"),
        ("UK ABC234", "UK-ABC234"),
        ("UK-ABC23", None),
        ("UK-ABC2345", None),
        ("コードは UK-ABC234 です", None),
        ("予約", None),
    ],
)
def test_a_link_code_is_recognised_as_typed(typed: str, code: str | None) -> None:
    assert link_code(typed) == code


@pytest.mark.parametrize("table", [staff.OTHER_GROUP, staff.GROUP])
def test_a_code_in_a_group_is_redeemed_for_the_group(table: Table) -> None:
    result = step(table, Text("uk-abc234"), actor="")
    assert result.effect == Effect("redeem_group_code", {"code": "UK-ABC234"})
    assert result.replies == ()


def test_a_linked_group_says_so() -> None:
    result = step(staff.OTHER_GROUP, Result("redeem_group_code", data={"clinic": "テスト整骨院"}))
    assert text_of(result).startswith("このグループをスタッフグループに設定しました")


@pytest.mark.parametrize(
    "event",
    [
        Text("おはようございます"),
        Text("今日"),
        Picked("req:42:approve"),
        Followed(),
    ],
)
def test_another_group_hears_nothing_but_a_code(event: Event) -> None:
    result = step(staff.OTHER_GROUP, event)
    assert result == Step(State())


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"code": "link_refused", "reason": "unknown"}, "見つかりませんでした"),
        ({"code": "link_refused", "reason": "expired"}, "有効期限"),
        ({"code": "link_refused", "reason": "used"}, "すでに使われています"),
        (
            {"code": "link_refused", "reason": "wrong_place", "purpose": "staff_user"},
            "1対1で送ってください",
        ),
        (
            {"code": "link_refused", "reason": "already_linked", "purpose": "staff_group"},
            "別の院",
        ),
        ({"code": "invalid"}, "もう一度お試しください"),
    ],
)
def test_a_refused_group_code_says_why(data: dict, words: str) -> None:
    result = step(staff.OTHER_GROUP, Result("redeem_group_code", ok=False, data=data))
    assert words in text_of(result)


def test_a_code_sent_1_to_1_links_the_sender() -> None:
    result = step(staff.DIRECT, Text("UK-ABC234"), actor="")
    assert result.effect == Effect("redeem_staff_code", {"code": "UK-ABC234"})
    linked = step(
        staff.DIRECT, Result("redeem_staff_code", data={"staff_id": 3, "name": "山田 太郎"})
    )
    assert text_of(linked).startswith("山田 太郎さん、LINEの連携が完了しました")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (
            {"code": "link_refused", "reason": "already_linked", "staff_name": "鈴木 一郎"},
            "別のスタッフ（鈴木 一郎さん）と連携",
        ),
        (
            {"code": "link_refused", "reason": "wrong_place", "purpose": "staff_group"},
            "スタッフグループに投稿",
        ),
        ({"code": "link_refused", "reason": "expired"}, "新しいコード"),
    ],
)
def test_a_refused_personal_code_says_why(data: dict, words: str) -> None:
    result = step(staff.DIRECT, Result("redeem_staff_code", ok=False, data=data), actor="")
    assert words in text_of(result)


def test_a_code_is_only_the_direct_tables_for_a_text() -> None:
    assert staff.is_link_code(Text("UK-ABC234"))
    assert not staff.is_link_code(Text("予約"))
    assert not staff.is_link_code(Picked("UK-ABC234"))


# 1:1 with staff


@pytest.mark.parametrize(
    ("typed", "args"),
    [
        ("今日", {"day": "2026-11-30"}),
        ("今日の予約", {"day": "2026-11-30"}),
        ("明日", {"day": "2026-12-01"}),
        ("あした", {"day": "2026-12-01"}),
        ("未承認", {"pending": True}),
    ],
)
@pytest.mark.parametrize("table", [staff.DIRECT, staff.GROUP])
def test_agenda_words(table: Table, typed: str, args: dict) -> None:
    assert step(table, Text(typed)).effect == Effect("agenda", args)


def test_agenda_words_are_for_linked_staff_only() -> None:
    result = step(staff.GROUP, Text("未承認"), actor="")
    assert result.effect is None
    assert text_of(result) == NOT_STAFF


def test_direct_chat_sends_requests_to_the_group_and_helps_otherwise() -> None:
    assert "スタッフグループで" in text_of(step(staff.DIRECT, Picked("req:42:approve")))
    assert "「今日」「明日」「未承認」" in text_of(step(staff.DIRECT, Text("こんにちは")))
    assert step(staff.DIRECT, Unfollowed()).replies == ()
    assert "UK-" in text_of(step(staff.DIRECT, Text("こんにちは"), actor=""))


# Request cards in the staff group


@pytest.mark.parametrize(
    ("value", "effect"),
    [
        ("req:42:approve", Effect("approve", {"booking_id": 42})),
        ("req:42:propose", Effect("next_slots", {"booking_id": 42})),
        (
            "req:42:propose:2026-12-01T11:00:00+09:00",
            Effect("propose", {"booking_id": 42, "starts_at": "2026-12-01T11:00:00+09:00"}),
        ),
        ("req:42:propose:tomorrow", Effect("next_slots", {"booking_id": 42})),
        ("req:42:decline:full", Effect("decline", {"booking_id": 42, "reason": "満席のため"})),
        (
            "req:42:decline:absent",
            Effect("decline", {"booking_id": 42, "reason": "担当者不在のため"}),
        ),
        (
            "req:42:decline:hours",
            Effect("decline", {"booking_id": 42, "reason": "営業時間外のため"}),
        ),
        ("req:42:decline:none", Effect("decline", {"booking_id": 42, "reason": None})),
    ],
)
def test_card_buttons_ask_the_ledger(value: str, effect: Effect) -> None:
    result = step(staff.GROUP, Picked(value))
    assert result.effect == effect
    assert result.replies == ()


def test_decline_asks_a_reason_first() -> None:
    result = step(staff.GROUP, Picked("req:42:decline"))
    assert result.effect is None
    (question,) = result.replies
    assert isinstance(question, Say)
    assert [choice.label for choice in question.choices] == [
        "満席のため",
        "担当者不在のため",
        "営業時間外のため",
        "理由を伝えない",
    ]
    assert values(question) == [
        "req:42:decline:full",
        "req:42:decline:absent",
        "req:42:decline:hours",
        "req:42:decline:none",
    ]


@pytest.mark.parametrize(
    "value", ["req:42:approve", "req:42:decline", "req:42:decline:full", "req:42:propose"]
)
def test_someone_not_linked_is_refused_politely(value: str) -> None:
    result = step(staff.GROUP, Picked(value), actor="")
    assert result.effect is None
    assert text_of(result) == NOT_STAFF


def test_group_chatter_gets_no_reply() -> None:
    assert step(staff.GROUP, Text("お疲れさまです")) == Step(State())
    assert step(staff.GROUP, Picked("menu:book")) == Step(State())


def test_an_approval_is_announced_with_who_did_it() -> None:
    data = {"booking": BOOKING, "by": "山田 太郎", "patient_on_line": True}
    assert text_of(step(staff.GROUP, Result("approve", data=data))) == (
        f"山田 太郎さんが承認しました: {SUMMARY}"
    )


def test_a_patient_without_line_must_be_called() -> None:
    data = {"booking": BOOKING, "by": "山田 太郎", "patient_on_line": False}
    assert "お電話で" in text_of(step(staff.GROUP, Result("approve", data=data)))


def test_the_actor_is_named_from_facts_when_the_ledger_did_not() -> None:
    data = {"booking": BOOKING}
    assert text_of(step(staff.GROUP, Result("approve", data=data))).startswith("山田 太郎さんが")


def test_a_decline_is_announced_with_its_reason_and_offers() -> None:
    data = {
        "booking": BOOKING,
        "by": "山田 太郎",
        "reason": "満席のため",
        "alternatives": ["2026-12-01T10:30:00+09:00", "2026-12-01T11:00:00+09:00"],
        "patient_on_line": True,
    }
    assert text_of(step(staff.GROUP, Result("decline", data=data))) == (
        f"山田 太郎さんがお断りしました: {SUMMARY}（満席のため）\n"
        "患者さまに空き時間の候補を2件お送りしました。"
    )


def test_propose_offers_the_free_slots_as_buttons() -> None:
    slots = [f"2026-12-01T{hour}:00:00+09:00" for hour in ("10", "11", "15")]
    result = step(staff.GROUP, Result("next_slots", data={"booking": BOOKING, "slots": slots}))
    (say,) = result.replies
    assert isinstance(say, Say)
    assert say.text == f"{SUMMARY}\n提案する時間を選んでください。"
    assert [choice.label for choice in say.choices] == [
        "12月1日(火) 10:00",
        "12月1日(火) 11:00",
        "12月1日(火) 15:00",
    ]
    assert values(say)[0] == "req:42:propose:2026-12-01T10:00:00+09:00"
    assert all(len(choice.label) <= 20 for choice in say.choices)


def test_propose_without_free_slots_offers_to_decline() -> None:
    result = step(staff.GROUP, Result("next_slots", data={"booking": BOOKING, "slots": []}))
    assert "見つかりませんでした" in text_of(result)
    assert values(result.replies[0]) == ["req:42:decline"]


def test_a_proposal_is_announced() -> None:
    moved = {**BOOKING, "start": "2026-12-01T11:00:00+09:00", "awaiting": "patient"}
    data = {"booking": moved, "by": "山田 太郎", "patient_on_line": True}
    assert text_of(step(staff.GROUP, Result("propose", data=data))) == (
        "山田 太郎さんが佐藤 花子さまに 12月1日(火) 11:00〜 骨盤矯正 を提案しました。"
        "患者さまの返答をお待ちください。"
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"status": "confirmed", "handled_by": "staff:4"},
            "鈴木 一郎さんが承認済みです。",
        ),
        (
            {"status": "declined", "handled_by": "staff:9", "handled_by_name": "受付 花子"},
            "受付 花子さんがお断り済みです。",
        ),
        (
            {"status": "requested", "awaiting": "patient", "handled_by": "staff:4"},
            "鈴木 一郎さんが別の時間を提案済みです。患者さまの返答をお待ちください。",
        ),
        ({"status": "confirmed", "handled_by": "patient:7"}, "すでに承認済みです。"),
        (
            {"status": "cancelled", "handled_by": "patient:7"},
            "このリクエストは取り消されています。",
        ),
        ({"status": "expired", "handled_by": "system"}, "このリクエストは期限切れです。"),
        ({"status": "completed"}, "このご予約はすでに終わっています。"),
    ],
)
@pytest.mark.parametrize("name", ["approve", "decline", "next_slots", "propose"])
def test_a_request_answered_before_says_by_whom(name: str, data: dict, expected: str) -> None:
    refused = {"code": "illegal_transition", "booking_id": 42, "booking": BOOKING, **data}
    assert text_of(step(staff.GROUP, Result(name, ok=False, data=refused))) == (
        f"{SUMMARY}\n{expected}"
    )


def test_a_slot_taken_before_approval_offers_the_other_answers() -> None:
    data = {"code": "slot_unavailable", "booking_id": 42, "booking": BOOKING}
    result = step(staff.GROUP, Result("approve", ok=False, data=data))
    assert "埋まっているため承認できません" in text_of(result)
    assert values(result.replies[0]) == ["req:42:propose", "req:42:decline"]


def test_a_slot_taken_while_proposing_looks_again() -> None:
    data = {"code": "slot_unavailable", "booking_id": 42, "booking": BOOKING}
    result = step(staff.GROUP, Result("propose", ok=False, data=data))
    assert "埋まりました" in text_of(result)
    assert result.effect == Effect("next_slots", {"booking_id": 42})


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("not_found", "見つかりませんでした"),
        ("not_staff", "LINE連携済みのスタッフ"),
        ("x", "もう一度"),
    ],
)
def test_other_refusals(code: str, words: str) -> None:
    result = step(staff.GROUP, Result("approve", ok=False, data={"code": code}))
    assert words in text_of(result)


# Agenda answers


def test_a_day_is_listed_line_by_line() -> None:
    bookings = [
        BOOKING | {"start": "2026-11-30T09:00:00+09:00", "status": "confirmed"},
        BOOKING | {"start": "2026-11-30T10:30:00+09:00", "staff": None},
        BOOKING | {"start": "2026-11-30T15:00:00+09:00", "awaiting": "patient"},
    ]
    data = {"kind": "day", "day": "2026-11-30", "bookings": bookings}
    assert text_of(step(staff.GROUP, Result("agenda", data=data))) == (
        "11月30日(月)の予約 3件\n"
        "9:00 佐藤 花子さま 骨盤矯正（山田 太郎） 確定\n"
        "10:30 佐藤 花子さま 骨盤矯正 未承認\n"
        "15:00 佐藤 花子さま 骨盤矯正（山田 太郎） 返答待ち"
    )


def test_an_empty_day_says_so() -> None:
    data = {"kind": "day", "day": "2026-12-01", "bookings": []}
    result = step(staff.DIRECT, Result("agenda", data=data))
    assert text_of(result) == "12月1日(火)の予約はありません。"


def pending(*bookings: dict, total: int | None = None) -> Result:
    requests = [{"booking": item, "rows": [["お名前", item["patient"]]]} for item in bookings]
    data = {"kind": "pending", "requests": requests, "total": total or len(requests)}
    return Result("agenda", data=data)


def test_pending_requests_come_as_cards_to_answer_in_the_group() -> None:
    proposed = BOOKING | {"id": 43, "awaiting": "patient"}
    result = step(staff.GROUP, pending(BOOKING, proposed, total=12))
    heading, carousel = result.replies
    assert heading == Say("未承認のリクエスト 12件（近い順に2件を表示）")
    assert isinstance(carousel, Carousel)
    answerable, waiting = carousel.cards
    assert answerable.title == "予約リクエスト"
    assert answerable.rows == (("お名前", "佐藤 花子"),)
    assert values(answerable) == ["req:42:approve", "req:42:propose", "req:42:decline"]
    assert waiting.title.startswith("提案中")
    assert waiting.choices == ()


def test_pending_requests_1_to_1_come_without_buttons() -> None:
    result = step(staff.DIRECT, pending(BOOKING))
    card = result.replies[1]
    assert isinstance(card, Carousel)
    assert card.cards[0].choices == ()
    assert "スタッフグループ" in card.cards[0].note


def test_no_pending_requests_says_so() -> None:
    result = step(staff.GROUP, pending())
    assert text_of(result) == "未承認のリクエストはありません。"


def test_an_agenda_that_failed_says_so() -> None:
    result = step(staff.GROUP, Result("agenda", ok=False, data={"code": "not_staff"}))
    assert "読み込めませんでした" in text_of(result)


def test_a_whole_proposal_with_results_written_by_hand() -> None:
    """Tap 別の時間を提案, get slots, pick one, hear it was proposed: no state is kept."""
    table, state = staff.GROUP, State()
    seen: list[Step] = []
    events: list[Event] = [
        Picked("req:42:propose"),
        Result("next_slots", data={"booking": BOOKING, "slots": ["2026-12-01T11:00:00+09:00"]}),
        Picked("req:42:propose:2026-12-01T11:00:00+09:00"),
        Result("propose", data={"booking": BOOKING | {"start": "2026-12-01T11:00:00+09:00"}}),
    ]
    for event in events:
        seen.append(table.step(state, event, facts()))
        state = seen[-1].state
    assert [s.effect.name if s.effect else None for s in seen] == [
        "next_slots",
        None,
        "propose",
        None,
    ]
    assert state == State()
    assert text_of(seen[-1]).endswith("患者さまの返答をお待ちください。")
