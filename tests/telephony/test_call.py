"""The terminal phone: signing, TwiML, typed answers, the call loop, and a call end to end
against the real app and the fake Twilio API."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from fastapi import FastAPI
from pydantic import SecretStr
from rich.console import Console
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse
from typer.testing import CliRunner

from backend import migrate, remembered, serving
from backend.app import create_app
from backend.db import Database
from backend.models import Booking, BookingStatus, CallLog, Source
from backend.settings import Settings, SmsSettings, TwilioSettings, get_settings
from telephony import call, call_world, cli, fake_twilio
from telephony import call_twiml as twiml
from telephony.call_wire import Call, PhoneError, Wire, signature
from tests.factories import NOW, jst, make_bed, make_clinic, make_course, make_patient, make_staff

TOKEN = "call-test-auth-token"
SID = "AC" + "7" * 32
BASE = "https://clinic.example.jp"
TURN = f"{BASE}/twilio/voice/turn?n=1"
MOBILE = "+819012345678"
CALL = Call("CA" + "1" * 32, SID, MOBILE, "+81312345678")


def gather(num_digits: int = 1, *, speech: bool = True, empty: bool = True) -> VoiceResponse:
    """A turn as the attendant renders one: words inside a Gather, a Redirect after it."""
    response = VoiceResponse()
    listening = response.gather(
        input="speech dtmf" if speech else "dtmf",
        language="ja-JP",
        action=TURN,
        method="POST",
        action_on_empty_result=empty,
        num_digits=num_digits,
        **({"finish_on_key": "#"} if num_digits > 1 else {}),
    )
    listening.say("ご用件をどうぞ。", language="ja-JP")
    response.redirect(TURN, method="POST")
    return response


def goodbye() -> str:
    response = VoiceResponse()
    response.say("失礼いたします。", language="ja-JP")
    response.hangup()
    return str(response)


def test_the_signature_is_what_twilios_validator_accepts() -> None:
    params = CALL.params("in-progress", SpeechResult="明日の午後", Confidence="0.92")

    signed = signature(TOKEN, TURN, params)

    assert RequestValidator(TOKEN).validate(TURN, params, signed)
    assert not RequestValidator("another-token").validate(TURN, params, signed)
    assert not RequestValidator(TOKEN).validate(TURN + "0", params, signed)


def test_a_gather_is_read_with_its_words_action_and_keys() -> None:
    verbs = twiml.parse(str(gather(4)))

    assert verbs == [
        twiml.Gather(
            action=TURN,
            keys=True,
            speech=True,
            num_digits=4,
            finish_on_key="#",
            on_empty=True,
            says=("ご用件をどうぞ。",),
        ),
        twiml.Redirect(TURN),
    ]


def test_says_dial_hangup_and_the_rest_are_read_in_order() -> None:
    response = VoiceResponse()
    response.say("おつなぎします。", language="ja-JP")
    dial = response.dial(timeout=20, action="/twilio/voice/dialed?n=2", method="POST")
    dial.number("+81312340001")
    dial.number("+81312340002")
    response.pause(length=2)
    response.play("https://example.jp/chime.mp3")
    response.hangup()

    assert twiml.parse(str(response)) == [
        twiml.Say("おつなぎします。"),
        twiml.Dial("/twilio/voice/dialed?n=2", ("+81312340001", "+81312340002"), 20),
        twiml.Pause(2),
        twiml.Other("Play"),
        twiml.Hangup(),
    ]


@pytest.mark.parametrize("document", ["not xml", "<Foo><Say>x</Say></Foo>"])
def test_what_is_not_twiml_is_refused(document: str) -> None:
    with pytest.raises(twiml.NotTwiML):
        twiml.parse(document)


@pytest.mark.parametrize(
    ("typed", "digits", "expected"),
    [
        ("1", 1, {"Digits": "1"}),
        ("１", 1, {"Digits": "1"}),
        ("12", 1, {"Digits": "1"}),
        ("1203#", 4, {"Digits": "1203"}),
        ("12#", 4, {"Digits": "12"}),
        ("090-1234-5678", 11, {"Digits": "09012345678"}),
        ("予約したいです", 1, {"SpeechResult": "予約したいです", "Confidence": "0.92"}),
        ("  明日の午後 ", 4, {"SpeechResult": "明日の午後", "Confidence": "0.92"}),
        ("", 1, {}),
    ],
)
def test_a_typed_line_becomes_keys_speech_or_silence(
    typed: str, digits: int, expected: dict[str, str]
) -> None:
    listening = twiml.parse(str(gather(digits)))[0]
    assert isinstance(listening, twiml.Gather)

    assert twiml.heard(typed, listening) == expected


def test_silence_without_action_on_empty_result_posts_nothing() -> None:
    listening = twiml.Gather(action=TURN, keys=True, speech=True, on_empty=False)

    assert twiml.heard("", listening) is None


def test_words_cannot_answer_keys_only_and_digits_are_speech_where_only_speech_is_heard() -> None:
    keys_only = twiml.Gather(action=TURN, keys=True, speech=False, num_digits=1)
    speech_only = twiml.Gather(action=TURN, keys=False, speech=True)

    with pytest.raises(twiml.CannotAnswer):
        twiml.heard("はい", keys_only)
    assert twiml.heard("1", speech_only) == {"SpeechResult": "1", "Confidence": "0.92"}


@pytest.mark.parametrize(
    ("listening", "words"),
    [
        (twiml.Gather(TURN, keys=True, speech=True, num_digits=1), "1 key or speech"),
        (twiml.Gather(TURN, keys=True, speech=False, num_digits=4), "4 keys"),
        (twiml.Gather(TURN, keys=False, speech=True), "speech"),
        (twiml.Gather(TURN, keys=True, speech=False), "keys ending with #"),
    ],
)
def test_what_a_gather_listens_for_is_said_plainly(listening: twiml.Gather, words: str) -> None:
    assert twiml.listening_for(listening) == words


@dataclass
class Scripted:
    """Stands in for the wire: records each post and answers the next document."""

    answers: list[str]
    posts: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    server_url: str = BASE
    fake_url: str | None = None

    def post(self, url: str, params: dict[str, str]) -> str:
        self.posts.append((url, dict(params)))
        return self.answers.pop(0) if self.answers else ""

    def messages(self, since: int) -> tuple[list[dict[str, Any]], int]:
        return [], since


def phone(wire: Scripted, *typed: str) -> call.Phone:
    answers = iter(typed)
    return call.Phone(
        wire,  # type: ignore[arg-type]
        CALL,
        console=Console(file=io.StringIO()),
        ask=lambda _: next(answers),
        sms_wait=0,
    )


def test_keys_go_to_the_gathers_action_and_the_call_ends_with_the_status_callback() -> None:
    wire = Scripted([str(gather()), goodbye(), ""])
    caller = phone(wire)

    caller.dial()
    caller.answer("2")

    assert caller.ended
    assert caller.said == ["ご用件をどうぞ。", "失礼いたします。"]
    (first, incoming), (second, turn), (third, status) = wire.posts
    assert (first, incoming["CallStatus"], incoming["From"]) == (
        f"{BASE}/twilio/voice",
        "ringing",
        MOBILE,
    )
    assert (second, turn["Digits"], turn["CallStatus"]) == (TURN, "2", "in-progress")
    assert third == f"{BASE}/twilio/status"
    assert status["CallStatus"] == "completed"
    assert int(status["CallDuration"]) >= 1


def test_silence_without_action_on_empty_result_follows_the_redirect() -> None:
    wire = Scripted([str(gather(empty=False)), goodbye(), ""])
    caller = phone(wire)

    caller.dial()
    caller.answer("")

    url, params = wire.posts[1]
    assert url == TURN
    assert "Digits" not in params
    assert "SpeechResult" not in params


def test_a_relative_action_is_resolved_against_the_documents_url() -> None:
    response = VoiceResponse()
    response.gather(input="dtmf", action="voice/turn?n=7", num_digits=1).say("どうぞ")
    wire = Scripted([str(response), goodbye(), ""])
    caller = phone(wire)

    caller.dial()
    caller.answer("1")

    assert wire.posts[1][0] == f"{BASE}/twilio/voice/turn?n=7"


@pytest.mark.parametrize(
    ("typed", "status"), [(("y", ""), "completed"), (("n",), "no-answer"), (("",), "no-answer")]
)
def test_ringing_staff_asks_whether_someone_picks_up(typed: tuple[str, ...], status: str) -> None:
    response = VoiceResponse()
    response.say("おつなぎします。")
    response.dial(timeout=20, action=f"{BASE}/twilio/voice/dialed?n=2").number("+81312340001")
    wire = Scripted([str(response), goodbye(), ""])
    caller = phone(wire, *typed)

    caller.dial()

    url, params = wire.posts[1]
    assert url == f"{BASE}/twilio/voice/dialed?n=2"
    assert params["DialCallStatus"] == status
    assert ("DialCallDuration" in params) == (status == "completed")


def test_hanging_up_mid_call_posts_only_the_status_callback() -> None:
    wire = Scripted([str(gather()), ""])
    caller = phone(wire)

    caller.dial()
    call.talk(caller, ":hangup")

    assert [url for url, _ in wire.posts] == [f"{BASE}/twilio/voice", f"{BASE}/twilio/status"]
    assert wire.posts[-1][1]["CallStatus"] == "completed"
    assert caller.ended


def test_words_where_only_keys_are_heard_are_refused_and_the_gather_still_waits() -> None:
    wire = Scripted([str(gather(speech=False))])
    caller = phone(wire)

    caller.dial()
    caller.answer("はい")

    assert len(wire.posts) == 1
    assert caller.waiting is not None


def test_an_answer_that_is_not_twiml_is_a_plain_error() -> None:
    with pytest.raises(PhoneError, match="did not answer TwiML"):
        phone(Scripted(["<html>oops</html>"])).dial()


def test_a_server_that_only_redirects_is_stopped() -> None:
    response = VoiceResponse()
    response.redirect(f"{BASE}/twilio/voice")

    with pytest.raises(PhoneError, match="without listening"):
        phone(Scripted([str(response)] * (call.MAX_HOPS + 1))).dial()


def test_the_attendants_words_are_shown_a_sentence_a_line() -> None:
    assert call.sentences("お電話ありがとうございます。テスト整骨院です。") == [
        "お電話ありがとうございます。",
        "テスト整骨院です。",
    ]
    assert call.sentences("12月1日 火曜日ですね") == ["12月1日 火曜日ですね"]


def test_a_number_is_written_as_people_in_japan_write_it() -> None:
    assert call.display_number(MOBILE) == "090-1234-5678"
    assert call_world.caller_number("03-1234-5678") == "+81312345678"
    with pytest.raises(ValueError, match="not a phone number"):
        call_world.caller_number("someone")


@pytest.fixture
def call_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    """`uketsuke call` on an empty temporary database."""
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    get_settings.cache_clear()
    app = typer.Typer()
    cli.register(app)
    yield app
    get_settings.cache_clear()


def test_call_says_plainly_when_the_given_server_is_not_there(call_command: typer.Typer) -> None:
    result = CliRunner().invoke(call_command, ["call", "--url", "http://127.0.0.1:9"])

    assert result.exit_code == 1
    assert "not reachable" in result.output


def test_call_says_plainly_when_the_server_has_no_phone_routes(call_command: typer.Typer) -> None:
    bare = FastAPI()
    bare.get("/healthz")(lambda: {"ok": True})
    served = serving.serve_in_thread(bare)
    try:
        result = CliRunner().invoke(call_command, ["call", "--url", served.url])
    finally:
        served.stop()

    assert result.exit_code == 1
    assert "no phone channel" in result.output


def test_call_needs_a_clinic_first_and_remembers_the_number_given(
    call_command: typer.Typer, tmp_path: Path
) -> None:
    result = CliRunner().invoke(call_command, ["call", "--from", "03-1234-5678"])

    assert result.exit_code == 1
    assert "no clinic yet" in result.output
    assert remembered.load(tmp_path / "empty.call.json") == {"from": "+81312345678"}


def test_call_refuses_a_number_that_is_not_one(call_command: typer.Typer) -> None:
    result = CliRunner().invoke(call_command, ["call", "--from", "someone"])

    assert result.exit_code == 2


@dataclass(frozen=True)
class World:
    wire: Wire
    fake: str
    patient_id: int


@pytest.fixture
def world(committed: Database) -> Iterator[World]:
    """The real app served by uvicorn on 127.0.0.1, sending SMS to the fake Twilio API."""
    with committed.transaction() as session:
        clinic = make_clinic(session)
        make_staff(session, clinic)
        make_bed(session, clinic)
        make_course(session, clinic)
        patient_id = make_patient(session, clinic, phone=MOBILE).id
    fake = serving.serve_in_thread(fake_twilio.FakeTwilio(account_sid=SID, auth_token=TOKEN).app())
    sock = serving.listening_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=committed.engine.url.render_as_string(hide_password=False),
        public_base_url=url,
        twilio=TwilioSettings(
            _env_file=None,  # type: ignore[call-arg]
            account_sid=SID,
            auth_token=SecretStr(TOKEN),
            api_base=fake.url,
            staff_numbers=["+81312340001"],
        ),
        sms=SmsSettings(_env_file=None, provider="twilio", sender="UKETSUKE"),  # type: ignore[call-arg]
    )
    app = create_app(settings, clock=lambda: NOW)
    server = serving.serve_in_thread(app, sock)
    with httpx.Client(timeout=10) as http:
        yield World(Wire(url, TOKEN, http, fake.url), fake.url, patient_id)
    server.stop()
    fake.stop()
    app.state.store.dispose()


def keys(caller: call.Phone, typed: str) -> None:
    """Press keys where the attendant listens; say what it said when it does not."""
    assert caller.waiting is not None, caller.said
    caller.answer(typed)


def test_a_known_mobile_caller_books_by_keys_and_gets_the_sms(
    world: World, committed: Database
) -> None:
    caller = call.place(
        world.wire,
        account_sid=SID,
        caller=MOBILE,
        callee="+81312345678",
        console=Console(file=io.StringIO()),
        ask=input,
        sms_wait=5,
    )
    caller.dial()
    for typed in ("1", "1", "1201", "1000", "1", "2"):  # me; book; 1 Dec; 10:00; take it; done
        keys(caller, typed)

    assert caller.ended, caller.said
    [sms] = caller.sms
    assert sms["to"] == MOBILE
    assert "12月1日" in sms["body"]
    with committed.reader() as session:
        booking = session.scalar(select(Booking))
        logged = session.scalar(select(CallLog))
        assert booking is not None
        assert booking.patient_id == world.patient_id
        assert booking.status == BookingStatus.REQUESTED
        assert booking.source == Source.PHONE
        assert booking.starts_at.replace(tzinfo=UTC) == jst(2026, 12, 1, 10)
        assert logged is not None
        assert logged.booking_id == booking.id


def test_the_command_places_a_call_on_a_server_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/clinic.db"
    database = Database(url)
    migrate.upgrade(database.engine)
    with database.transaction() as session:
        make_course(session, make_clinic(session))
    database.dispose()
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", url)
    get_settings.cache_clear()
    app = typer.Typer()
    cli.register(app)
    try:
        result = CliRunner().invoke(app, ["call"], input="4\n:q\n")
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert "受付: " in result.output
    assert "the call lasted" in result.output
    assert remembered.load(tmp_path / "clinic.call.json")["from"].startswith("+8190")
