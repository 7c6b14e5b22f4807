"""`uketsuke chat`: a terminal LINE simulator for a patient, or a staff member in the group.

What is typed becomes a really signed webhook event (message, postback, follow) posted to
the server; the server answers through the fake LINE API (bot/fake_line.py), and the
simulator reads those messages back and shows them, every button numbered so that typing
its number taps it. Japanese is what LINE would show; English is the simulator's own voice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from bot import richmenu

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
HELP = """[bold]How to use the simulator[/bold]
  type a message          sent as the {who}
  1, 2, …                 tap the numbered button or quick reply
  m1 … m4                 tap the rich menu
  Enter on an empty line  look for new messages (e.g. after the other side answered)
  :dm TEXT                send TEXT 1:1 to the bot (staff: e.g. a link code)
  :menu                   show the rich menu
  :follow / :unfollow     add the bot as a friend again / block it
  :help                   this help
  :q                      quit"""

Event = dict[str, Any]


def new_user_id() -> str:
    """A LINE user id: U and 32 hex digits."""
    return "U" + uuid.uuid4().hex


def new_group_id() -> str:
    """A LINE group id: C and 32 hex digits."""
    return "C" + uuid.uuid4().hex


def ulid(now_ms: int) -> str:
    """A ULID (what LINE's webhookEventId is): 48-bit time, 80 random bits, base 32."""
    number = (now_ms << 80) | secrets.randbits(80)
    return "".join(CROCKFORD[(number >> shift) & 31] for shift in range(125, -1, -5))


def sign(secret: str, body: bytes) -> str:
    """X-Line-Signature: base64 of the HMAC-SHA256 of the raw body under the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def user_source(user_id: str) -> dict[str, str]:
    """The source of a 1:1 chat event."""
    return {"type": "user", "userId": user_id}


def group_source(group_id: str, user_id: str) -> dict[str, str]:
    """The source of an event in a group, with who did it."""
    return {"type": "group", "groupId": group_id, "userId": user_id}


def _event(kind: str, source: dict[str, str], now_ms: int, **fields: Any) -> Event:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": now_ms,
        "source": source,
        "webhookEventId": ulid(now_ms),
        "deliveryContext": {"isRedelivery": False},
        **fields,
    }


def message_event(text: str, source: dict[str, str], *, now_ms: int) -> Event:
    """A text message event with a fresh reply token."""
    message = {
        "type": "text",
        "id": str(secrets.randbelow(10**18)),
        "quoteToken": secrets.token_urlsafe(24),
        "text": text,
    }
    return _event("message", source, now_ms, replyToken=uuid.uuid4().hex, message=message)


def postback_event(
    data: str, source: dict[str, str], *, now_ms: int, params: dict[str, str] | None = None
) -> Event:
    """A postback event (a tapped button); `params` carries a date picker's answer."""
    postback: dict[str, Any] = {"data": data, **({"params": params} if params else {})}
    return _event("postback", source, now_ms, replyToken=uuid.uuid4().hex, postback=postback)


def follow_event(source: dict[str, str], *, now_ms: int, unblocked: bool = False) -> Event:
    """The user added the bot as a friend (or unblocked it)."""
    follow = {"isUnblocked": unblocked}
    return _event("follow", source, now_ms, replyToken=uuid.uuid4().hex, follow=follow)


def unfollow_event(source: dict[str, str], *, now_ms: int) -> Event:
    """The user blocked the bot (no reply token: nobody can answer a block)."""
    return _event("unfollow", source, now_ms)


def webhook_body(events: list[Event], *, destination: str) -> bytes:
    """The raw body LINE posts: the bot's user id and the events."""
    return json.dumps({"destination": destination, "events": events}, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Tap:
    """A button or quick reply: its label and LINE action object."""

    label: str
    action: dict[str, Any]


@dataclass
class View:
    """One message as the simulator shows it: a text bubble or a card, with its buttons."""

    kind: str
    lines: list[str] = field(default_factory=list)
    taps: list[Tap] = field(default_factory=list)


def views(message: dict[str, Any]) -> list[View]:
    """What a LINE message object shows; quick replies belong to the last view."""
    kind = message.get("type")
    if kind == "text":
        found = [View("text", [str(message.get("text", ""))])]
    elif kind == "flex":
        found = _flex(message.get("contents", {}))
    elif kind == "template":
        found = [_template(message.get("template", {}))]
    else:
        found = [View("text", [f"[{kind}]"])]
    items = (message.get("quickReply") or {}).get("items", [])
    found[-1].taps.extend(_tap(item.get("action", {})) for item in items)
    return found


def _tap(action: dict[str, Any]) -> Tap:
    return Tap(str(action.get("label") or action.get("text") or action.get("data", "")), action)


def _flex(contents: dict[str, Any]) -> list[View]:
    bubbles = contents.get("contents", []) if contents.get("type") == "carousel" else [contents]
    cards = []
    for bubble in bubbles:
        card = View("card")
        for part in ("header", "hero", "body", "footer"):
            if part in bubble:
                _walk(bubble[part], card)
        cards.append(card)
    return cards or [View("card")]


def _walk(node: dict[str, Any], card: View) -> None:
    """Collect a Flex component's text lines and buttons; a row's texts share a line."""
    kind = node.get("type")
    children = node.get("contents", []) if kind == "box" else []
    if kind == "text":
        spans = "".join(span.get("text", "") for span in node.get("contents", []))
        card.lines.append(str(node.get("text") or spans))
    elif kind == "button":
        card.taps.append(_tap(node.get("action", {})))
    elif _is_row(node, children):
        card.lines.append("  ".join(str(child.get("text", "")) for child in children))
        return
    for child in children:
        _walk(child, card)
    if kind == "box" and "action" in node:
        card.taps.append(_tap(node["action"]))


def _is_row(node: dict[str, Any], children: list[dict[str, Any]]) -> bool:
    horizontal = node.get("layout") in ("horizontal", "baseline")
    return bool(children) and horizontal and all(child.get("type") == "text" for child in children)


def _template(template: dict[str, Any]) -> View:
    lines = [str(template[key]) for key in ("title", "text") if template.get(key)]
    return View("card", lines, [_tap(action) for action in template.get("actions", [])])


def tap_event(
    tap: Tap, source: dict[str, str], *, now_ms: int, answer: str | None = None
) -> Event | None:
    """The event tapping `tap` sends (a picker needs its `answer`); None for a link."""
    action = tap.action
    kind = action.get("type")
    if kind == "postback":
        return postback_event(str(action["data"]), source, now_ms=now_ms)
    if kind == "datetimepicker":
        # The bot only asks for dates (mode "date"), answered as params.date.
        params = {"date": answer or ""}
        return postback_event(str(action["data"]), source, now_ms=now_ms, params=params)
    if kind == "message":
        return message_event(str(action.get("text", tap.label)), source, now_ms=now_ms)
    return None


def picked_date(action: dict[str, Any], typed: str) -> str | None:
    """`typed` as an ISO date inside the picker's range, or None."""
    try:
        day = date.fromisoformat(typed.strip())
    except ValueError:
        return None
    first, last = action.get("min"), action.get("max")
    if (first and day < date.fromisoformat(first)) or (last and day > date.fromisoformat(last)):
        return None
    return day.isoformat()


def menu_taps() -> list[Tap]:
    """The rich menu's four areas as taps (typed as m1 … m4)."""
    return [
        Tap(tile.label, richmenu.menu_request()["areas"][n]["action"])
        for n, tile in enumerate(richmenu.TILES)
    ]


class SimulatorError(RuntimeError):
    """The server or the fake could not be reached, or refused; the text says what to do."""


@dataclass
class Link:
    """The wire: signed webhooks to the server, messages read back from the fake."""

    webhook_url: str
    fake_url: str
    secret: str
    destination: str
    http: httpx.Client

    def post(self, event: Event, chat: str) -> None:
        """Send one event; its replies will be shown in `chat` (a user or group id)."""
        try:
            if "replyToken" in event:
                self.http.post(
                    f"{self.fake_url}/_fake/reply-tokens",
                    json={"replyToken": event["replyToken"], "to": chat},
                ).raise_for_status()
            body = webhook_body([event], destination=self.destination)
            headers = {
                "Content-Type": "application/json",
                "X-Line-Signature": sign(self.secret, body),
            }
            response = self.http.post(self.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise SimulatorError(
                f"cannot reach the server or the fake LINE API: {error}"
            ) from error
        _check(response, self.webhook_url)

    def messages(self, since: int) -> tuple[list[dict[str, Any]], int]:
        """Messages the fake received after `since`, and the new cursor."""
        try:
            response = self.http.get(f"{self.fake_url}/_fake/messages", params={"since": since})
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise SimulatorError(
                f"the fake LINE API at {self.fake_url} is gone (did the `uketsuke chat` that "
                f"started it quit?): {error}"
            ) from error
        found = response.json()
        return found["messages"], int(found["next"])


def _check(response: httpx.Response, url: str) -> None:
    if response.status_code == 401:
        raise SimulatorError(
            "the server refused the signature: its UKETSUKE_LINE_CHANNEL_SECRET is not the "
            "one the simulator signs with"
        )
    if response.status_code == 404:
        raise SimulatorError(f"{url} does not exist: is this server's LINE webhook installed?")
    if not response.is_success:
        raise SimulatorError(f"the webhook answered HTTP {response.status_code}: {response.text}")


@dataclass
class Seat:
    """Who the simulator is: the patient, or a staff member in the staff group."""

    user_id: str
    group_id: str | None = None

    @property
    def chat(self) -> str:
        """Where this seat types and reads: the group, or the 1:1 chat."""
        return self.group_id or self.user_id

    def source(self, direct: bool = False) -> dict[str, str]:
        """The event source for what this seat does (`direct`: 1:1 even in staff mode)."""
        if self.group_id and not direct:
            return group_source(self.group_id, self.user_id)
        return user_source(self.user_id)


TITLES = {"patient": "LINE 患者", "group": "スタッフグループ", "direct": "スタッフ 1:1"}
STYLES = {"patient": "green", "group": "magenta", "direct": "cyan"}


class Simulator:
    """The chat loop: send what is typed, show what comes back, tap by number."""

    def __init__(
        self,
        link: Link,
        seat: Seat,
        *,
        chats: dict[str, str],
        console: Console,
        ask: Callable[[str], str],
        clock: Callable[[], float] = time.time,
        wait: float = 6.0,
        settle: float = 0.4,
    ) -> None:
        # `chats` names the chats to show: chat id -> "patient", "group" or "direct".
        self.link, self.seat, self.chats, self.console = link, seat, chats, console
        # `wait`: how long to wait for a first answer; `settle`: the quiet that ends one.
        self.ask, self.clock, self.wait, self.settle = ask, clock, wait, settle
        self.taps: list[Tap] = []
        self.shown: list[tuple[str, View]] = []
        self.cursor = link.messages(10**9)[1]

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def handle(self, typed: str) -> bool:
        """Act on one typed line; False when the user quits."""
        text = typed.strip()
        if text in (":q", ":quit"):
            return False
        if text == ":help":
            who = "staff member in the group" if self.seat.group_id else "patient"
            self.console.print(HELP.format(who=who))
        elif text == ":menu":
            self.show_menu()
        elif text in (":follow", ":unfollow"):
            self.follow(blocked=text == ":unfollow")
        elif text.startswith(":dm "):
            self.send(
                message_event(text[4:], self.seat.source(True), now_ms=self.now_ms()),
                self.seat.user_id,
            )
        elif not text:
            self.refresh(wait=0.3)
        elif text.isdigit() or (text[:1] == "m" and text[1:].isdigit()):
            self.tap(text)
        else:
            self.send(message_event(text, self.seat.source(), now_ms=self.now_ms()))
        return True

    def follow(self, *, blocked: bool = False) -> None:
        """Add the bot as a friend (or block it)."""
        source = user_source(self.seat.user_id)
        if blocked:
            self.send(unfollow_event(source, now_ms=self.now_ms()), wait=0.5)
        else:
            self.send(follow_event(source, now_ms=self.now_ms()), self.seat.user_id)

    def send(self, event: Event, chat: str | None = None, *, wait: float | None = None) -> None:
        """Post one event and show the replies that follow it."""
        self.link.post(event, chat or self.seat.chat)
        self.refresh(wait=self.wait if wait is None else wait)

    def tap(self, typed: str) -> None:
        """Tap button `typed` ("3") or rich menu area ("m1")."""
        menu = typed.startswith("m")
        choices = menu_taps() if menu else self.taps
        number = int(typed[1:] if menu else typed)
        if not 1 <= number <= len(choices):
            self.console.print(f"[yellow]no button {typed} here; :help explains[/yellow]")
            return
        chosen = choices[number - 1]
        answer = (
            self._picker_answer(chosen) if chosen.action.get("type") == "datetimepicker" else None
        )
        event = tap_event(chosen, self.seat.source(), now_ms=self.now_ms(), answer=answer)
        if event is None:
            self.console.print(
                f"[dim](LINE would open {escape(str(chosen.action.get('uri')))})[/dim]"
            )
            return
        said = escape(str(chosen.action.get("displayText", chosen.label)))
        self.console.print(f"[bold]あなた[/bold]: {said}")
        self.send(event)

    def _picker_answer(self, tap: Tap) -> str:
        action = tap.action
        while True:
            typed = self.ask(f"date (YYYY-MM-DD, {action.get('min')} … {action.get('max')}): ")
            answer = picked_date(action, typed)
            if answer is not None:
                return answer
            self.console.print("[yellow]not a date in that range; try again[/yellow]")

    def refresh(self, *, wait: float) -> None:
        """Show new messages: wait up to `wait` s for the first, then for `settle` s of quiet."""
        deadline, quiet_until = self.clock() + wait, None
        fresh: list[tuple[str, View]] = []
        while True:
            found = self._fetch()
            fresh += found
            now = self.clock()
            if found:
                quiet_until = now + self.settle
            if (quiet_until and now >= quiet_until) or now >= deadline:
                break
            time.sleep(0.05)
        if fresh:
            self._show(fresh)
        elif wait >= 1:
            self.console.print("[dim](no reply yet — press Enter to look again)[/dim]")

    def _fetch(self) -> list[tuple[str, View]]:
        messages, self.cursor = self.link.messages(self.cursor)
        return [
            (self.chats[item["to"]], shown)
            for item in messages
            if item.get("to") in self.chats
            for shown in views(item["message"])
        ]

    def _show(self, fresh: list[tuple[str, View]]) -> None:
        # Only this seat's buttons get numbers; the other side's are shown, not tappable.
        mine = {"group", "direct"} if self.seat.group_id else {"patient"}
        self.taps = []
        for chat, shown in fresh:
            numbered = chat in mine
            first = len(self.taps) + 1
            if numbered:
                self.taps.extend(shown.taps)
            self._render(chat, shown, first if numbered else None)
        self.shown.extend(fresh)

    def _render(self, chat: str, shown: View, first: int | None) -> None:
        # What LINE sent is text, never markup: escape it before rich reads it.
        buttons = "  ".join(
            f"[bold]{first + n}[/bold] {escape(tap.label)}" if first else escape(f"[{tap.label}]")
            for n, tap in enumerate(shown.taps)
        )
        style = STYLES[chat]
        lines = [escape(line) for line in shown.lines] or [""]
        if shown.kind == "card":
            body = "\n".join(lines[1:] + ([buttons] if buttons else []))
            title = lines[0]
            self.console.print(
                Panel(
                    body,
                    title=f"{TITLES[chat]} ▸ {title}",
                    border_style=style,
                    title_align="left",
                    expand=False,
                )
            )
            return
        text = lines[0].replace("\n", "\n    ")
        self.console.print(f"[{style}]{TITLES[chat]}[/{style}]: {text}")
        if buttons:
            self.console.print(f"    {buttons}")

    def show_menu(self) -> None:
        """List the rich menu's areas, tappable as m1 … m4."""
        labels = "  ".join(f"[bold]m{n}[/bold] {tap.label}" for n, tap in enumerate(menu_taps(), 1))
        self.console.print(f"[green]rich menu[/green]: {labels}")

    def run(self) -> None:
        """Read lines until :q (or end of input)."""
        while True:
            try:
                typed = self.ask("> ")
            except (EOFError, KeyboardInterrupt):
                return
            try:
                if not self.handle(typed):
                    return
            except SimulatorError as error:
                self.console.print(f"[red]{error}[/red]")
