"""`uketsuke call`: a terminal phone that calls the attendant the way Twilio would.

Each request is a really signed Twilio webhook (telephony/call_wire.py); each answer is
TwiML, played verb by verb (telephony/call_twiml.py): the attendant's words are shown, a
<Gather> waits for a typed line — digits are keys, words are speech, an empty line is
silence — a <Dial> asks whether staff pick up, <Redirect>s are followed, and <Hangup/> or
the end of the document ends the call, which posts the status callback. Japanese is what
the caller would hear; English is the simulator's own voice.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import phonenumbers
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from telephony import call_twiml as twiml
from telephony.call_wire import STATUS_PATH, VOICE_PATH, Call, PhoneError, Wire, new_call_sid

SENTENCE_END = re.compile(r"(?<=[。？！?!])")
MAX_HOPS = 20  # documents fetched for one thing the caller did, before calling it a loop
Request = tuple[str, dict[str, str]]
HELP = """[bold]How to use the phone[/bold]
  digits (1, 1203, 090-1234-5678)  pressed as keys (Digits)
  words (予約したいです)            said aloud (SpeechResult)
  Enter on an empty line           silence
  :hangup                          hang up now (the attendant sees an abandoned call)
  :help                            this help
  :q                               hang up and quit"""


def display_number(number: str) -> str:
    """A number as people in Japan write it: +819012345678 → 090-1234-5678."""
    try:
        parsed = phonenumbers.parse(number, "JP")
    except phonenumbers.NumberParseException:
        return number
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))


def sentences(text: str) -> list[str]:
    """Japanese text cut after each 。, ？ and ！ (a text without them stays whole)."""
    return [part for part in SENTENCE_END.split(text.strip()) if part] or [""]


class Phone:
    """One call: places it, plays the attendant's TwiML, answers with typed lines."""

    def __init__(
        self,
        wire: Wire,
        call: Call,
        *,
        console: Console,
        ask: Callable[[str], str],
        clock: Callable[[], float] = time.monotonic,
        sms_wait: float = 3.0,
        settle: float = 0.4,
    ) -> None:
        self.wire, self.call, self.console, self.ask, self.clock = wire, call, console, ask, clock
        # `sms_wait`: how long to wait for a first SMS after the call; `settle`: the quiet
        # after which no more are expected.
        self.sms_wait, self.settle = sms_wait, settle
        self.said: list[str] = []
        self.sms: list[dict[str, Any]] = []
        self.waiting: twiml.Gather | None = None
        self.ended = False
        self._url = wire.server_url + VOICE_PATH
        self._rest: list[twiml.Verb] = []
        self._started = 0.0
        self._cursor = 0

    def dial(self) -> None:
        """Place the call (POST /twilio/voice) and play the answer until it listens or ends."""
        self._cursor = self.wire.messages(10**9)[1]
        self._started = self.clock()
        self._go((self._url, self.call.params("ringing")))

    def answer(self, typed: str) -> None:
        """Give the listening Gather a typed line: keys, speech or silence."""
        gather = self.waiting
        if gather is None:
            self.console.print("[yellow]nobody is listening now[/yellow]")
            return
        try:
            params = twiml.heard(typed, gather)
        except twiml.CannotAnswer as error:
            self.console.print(f"[yellow]{error}[/yellow]")
            return
        self.waiting = None
        if params is None:
            # Silence and no actionOnEmptyResult: Twilio plays what follows the Gather.
            self._go(self._play(self._rest))
            return
        action = self._resolve(gather.action or self._url)
        self._go((action, self.call.params("in-progress", **params)))

    def hang_up(self) -> None:
        """The caller hangs up: no more webhooks for this call but the status callback."""
        if not self.ended:
            self._end("you hung up")

    def drop(self) -> None:
        """Forget the call without telling the server (it could not be reached)."""
        self.ended, self.waiting = True, None

    def _go(self, request: Request | None) -> None:
        """Fetch and play documents until one listens or the call ends."""
        for _ in range(MAX_HOPS):
            if request is None:
                return
            url, params = request
            document = self.wire.post(url, params)
            try:
                verbs = twiml.parse(document)
            except twiml.NotTwiML as error:
                raise PhoneError(f"POST {url} did not answer TwiML ({error})") from error
            self._url = url
            request = self._play(verbs)
        raise PhoneError(f"the server sent {MAX_HOPS} documents in a row without listening")

    def _play(self, verbs: list[twiml.Verb]) -> Request | None:
        """Play verbs in order; the next request to make, or None (listening or ended)."""
        for index, verb in enumerate(verbs):
            match verb:
                case twiml.Say(text=text):
                    self._say(text)
                case twiml.Gather():
                    self._listen(verb, verbs[index + 1 :])
                    return None
                case twiml.Redirect(url=url):
                    return self._resolve(url), self.call.params("in-progress")
                case twiml.Dial():
                    request = self._ring(verb)
                    if request is not None:
                        return request
                case twiml.Hangup():
                    self._end("the attendant hung up")
                    return None
                case twiml.Pause(seconds=seconds):
                    self.console.print(f"[dim]({seconds} s pause)[/dim]")
                case twiml.Other(name=name):
                    self.console.print(f"[dim](<{escape(name)}> is not simulated; skipped)[/dim]")
        self._end("the call ended (nothing more to play)")
        return None

    def _say(self, text: str) -> None:
        self.said.append(text)
        # Rich wraps at spaces, and Japanese has none: a sentence a line reads like speech,
        # and the terminal wraps what is still too long.
        spoken = "\n      ".join(escape(sentence) for sentence in sentences(text))
        self.console.print(f"[green]受付[/green]: {spoken}", soft_wrap=True)

    def _listen(self, gather: twiml.Gather, rest: list[twiml.Verb]) -> None:
        for text in gather.says:
            self._say(text)
        self.waiting, self._rest = gather, rest
        # The recogniser's hints are the words the attendant expects: a new user's cue.
        hints = "、".join(hint.strip() for hint in gather.hints.split(",") if hint.strip())
        example = f"; words it expects: {escape(hints)}" if hints and gather.speech else ""
        self.console.print(
            f"[dim]  (listening for {twiml.listening_for(gather)}{example}; "
            "Enter alone is silence)[/dim]"
        )

    def _ring(self, dial: twiml.Dial) -> Request | None:
        """Ring the staff phones: ask whether somebody picks up; the Dial action's request."""
        numbers = ", ".join(display_number(number) for number in dial.numbers) or "nobody"
        self.console.print(
            f"[magenta](ringing the staff: {numbers}, up to {dial.timeout} s)[/magenta]"
        )
        picked_up = self.ask("Does a staff member pick up? [y/N] ").strip().lower() in ("y", "yes")
        outcome = {"DialCallStatus": "no-answer", "DialCallSid": new_call_sid()}
        if picked_up:
            began = self.clock()
            self.ask("(you are talking with the staff member; Enter ends that conversation) ")
            outcome |= {
                "DialCallStatus": "completed",
                "DialCallDuration": str(max(1, round(self.clock() - began))),
            }
        if dial.action is None:
            return None
        return self._resolve(dial.action), self.call.params("in-progress", **outcome)

    def _resolve(self, target: str) -> str:
        # Twilio resolves a relative URL against the document's own URL.
        return urljoin(self._url, target)

    def _end(self, why: str) -> None:
        """The call is over: post the status callback, then show the SMS that came."""
        self.ended, self.waiting = True, None
        seconds = max(1, round(self.clock() - self._started))
        self.console.print(f"[bold]({why}; the call lasted {seconds} s)[/bold]")
        params = self.call.ended("completed", seconds, datetime.now(UTC))
        self.wire.post(self._resolve(STATUS_PATH), params)
        self._show_sms()

    def _show_sms(self) -> None:
        """Show the SMS the fake Twilio API received since the call began."""
        if self.wire.fake_url is None:
            self.console.print(
                "[dim](SMS are not shown: the server sends them to its "
                "UKETSUKE_TWILIO_API_BASE; give that fake's URL with --fake-url)[/dim]"
            )
            return
        fresh = self._wait_for_sms()
        self.sms.extend(fresh)
        for message in fresh:
            warning = "" if message.get("deliverable", True) else " (a landline: never arrives)"
            self.console.print(
                Panel(
                    escape(str(message["body"])),
                    title=f"SMS to {display_number(str(message['to']))}{warning}",
                    title_align="left",
                    border_style="cyan",
                    expand=False,
                )
            )
        if not fresh:
            self.console.print("[dim](no SMS came)[/dim]")

    def _wait_for_sms(self) -> list[dict[str, Any]]:
        # SMS leave through the outbox after the webhook answered: give them a moment.
        deadline, quiet_until = self.clock() + self.sms_wait, None
        fresh: list[dict[str, Any]] = []
        while True:
            found, self._cursor = self.wire.messages(self._cursor)
            fresh += found
            now = self.clock()
            if found:
                quiet_until = now + self.settle
            if (quiet_until and now >= quiet_until) or now >= deadline:
                return fresh
            time.sleep(0.05)


