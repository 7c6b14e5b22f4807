"""`uketsuke chat`: a terminal LINE simulator for a patient, or a staff member in the group.

What is typed becomes a really signed webhook event (message, postback, follow) posted to
the server; the server answers through the fake LINE API (bot/fake_line.py), and the
simulator reads those messages back and shows them, every button numbered so that typing
its number taps it. Japanese is what LINE would show; English is the simulator's own voice.

This module is the loop; the events and the posts are bot/chat_wire.py, the messages as
shown bot/chat_views.py, the server and fake it talks to bot/chat_world.py, and how a
session starts (staff linking, a patient's first follow) bot/chat_start.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from bot.chat_views import Tap, View, menu_taps, picked_date, tap_event, views
from bot.chat_wire import (
    Event,
    Link,
    SimulatorError,
    follow_event,
    group_source,
    message_event,
    unfollow_event,
    user_source,
)

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
