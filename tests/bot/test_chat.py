"""The chat simulator: signed events, LINE messages read back, taps, and a run end to end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from linebot.v3 import WebhookParser, webhooks
from pydantic import SecretStr
from rich.console import Console
from sqlalchemy import select
from typer.testing import CliRunner

from backend import remembered, serving, staff_links
from backend.app import create_app
from backend.conversation.model import Card, Carousel, Choice, DatePick, Say
from backend.db import Database
from backend.models import Booking, BookingStatus, Clinic, InboundEvent
from backend.settings import LineSettings, Settings, get_settings
from bot import chat, chat_views, chat_wire, chat_world, cli, fake_line, render
from tests.factories import NOW, make_bed, make_clinic, make_course, make_staff

SECRET = "chat-test-secret"
USER = "U" + "2" * 32
GROUP = "C" + "3" * 32
NOW_MS = 1_796_000_000_000


def quick_reply_text() -> dict[str, Any]:
    """A text with two postback quick replies and a date picker, as LINE receives it."""
    pick = DatePick("カレンダー", "day:pick", date(2026, 12, 1), date(2026, 12, 31))
    say = Say(
        "ご希望の日をお選びください。", (Choice("明日", "day:1"), Choice("戻る", "back")), pick
    )
    return render.messages([say])[0]


def request_card() -> dict[str, Any]:
    card = Card(
        "予約リクエスト",
        (("お名前", "佐藤 花子"), ("日時", "12月1日(火) 10:00")),
        (Choice("承認", "req:7:approve"), Choice("お断り", "req:7:decline")),
    )
    return render.messages([card])[0]


def test_the_signature_is_lines_hmac_of_the_raw_body() -> None:
    body = chat_wire.webhook_body(
        [chat_wire.follow_event(chat_wire.user_source(USER), now_ms=NOW_MS)], destination=USER
    )
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()

    assert base64.b64decode(chat_wire.sign(SECRET, body)) == expected


def test_events_parse_with_the_sdk_and_verify() -> None:
    source = chat_wire.group_source(GROUP, USER)
    events = [
        chat_wire.message_event("予約", source, now_ms=NOW_MS),
        chat_wire.postback_event("day:pick", source, now_ms=NOW_MS, params={"date": "2026-12-01"}),
        chat_wire.follow_event(chat_wire.user_source(USER), now_ms=NOW_MS),
        chat_wire.unfollow_event(chat_wire.user_source(USER), now_ms=NOW_MS),
    ]
    body = chat_wire.webhook_body(events, destination=USER)

    parsed = WebhookParser(SECRET).parse(body.decode(), chat_wire.sign(SECRET, body))

    message, postback, follow, unfollow = parsed
    assert isinstance(message, webhooks.MessageEvent)
    assert message.message.text == "予約"
    assert message.source.group_id == GROUP
    assert message.source.user_id == USER
    assert isinstance(postback, webhooks.PostbackEvent)
    assert postback.postback.params == {"date": "2026-12-01"}
    assert isinstance(follow, webhooks.FollowEvent)
    assert isinstance(unfollow, webhooks.UnfollowEvent)
    assert all(event.mode == webhooks.EventMode.ACTIVE for event in parsed)
    assert all(not event.delivery_context.is_redelivery for event in parsed)


def test_every_event_has_its_own_id_and_reply_token() -> None:
    events = [
        chat_wire.message_event("a", chat_wire.user_source(USER), now_ms=NOW_MS) for _ in range(50)
    ]

    assert len({event["webhookEventId"] for event in events}) == 50
    assert len({event["replyToken"] for event in events}) == 50
    assert all(len(event["webhookEventId"]) == 26 for event in events)
    assert all(event["timestamp"] == NOW_MS for event in events)


def test_event_ids_are_ulids_in_time_order() -> None:
    earlier, later = chat_wire.ulid(NOW_MS), chat_wire.ulid(NOW_MS + 1)

    assert earlier < later
    assert set(earlier) <= set(chat_wire.CROCKFORD)


def test_a_text_shows_its_quick_replies_numbered_in_order() -> None:
    (shown,) = chat_views.views(quick_reply_text())

    assert shown.kind == "text"
    assert shown.lines == ["ご希望の日をお選びください。"]
    assert [tap.label for tap in shown.taps] == ["明日", "戻る", "カレンダー"]
    assert shown.taps[2].action["type"] == "datetimepicker"


def test_a_flex_card_shows_its_title_rows_and_buttons() -> None:
    (shown,) = chat_views.views(request_card())

    assert shown.kind == "card"
    assert shown.lines == ["予約リクエスト", "お名前  佐藤 花子", "日時  12月1日(火) 10:00"]
    assert [(tap.label, tap.action["data"]) for tap in shown.taps] == [
        ("承認", "req:7:approve"),
        ("お断り", "req:7:decline"),
    ]


def test_a_carousel_shows_one_card_per_bubble() -> None:
    cards = tuple(
        Card(f"ご予約{n}", (("日時", "12月1日"),), (Choice("変更", f"b:{n}"),)) for n in (1, 2)
    )
    message = render.messages([Carousel(cards, "ご予約の一覧")])[0]

    shown = chat_views.views(message)

    assert [card.lines[0] for card in shown] == ["ご予約1", "ご予約2"]
    assert [card.taps[0].action["data"] for card in shown] == ["b:1", "b:2"]


def test_a_tapped_postback_sends_its_data() -> None:
    tap = chat_views.views(request_card())[0].taps[0]

    event = chat_views.tap_event(tap, chat_wire.group_source(GROUP, USER), now_ms=NOW_MS)

    assert event is not None
    assert event["type"] == "postback"
    assert event["postback"] == {"data": "req:7:approve"}
    assert event["source"] == {"type": "group", "groupId": GROUP, "userId": USER}


def test_a_date_picker_sends_the_date_as_params() -> None:
    picker = chat_views.views(quick_reply_text())[0].taps[2]

    event = chat_views.tap_event(
        picker, chat_wire.user_source(USER), now_ms=NOW_MS, answer="2026-12-03"
    )

    assert event is not None
    assert event["postback"] == {"data": "day:pick", "params": {"date": "2026-12-03"}}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-03", "2026-12-03"),
        (" 2026-12-31 ", "2026-12-31"),
        ("2027-01-01", None),
        ("2026-11-30", None),
        ("明日", None),
    ],
)
def test_a_typed_date_must_be_inside_the_pickers_range(typed: str, expected: str | None) -> None:
    action = chat_views.views(quick_reply_text())[0].taps[2].action

    assert chat_views.picked_date(action, typed) == expected


def test_a_message_action_sends_its_text_and_a_link_sends_nothing() -> None:
    say = chat_views.Tap("はい", {"type": "message", "label": "はい", "text": "はい"})
    link = chat_views.Tap("地図", {"type": "uri", "label": "地図", "uri": "https://example.com"})

    event = chat_views.tap_event(say, chat_wire.user_source(USER), now_ms=NOW_MS)

    assert event is not None
    assert event["message"]["text"] == "はい"
    assert chat_views.tap_event(link, chat_wire.user_source(USER), now_ms=NOW_MS) is None


def test_the_rich_menu_taps_are_its_four_postbacks() -> None:
    data = [tap.action["data"] for tap in chat_views.menu_taps()]

    assert data == ["menu:book", "menu:list", "menu:info", "menu:call"]


@dataclass
class FakeLink:
    """The wire, in memory: records posted events; answers each with `replies`."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    posted: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    queue: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0

    def post(self, event: dict[str, Any], chat_id: str) -> None:
        self.posted.append((event, chat_id))
        for message in self.replies:
            self.seq += 1
            self.queue.append({"seq": self.seq, "to": chat_id, "message": message})

    def messages(self, since: int) -> tuple[list[dict[str, Any]], int]:
        found = [item for item in self.queue if item["seq"] > since]
        return found, self.seq