def place(wire: Wire, *, account_sid: str, caller: str, callee: str, **options: Any) -> Phone:
    """A new phone for one call from `caller` to `callee`, not dialled yet."""
    return Phone(wire, Call(new_call_sid(), account_sid, caller, callee), **options)


QUIT = (":q", ":quit")


def talk(phone: Phone, typed: str) -> None:
    """Act on one line typed during a call."""
    text = typed.strip()
    if text in (*QUIT, ":hangup"):
        phone.hang_up()
    elif text == ":help":
        phone.console.print(HELP)
    else:
        phone.answer(typed)


def run(make_phone: Callable[[], Phone]) -> None:
    """Call, answer typed lines until the call ends, and offer to call again."""
    while True:
        phone = make_phone()
        phone.dial()  # a call that cannot be placed is a set-up problem: let it out
        if not _converse(phone):
            return
        try:
            again = phone.ask("Enter to call again, :q to quit: ").strip()
        except (EOFError, KeyboardInterrupt):
            return
        if again in QUIT:
            return


def _converse(phone: Phone) -> bool:
    """Read lines until the call ends; False when the user quits."""
    while not phone.ended:
        try:
            typed = phone.ask("> ")
        except (EOFError, KeyboardInterrupt):
            typed = ":q"
        try:
            talk(phone, typed)
        except PhoneError as error:
            phone.console.print(f"[red]{error}[/red]")
            phone.drop()
        if typed.strip() in QUIT:
            return False
    return True
