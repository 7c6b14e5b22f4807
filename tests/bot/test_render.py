"""Neutral replies as the exact LINE message JSON, within LINE's limits."""

from __future__ import annotations

from datetime import date

from backend.conversation.model import Card, Carousel, Choice, DatePick, Say
from bot import render


def postback(label: str, data: str) -> dict[str, str]:
    return {"type": "postback", "label": label, "data": data, "displayText": label}


def quick(action: dict[str, str]) -> dict[str, object]:
    return {"type": "action", "action": action}


def test_say() -> None:
    assert render.messages([Say("ご予約ありがとうございます。")]) == [
        {"type": "text", "text": "ご予約ありがとうございます。"}
    ]


def test_say_with_choices_is_text_with_quick_replies() -> None:
    say = Say("どちらですか？", (Choice("初めての方", "new"), Choice("通院中の方", "returning")))

    assert render.messages([say]) == [
        {
            "type": "text",
            "text": "どちらですか？",
            "quickReply": {
                "items": [
                    quick(postback("初めての方", "new")),
                    quick(postback("通院中の方", "returning")),
                ]
            },
        }
    ]


def test_say_with_a_date_pick_adds_a_date_picker_last() -> None:
    pick = DatePick("日付を選ぶ", "day", date(2026, 12, 1), date(2027, 1, 29))
    say = Say("何日がよろしいですか？", (Choice("明日", "day:2026-12-01"),), pick)

    assert render.messages([say]) == [
        {
            "type": "text",
            "text": "何日がよろしいですか？",
            "quickReply": {
                "items": [
                    quick(postback("明日", "day:2026-12-01")),
                    quick(
                        {
                            "type": "datetimepicker",
                            "label": "日付を選ぶ",
                            "data": "day",
                            "mode": "date",
                            "initial": "2026-12-01",
                            "min": "2026-12-01",
                            "max": "2027-01-29",
                        }
                    ),
                ]
            },
        }
    ]


CARD = Card(
    "ご予約内容の確認",
    (("日時", "12月3日(木) 10:00"), ("メニュー", "骨盤矯正")),
    (Choice("この内容で予約", "ok"), Choice("戻る", "back")),
    "変更は前日までにお願いします。",
)

BUBBLE = {
    "type": "bubble",
    "body": {
        "type": "box",
        "layout": "vertical",
        "spacing": "md",
        "contents": [
            {
                "type": "text",
                "text": "ご予約内容の確認",
                "weight": "bold",
                "size": "lg",
                "wrap": True,
            },
            {
                "type": "box",
                "layout": "vertical",
                "spacing": "sm",
                "contents": [
                    {
                        "type": "box",
                        "layout": "horizontal",
                        "spacing": "md",
                        "contents": [
                            {
                                "type": "text",
                                "text": label,
                                "size": "sm",
                                "color": "#888888",
                                "flex": 2,
                                "wrap": True,
                            },
                            {"type": "text", "text": value, "size": "sm", "flex": 5, "wrap": True},
                        ],
                    }
                    for label, value in (("日時", "12月3日(木) 10:00"), ("メニュー", "骨盤矯正"))
                ],
            },
            {
                "type": "text",
                "text": "変更は前日までにお願いします。",
                "size": "xs",
                "color": "#888888",
                "wrap": True,
            },
        ],
    },
    "footer": {
        "type": "box",
        "layout": "vertical",
        "spacing": "sm",
        "contents": [
            {
                "type": "button",
                "style": "primary",
                "height": "sm",
                "action": postback("この内容で予約", "ok"),
            },
            {
                "type": "button",
                "style": "secondary",
                "height": "sm",
                "action": postback("戻る", "back"),
            },
        ],
    },
}


def test_card_is_a_flex_bubble() -> None:
    assert render.messages([CARD]) == [
        {"type": "flex", "altText": "ご予約内容の確認", "contents": BUBBLE}
    ]


def test_card_without_buttons_or_note() -> None:
    (message,) = render.messages([Card("ご予約", ())])

    assert message["contents"] == {
        "type": "bubble",
        "body": {
            "type": "box",
            "layout": "vertical",
            "spacing": "md",
            "contents": [
                {"type": "text", "text": "ご予約", "weight": "bold", "size": "lg", "wrap": True}
            ],
        },
    }


def test_carousel_is_a_flex_carousel() -> None:
    assert render.messages([Carousel((CARD, CARD), "ご予約一覧")]) == [
        {
            "type": "flex",
            "altText": "ご予約一覧",
            "contents": {"type": "carousel", "contents": [BUBBLE, BUBBLE]},
        }
    ]


def test_at_most_thirteen_quick_replies() -> None:
    say = Say("時間を選んでください", tuple(Choice(f"{9 + i}:00", f"slot:{i}") for i in range(14)))

    (message,) = render.messages([say])

    items = message["quickReply"]["items"]
    assert len(items) == 13
    assert items[-1]["action"]["data"] == "slot:12"


def test_a_date_picker_keeps_its_place_among_thirteen() -> None:
    pick = DatePick("ほかの日", "day", date(2026, 12, 1), date(2026, 12, 31))
    say = Say("日付", tuple(Choice(str(i), f"day:{i}") for i in range(14)), pick)

    items = render.messages([say])[0]["quickReply"]["items"]

    assert len(items) == 13
    assert items[-1]["action"]["type"] == "datetimepicker"


def test_long_labels_are_cut_to_twenty_characters() -> None:
    label = "骨盤矯正＋全身もみほぐし（初回限定スペシャルコース）"
    (message,) = render.messages([Say("メニュー", (Choice(label, "course:1"),))])

    action = message["quickReply"]["items"][0]["action"]
    assert action["label"] == label[:19] + "…"
    assert len(action["label"]) == 20
    assert action["displayText"] == label


def test_long_alt_text_and_postback_data_stay_within_limits() -> None:
    card = Card("予" * 500, (), (Choice("ok", "x" * 301), Choice("戻る", "back")))

    (message,) = render.messages([card])

    assert len(message["altText"]) == 400
    buttons = message["contents"]["footer"]["contents"]
    assert [button["action"]["data"] for button in buttons] == ["back"]


def test_a_carousel_of_more_than_twelve_cards_is_split() -> None:
    cards = tuple(Card(f"予約{i}", ()) for i in range(13))

    messages = render.messages([Carousel(cards, "ご予約一覧")])

    assert [len(message["contents"]["contents"]) for message in messages] == [12, 1]


def test_at_most_five_messages_per_request() -> None:
    replies = [Say(f"{i}") for i in range(7)]

    requests = render.requests(replies)

    assert [len(request) for request in requests] == [5, 2]
    assert [message["text"] for request in requests for message in request] == [
        str(i) for i in range(7)
    ]
