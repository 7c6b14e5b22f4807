"""Email through a real SMTP server (aiosmtpd on 127.0.0.1, a free port per test): what
arrives, and what each kind of failure means for a message without idempotency."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import SecretStr

from backend import outbox
from backend.settings import MailSettings
from reminders import mail

SENDER = "info@sakura-seikotsu.example"
PATIENT = "hanako@example.jp"
SUBJECT = "【さくら通り整骨院】明日のご予約のお知らせ"
BODY = (
    "佐藤 花子 様\n明日 12月1日(火) 15:30 にご予約を承っております。\nご来院をお待ちしております。"
)


class Handler:
    """Records what arrives; answers RCPT and DATA as a test asks."""

    def __init__(self) -> None:
        self.received: list[Envelope] = []
        self.rcpt_answer = ""
        self.data_answer = "250 OK"
        self.drop_on_data = False
        self.port = 0

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.drop_on_data:
            assert server.transport is not None
            server.transport.abort()  # the message arrived; the answer never does
        self.received.append(envelope)
        return self.data_answer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def handler() -> Iterator[Handler]:
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


def mailer(port: int, **overrides: Any) -> mail.Mailer:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "starttls": False,
        "sender": SENDER,
    }
    settings = MailSettings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]
    return mail.Mailer(settings, timeout=5)


def parsed(envelope: Envelope) -> Message:
    assert isinstance(envelope.original_content, bytes)
    return email.message_from_bytes(envelope.original_content)


def test_a_japanese_subject_and_body_arrive_intact(handler: Handler) -> None:
    outcome = mail.deliver(
        mailer(handler.port),
        to=PATIENT,
        payload={"subject": SUBJECT, "body": BODY},
        retry_key="k",
    )

    assert outcome == outbox.Sent()
    (envelope,) = handler.received
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, [PATIENT])
    message = parsed(envelope)
    assert str(make_header(decode_header(message["Subject"]))) == SUBJECT
    assert message["Subject"].isascii()  # encoded words, as mail readers expect
    assert message.get_content_charset() == "utf-8"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode("utf-8").strip() == BODY
    assert message["Message-ID"].endswith("@sakura-seikotsu.example>")


def test_a_refused_recipient_fails_with_the_servers_words(handler: Handler) -> None:
    handler.rcpt_answer = "550 5.1.1 No such user"

    outcome = mailer(handler.port).send(PATIENT, SUBJECT, BODY, key="k")

    assert outcome == outbox.Failed("SMTP 550: 5.1.1 No such user")
    assert handler.received == []


def test_a_temporary_refusal_is_retried(handler: Handler) -> None:
    handler.rcpt_answer = "451 4.3.0 Try again later"

    outcome = mailer(handler.port).send(PATIENT, SUBJECT, BODY, key="k")

    assert outcome == outbox.Retry("SMTP 451: 4.3.0 Try again later")


def test_a_refused_message_fails(handler: Handler) -> None:
    handler.data_answer = "554 5.7.1 Message rejected"

    outcome = mailer(handler.port).send(PATIENT, SUBJECT, BODY, key="k")

    assert outcome == outbox.Failed("SMTP 554: 5.7.1 Message rejected")


def test_a_connection_lost_after_the_data_is_uncertain(handler: Handler) -> None:
    handler.drop_on_data = True

    outcome = mailer(handler.port).send(PATIENT, SUBJECT, BODY, key="k")

    assert isinstance(outcome, outbox.Uncertain)
    assert len(handler.received) == 1  # it did arrive: sending again would be a duplicate


def test_a_refused_connection_is_retried() -> None:
    outcome = mailer(free_port()).send(PATIENT, SUBJECT, BODY, key="k")

    assert isinstance(outcome, outbox.Retry)
    assert outcome.reason.startswith("SMTP connection failed before sending")


def test_starttls_that_the_server_does_not_offer_is_retried_not_sent_in_clear(
    handler: Handler,
) -> None:
    outcome = mailer(handler.port, starttls=True).send(PATIENT, SUBJECT, BODY, key="k")

    assert isinstance(outcome, outbox.Retry)
    assert handler.received == []


def test_login_is_used_when_a_username_is_set(handler: Handler) -> None:
    settings = {"username": "clinic", "password": SecretStr("secret")}

    outcome = mailer(handler.port, **settings).send(PATIENT, SUBJECT, BODY, key="k")

    # This local server offers no AUTH over a clear connection: nothing may be sent.
    assert isinstance(outcome, outbox.Retry)
    assert handler.received == []


@pytest.mark.parametrize("payload", [{}, {"subject": "件名"}, {"subject": "件名", "body": " "}])
def test_a_row_without_subject_or_body_fails(handler: Handler, payload: dict[str, Any]) -> None:
    outcome = mail.deliver(mailer(handler.port), to=PATIENT, payload=payload, retry_key="k")

    assert outcome == outbox.Failed("unreadable payload (no subject or body)")
