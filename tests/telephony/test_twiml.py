"""The attendant's replies as TwiML, to the character."""

from __future__ import annotations

from backend.conversation.model import Card, Carousel, Choice, Expect, Hangup, Say, Transfer
from telephony import twiml
from tests.telephony.conftest import CLINIC_NUMBER, PUBLIC, STAFF

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
SAY = '<Say language="ja-JP" voice="Polly.Mizuki">'
TURN_3 = f"{PUBLIC}/twilio/voice/turn?n=3"


def line(staff: tuple[str, ...] = tuple(STAFF), voice: str = "Polly.Mizuki") -> twiml.Line:
    return twiml.Line(
        base_url=PUBLIC, voice=voice, staff_numbers=staff, ring_seconds=20, caller_id=CLINIC_NUMBER
    )


def test_words_before_an_expect_are_spoken_inside_the_gather_and_a_redirect_follows() -> None:
    replies = (
        Say("お電話ありがとうございます。テスト整骨院です。"),
        Say("ご予約は1を、スタッフと話すには3を押してください。"),
        Expect(keys=1, hints=("予約", "キャンセル")),
    )

    document = twiml.render(replies, line=line(), next_turn=3)

    assert document == (
        f"{HEAD}<Response>"
        f'<Gather action="{TURN_3}" actionOnEmptyResult="true" hints="予約,キャンセル"'
        ' input="speech dtmf" language="ja-JP" method="POST" numDigits="1"'
        ' speechTimeout="auto" timeout="5">'
        f"{SAY}お電話ありがとうございます。テスト整骨院です。</Say>"
        f"{SAY}ご予約は1を、スタッフと話すには3を押してください。</Say>"
        "</Gather>"
        f'<Redirect method="POST">{TURN_3}</Redirect>'
        "</Response>"
    )


def test_an_expect_of_four_keys_ends_early_on_hash() -> None:
    replies = (Say("ご希望の日付を4桁で、例えば12月3日なら1203と押してください。"), Expect(keys=4))

    document = twiml.render(replies, line=line(), next_turn=3)

    assert document == (
        f"{HEAD}<Response>"
        f'<Gather action="{TURN_3}" actionOnEmptyResult="true" finishOnKey="#"'
        ' input="speech dtmf" language="ja-JP" method="POST" numDigits="4"'
        ' speechTimeout="auto" timeout="5">'
        f"{SAY}ご希望の日付を4桁で、例えば12月3日なら1203と押してください。</Say>"
        "</Gather>"
        f'<Redirect method="POST">{TURN_3}</Redirect>'
        "</Response>"
    )


def test_an_expect_of_keys_only_listens_for_the_keypad() -> None:
    replies = (Say("携帯電話の番号を押してください。"), Expect(keys=11, speech=False))

    document = twiml.render(replies, line=line(), next_turn=3)

    assert (
        f'<Gather action="{TURN_3}" actionOnEmptyResult="true" finishOnKey="#" input="dtmf"'
        ' language="ja-JP" method="POST" numDigits="11" timeout="5">'
    ) in document
    assert "speechTimeout" not in document


def test_a_transfer_rings_every_staff_phone_and_posts_the_outcome_to_the_next_turn() -> None:
    replies = (Say("スタッフにおつなぎします。"), Transfer())

    document = twiml.render(replies, line=line(), next_turn=3)

    assert document == (
        f"{HEAD}<Response>"
        f"{SAY}スタッフにおつなぎします。</Say>"
        f'<Dial action="{PUBLIC}/twilio/voice/dialed?n=3" callerId="{CLINIC_NUMBER}"'
        ' method="POST" timeout="20">'
        f"<Number>{STAFF[0]}</Number><Number>{STAFF[1]}</Number>"
        "</Dial>"
        "</Response>"
    )


def test_a_hangup_ends_the_call_after_the_words() -> None:
    replies = (Say("お電話ありがとうございました。"), Hangup())

    document = twiml.render(replies, line=line(), next_turn=3)

    assert document == (
        f"{HEAD}<Response>{SAY}お電話ありがとうございました。</Say><Hangup /></Response>"
    )