def simulator(link: FakeLink, answers: list[str] | None = None, **seat: Any) -> chat.Simulator:
    typed = iter(answers or [])
    return chat.Simulator(
        link,  # type: ignore[arg-type]
        chat.Seat(**({"user_id": USER} | seat)),
        chats={USER: "patient", GROUP: "group"},
        console=Console(file=io.StringIO(), width=100),
        ask=lambda _: next(typed),
        wait=0.2,
    )


def test_typing_a_number_taps_that_button() -> None:
    link = FakeLink(replies=[quick_reply_text()])
    sim = simulator(link)
    sim.handle("予約")

    sim.handle("2")

    event, to = link.posted[-1]
    assert event["postback"] == {"data": "back"}
    assert to == USER


def test_a_date_picker_asks_until_the_date_is_in_range() -> None:
    link = FakeLink(replies=[quick_reply_text()])
    sim = simulator(link, answers=["2030-01-01", "2026-12-24"])
    sim.handle("予約")

    sim.handle("3")

    assert link.posted[-1][0]["postback"]["params"] == {"date": "2026-12-24"}


def test_staff_tap_in_the_group_and_dm_the_bot_one_to_one() -> None:
    link = FakeLink(replies=[request_card()])
    sim = simulator(link, user_id=USER, group_id=GROUP)
    sim.chats = {GROUP: "group", USER: "direct"}
    sim.handle("未承認")

    sim.handle("1")
    sim.handle(":dm UK-ABC234")

    tapped, dm = link.posted[1], link.posted[2]
    assert tapped[0]["source"]["type"] == "group"
    assert tapped[1] == GROUP
    assert tapped[0]["postback"]["data"] == "req:7:approve"
    assert dm[0]["source"] == {"type": "user", "userId": USER}
    assert dm[0]["message"]["text"] == "UK-ABC234"


