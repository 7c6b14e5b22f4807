"""Email over SMTP (smtplib): STARTTLS and login as configured, Japanese subject and body
in UTF-8 (the subject as an RFC 2047 encoded word, the body base64).

Email has no idempotency key, so what an error means depends on how far the conversation
with the server got:

| outcome | when | the row |
|---|---|---|
| `Sent` | the server answered 250 to the message data | sent |
| `Retry` | nothing handed over: connection refused or lost before DATA, a 4xx | pending |
| `Failed` | a 5xx (recipient, message or login refused), with the server's words | failed |
| `Uncertain` | the connection broke during or after DATA: it may be delivered | uncertain |

An email row's payload is `{"subject": "...", "body": "..."}` (backend.messaging writes it).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from contextlib import suppress
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Any

from backend import outbox
from backend.settings import MailSettings

log = logging.getLogger(__name__)

MAX_REASON = 500


@dataclass(frozen=True)
class Mailer:
    """Sends one email per SMTP connection (a clinic sends few; a connection cannot be
    shared between the worker's threads)."""

    settings: MailSettings
    timeout: float = 10.0

    def send(self, to: str, subject: str, body: str, *, key: str) -> outbox.Outcome:
        """Send `body` to `to`; `key` (the row's retry key) names it in the logs."""
        message = compose(self.settings.sender, to=to, subject=subject, body=body)
        try:
            smtp = smtplib.SMTP(
                self.settings.smtp_host, self.settings.smtp_port, timeout=self.timeout
            )
        except (OSError, smtplib.SMTPException) as error:
            outcome: outbox.Outcome = _not_sent(error)
        else:
            try:
                outcome = self._deliver(smtp, message, to=to)
            finally:
                _close(smtp)
        log.info("email %s: %s", key, type(outcome).__name__)
        return outcome

    def _deliver(self, smtp: smtplib.SMTP, message: EmailMessage, *, to: str) -> outbox.Outcome:
        try:
            self._open(smtp)
            return _transfer(smtp, message, sender=self.settings.sender, to=to)
        except smtplib.SMTPResponseException as error:
            return refused(error.smtp_code, error.smtp_error)
        except (OSError, smtplib.SMTPException) as error:
            return _not_sent(error)

    def _open(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo()
        if self.settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if self.settings.username:
            smtp.login(self.settings.username, self.settings.password.get_secret_value())


def compose(sender: str, *, to: str, subject: str, body: str) -> EmailMessage:
    """The email as it goes out: UTF-8 subject and body, a Date and a Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body, charset="utf-8", cte="base64")
    return message


def _transfer(smtp: smtplib.SMTP, message: EmailMessage, *, sender: str, to: str) -> outbox.Outcome:
    """MAIL, RCPT, then DATA; only once DATA has begun can an error leave it unknown."""
    for code, reply in (smtp.mail(sender), smtp.rcpt(to)):
        if code >= 400:
            return refused(code, reply)
    try:
        code, reply = smtp.data(message.as_bytes(policy=SMTP))
    except smtplib.SMTPDataError as error:
        return refused(error.smtp_code, error.smtp_error)
    except (OSError, smtplib.SMTPException) as error:
        return outbox.Uncertain(f"connection lost while sending ({type(error).__name__})")
    if code != 250:
        return refused(code, reply)
    return outbox.Sent()


def _not_sent(error: Exception) -> outbox.Outcome:
    return outbox.Retry(f"SMTP connection failed before sending ({type(error).__name__})")


def _close(smtp: smtplib.SMTP) -> None:
    # The message is settled by now; a failed goodbye changes nothing about it.
    with suppress(OSError, smtplib.SMTPException):
        smtp.quit()
    smtp.close()


def refused(code: int, reply: bytes | str) -> outbox.Outcome:
    """What an SMTP error reply means for the message: 4xx try later, 5xx for good."""
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    reason = f"SMTP {code}: {text}"[:MAX_REASON]
    return outbox.Retry(reason) if 400 <= code < 500 else outbox.Failed(reason)


def deliver(mailer: Mailer, *, to: str, payload: dict[str, Any], retry_key: str) -> outbox.Outcome:
    """Send an outbox row's email."""
    subject, body = payload.get("subject"), payload.get("body")
    if not isinstance(subject, str) or not isinstance(body, str) or not body.strip():
        return outbox.Failed("unreadable payload (no subject or body)")
    return mailer.send(to, subject, body, key=retry_key)