def test_a_turn_that_asks_nothing_more_ends_the_call_with_a_hangup() -> None:
    document = twiml.render((Say("失礼いたします。"),), line=line(), next_turn=3)

    assert document == f"{HEAD}<Response>{SAY}失礼いたします。</Say><Hangup /></Response>"


def test_cards_and_carousels_are_read_as_plain_sentences() -> None:
    card = Card(
        "ご予約内容",
        (("日時", "12月3日 10:00"), ("メニュー", "初診")),
        choices=(Choice("OK", "ok"),),
        note="変更は前日まで",
    )
    replies = (card, Carousel((card,), alt="空き枠が3件あります"), Hangup())

    document = twiml.render(replies, line=line(), next_turn=3)

    assert document == (
        f"{HEAD}<Response>"
        f"{SAY}ご予約内容。日時は12月3日 10:00。メニューは初診。変更は前日まで</Say>"
        f"{SAY}空き枠が3件あります</Say>"
        "<Hangup /></Response>"
    )


def test_text_is_escaped_and_an_empty_voice_leaves_twilio_s_default() -> None:
    document = twiml.render((Say("A&B <様>"), Hangup()), line=line(voice=""), next_turn=3)

    assert document == (
        f'{HEAD}<Response><Say language="ja-JP">A&amp;B &lt;様&gt;</Say><Hangup /></Response>'
    )


def test_the_apology_offers_to_call_again_and_hangs_up() -> None:
    document = twiml.apology("Polly.Mizuki")

    assert document == (
        f"{HEAD}<Response>"
        f"{SAY}{twiml.SORRY}</Say>{SAY}{twiml.CALL_AGAIN}</Say>{SAY}{twiml.GOODBYE}</Say>"
        "<Hangup /></Response>"
    )


def test_a_document_rendered_before_is_kept_and_the_same() -> None:
    replies = (Say("お電話ありがとうございます。"), Expect(keys=1))
    first = twiml.render(replies, line=line(), next_turn=1)
    assert twiml.render(list(replies), line=line(), next_turn=1) is first
    assert twiml.render(replies, line=line(), next_turn=2) != first
    assert twiml.render(replies, line=line(voice=""), next_turn=1) != first


def test_a_reply_that_cannot_be_kept_is_rendered_all_the_same() -> None:
    rows = [("日時", "12月1日(火) 9:15")]  # a list: not hashable
    card = Card(title="予約リクエスト", rows=rows)  # type: ignore[arg-type]
    document = twiml.render((card, Hangup()), line=line(), next_turn=1)
    assert "予約リクエスト。日時は12月1日(火) 9:15" in document


TRICKY = [
    "A&B <様> \"引用\" 'と' &amp;",
    "改行\nと\tタブ",
    "絵文字😀と半角ｶﾅ",
    "\ue0000\ue001 は空欄の印と同じ文字",
    "0",
    "",
]


def test_each_turn_is_the_document_twilio_s_library_builds_for_its_words() -> None:
    twiml._shaped.cache_clear()
    twiml._rendered.cache_clear()
    endings: list[tuple[Expect | Transfer | Hangup, ...]] = [
        (Expect(keys=4, speech=False, hints=("予約", "A&B")),),
        (Transfer(),),
        (Hangup(),),
        (),
    ]
    for count in range(len(TRICKY) + 1):
        for shift in range(len(TRICKY)):
            texts = [TRICKY[(shift + n) % len(TRICKY)] for n in range(count)]
            for ending in endings:
                replies = (*(Say(text) for text in texts), *ending)
                spoken = [text for text in texts if text.strip()]
                kind = ending[0] if ending and not isinstance(ending[0], Hangup) else None
                built = twiml._built(spoken, kind, line(), 7)  # the oracle
                assert twiml.render(replies, line=line(), next_turn=7) == built
    shapes = twiml._shaped.cache_info()
    assert shapes.hits > 0  # most were written into a kept shape, not built whole