def test_an_unknown_number_and_quit_send_nothing() -> None:
    link = FakeLink()
    sim = simulator(link)

    assert sim.handle("9") is True
    assert sim.handle(":q") is False
    assert link.posted == []


def test_the_state_file_sits_beside_a_sqlite_database(tmp_path: Path) -> None:
    path = chat_world.state_path(f"sqlite:///{tmp_path}/clinic.db")
    remembered.save(path, {"patient": USER})

    assert path == tmp_path / "clinic.chat.json"
    assert remembered.load(path) == {"patient": USER}
    assert chat_world.state_path("postgresql+psycopg://db/x").name == ".uketsuke-chat.json"
    assert remembered.load(tmp_path / "missing.json") == {}


def test_an_unreachable_server_is_said_plainly() -> None:
    with httpx.Client(timeout=1) as http:
        link = chat_wire.Link(
            "http://127.0.0.1:9/line/webhook", "http://127.0.0.1:9", SECRET, USER, http
        )
        with pytest.raises(chat_wire.SimulatorError, match="cannot reach"):
            link.post(
                chat_wire.message_event("a", chat_wire.user_source(USER), now_ms=NOW_MS), USER
            )


BOT = "U" + "9" * 32
PATIENT = "U" + "4" * 32
STAFF = "U" + "5" * 32
TOKEN = "chat-test-token"


@dataclass(frozen=True)
class World:
    server: str
    fake: str
    clinic_id: int
    staff_id: int


@pytest.fixture
def world(committed: Database) -> Iterator[World]:
    """The real app served by uvicorn on 127.0.0.1, sending to the fake LINE API."""
    with committed.transaction() as session:
        clinic = make_clinic(session)
        member = make_staff(session, clinic)
        make_bed(session, clinic)
        make_course(session, clinic)
        ids = clinic.id, member.id
    fake = serving.serve_in_thread(fake_line.FakeLine(access_token=TOKEN).app())
    line = LineSettings(
        _env_file=None,  # type: ignore[call-arg]
        channel_secret=SecretStr(SECRET),
        access_token=SecretStr(TOKEN),
        api_base=fake.url,
        data_api_base=fake.url,
    )
    url = committed.engine.url.render_as_string(hide_password=False)
    settings = Settings(_env_file=None, database_url=url, line=line)  # type: ignore[call-arg]
    app = create_app(settings, clock=lambda: NOW)
    server = serving.serve_in_thread(app)
    yield World(server.url, fake.url, *ids)
    server.stop()
    fake.stop()
    app.state.store.dispose()


class CountingLink(chat_wire.Link):
    sent = 0

    def post(self, event: dict[str, Any], chat_id: str) -> None:
        super().post(event, chat_id)
        self.sent += 1


def seated(link: chat_wire.Link, seat: chat.Seat) -> chat.Simulator:
    chats = {PATIENT: "patient", GROUP: "group", STAFF: "direct"}
    console = Console(file=io.StringIO(), width=120)
    return chat.Simulator(link, seat, chats=chats, console=console, ask=input, wait=10, settle=0.15)


def last_lines(sim: chat.Simulator, view: str) -> list[str]:
    return [line for name, shown in sim.shown if name == view for line in shown.lines]


def tap(sim: chat.Simulator, label: str | None = None) -> None:
    """Tap the button with this label (the first button when None). On a busy machine the
    message carrying the buttons may come after the simulator stopped listening: look
    again, as a user pressing Enter would, before giving up."""
    for _ in range(20):
        labels = [choice.label for choice in sim.taps]
        if labels and (label is None or label in labels):
            break
        sim.refresh(wait=0.5)
    assert labels, "no buttons to tap"
    assert label is None or label in labels, labels
    sim.handle(str(labels.index(label) + 1 if label else 1))


def link_codes(database: Database, world: World) -> tuple[str, str]:
    with database.transaction() as session:
        user = staff_links.issue(
            session,
            clinic_id=world.clinic_id,
            purpose="staff_user",
            staff_id=world.staff_id,
            now=NOW,
        )
        group = staff_links.issue(
            session, clinic_id=world.clinic_id, purpose="staff_group", now=NOW
        )
        return user.code, group.code


def test_a_patient_registers_and_books_and_staff_approve_in_the_group(
    world: World, committed: Database
) -> None:
    with httpx.Client(timeout=10) as http:
        link = CountingLink(f"{world.server}/line/webhook", world.fake, SECRET, BOT, http)
        staff, patient = seated(link, chat.Seat(STAFF, GROUP)), seated(link, chat.Seat(PATIENT))
        user_code, group_code = link_codes(committed, world)
        staff.handle(f":dm {user_code}")
        staff.handle(group_code)
        assert last_lines(staff, "direct")
        assert last_lines(staff, "group")

        patient.follow()
        tap(patient, "初めての方")
        for typed in ("山田 花子", "ヤマダ ハナコ", "090-1234-5678"):
            patient.handle(typed)
        for label in ("スキップ", "回答しない", "はい", "予約する", "骨盤矯正"):
            tap(patient, label)
        tap(patient)  # the first day with room
        tap(patient)  # its first free time
        tap(patient, "この内容で予約する")

        staff.handle("")
        assert any("予約リクエスト" in line for line in last_lines(staff, "group"))
        tap(staff, "承認")
        patient.handle("")

    assert any("確定" in line for line in last_lines(patient, "patient"))
    with committed.reader() as session:
        clinic = session.get(Clinic, world.clinic_id)
        booked = session.scalar(select(Booking))
        events = session.scalars(select(InboundEvent.external_id)).all()
        assert clinic is not None
        assert clinic.line_staff_group_id == GROUP
        assert booked is not None
        assert booked.status == BookingStatus.CONFIRMED
        assert len(events) == len(set(events)) == link.sent


@pytest.fixture
def chat_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    """`uketsuke chat` on an empty temporary database."""
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    get_settings.cache_clear()
    app = typer.Typer()
    cli.register(app)
    yield app
    get_settings.cache_clear()


def test_chat_says_plainly_when_the_given_server_is_not_there(chat_command: typer.Typer) -> None:
    dead = "http://127.0.0.1:9"
    result = CliRunner().invoke(chat_command, ["chat", "--url", dead, "--fake-url", dead])

    assert result.exit_code == 1
    assert "not reachable" in result.output
    assert "uketsuke line fake" in result.output


def test_chat_needs_a_clinic_first(chat_command: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(chat_command, ["chat"])

    assert result.exit_code == 1
    assert "no clinic yet" in result.output
    assert remembered.load(tmp_path / "empty.chat.json")["patient"].startswith("U")


def test_chat_refuses_a_user_id_that_is_not_lines(chat_command: typer.Typer) -> None:
    result = CliRunner().invoke(chat_command, ["chat", "--user-id", "someone"])

    assert result.exit_code == 2
