"""SMS through Twilio's Messages API, mocked with respx at its URL: what is sent, and what
each answer means for a message that must never go out twice."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from pydantic import SecretStr

from backend import outbox
from backend.settings import Settings, SmsSettings, TwilioSettings
from reminders import sms
from tests import conftest

API_BASE = "https://api.twilio.test"
ACCOUNT = "AC" + "2" * 32
TOKEN = "sms-test-auth-token"
SENDER = "UKETSUKE"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
MOBILE = "+819012345678"
BODY = "テスト整骨院です。ご予約のリクエストを承りました。LINE: https://lin.ee/test"


def sms_settings(**overrides: Any) -> Settings:
    twilio: dict[str, Any] = {
        "account_sid": ACCOUNT,
        "auth_token": SecretStr(TOKEN),
        "api_base": API_BASE,
        "timeout_seconds": 2.0,
    }
    sending: dict[str, Any] = {"provider": "twilio", "sender": SENDER}
    for name in list(overrides):
        if name in twilio:
            twilio[name] = overrides.pop(name)
        elif name in sending:
            sending[name] = overrides.pop(name)
    return conftest.test_settings(
        twilio=TwilioSettings(_env_file=None, **twilio),  # type: ignore[call-arg]
        sms=SmsSettings(_env_file=None, **sending),  # type: ignore[call-arg]
    )


@pytest.fixture
def twilio_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API_BASE, assert_all_called=False, using="httpx") as router:
        yield router


@pytest.fixture
def provider() -> Iterator[sms.Provider]:
    with sms.opened(sms_settings()) as opened:
        yield opened


def error(status: int, code: int, message: str) -> httpx.Response:
    body = {"code": code, "message": message, "more_info": "", "status": status}
    return httpx.Response(status, json=body)


def test_a_message_is_posted_as_twilio_expects_it(
    twilio_api: respx.MockRouter, provider: sms.Provider
) -> None:
    route = twilio_api.post(MESSAGES).respond(
        201, json={"sid": "SM" + "3" * 32, "status": "queued"}
    )

    outcome = provider.send(MOBILE, BODY, key="row-key")

    assert outcome == outbox.Sent("SM" + "3" * 32)
    request = route.calls.last.request
    assert str(request.url) == API_BASE + MESSAGES
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(request.content.decode())) == {
        "To": MOBILE,
        "From": SENDER,
        "Body": BODY,
    }
    credentials = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {credentials}"


def test_a_refused_message_fails_with_twilio_s_reason(
    twilio_api: respx.MockRouter, provider: sms.Provider
) -> None:
    twilio_api.post(MESSAGES).mock(
        return_value=error(400, 21614, "'To' number is not a valid mobile number")
    )

    outcome = provider.send("+81312345678", BODY, key="row-key")

    assert outcome == outbox.Failed("Twilio 400 (21614): 'To' number is not a valid mobile number")


def test_a_refusal_without_a_readable_body_still_fails(
    twilio_api: respx.MockRouter, provider: sms.Provider
) -> None:
    twilio_api.post(MESSAGES).respond(401, text="Unauthorized")

    assert provider.send(MOBILE, BODY, key="row-key") == outbox.Failed("Twilio 401")


def test_too_many_requests_is_retried_as_nothing_was_queued(
    twilio_api: respx.MockRouter, provider: sms.Provider
) -> None:
    twilio_api.post(MESSAGES).mock(return_value=error(429, 20429, "Too Many Requests"))

    assert provider.send(MOBILE, BODY, key="row-key") == outbox.Retry(
        "Twilio 429 (20429): Too Many Requests"
    )


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, text="Internal Server Error"),
        httpx.Response(503, json={"code": 20503, "message": "Service Unavailable"}),
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.ReadError("connection reset"),
        httpx.Response(201, text="not json"),
    ],
    ids=["500", "503", "read timeout", "write timeout", "disconnected", "reset", "bad 201"],
)
def test_an_answer_that_leaves_it_unknown_whether_it_went_out_is_uncertain(
    twilio_api: respx.MockRouter, provider: sms.Provider, answer: Any
) -> None:
    route = twilio_api.post(MESSAGES)
    if isinstance(answer, httpx.Response):
        route.mock(return_value=answer)
    else:
        route.mock(side_effect=answer)

    outcome = provider.send(MOBILE, BODY, key="row-key")

    assert isinstance(outcome, outbox.Uncertain)
    assert route.call_count == 1  # never repeated on the spot


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("timed out"), httpx.PoolTimeout("full")],
    ids=["connect error", "connect timeout", "pool timeout"],
)
def test_a_connection_that_failed_before_sending_is_retried(
    twilio_api: respx.MockRouter, provider: sms.Provider, failure: Exception
) -> None:
    twilio_api.post(MESSAGES).mock(side_effect=failure)

    outcome = provider.send(MOBILE, BODY, key="row-key")

    assert outcome == outbox.Retry(f"connection failed before sending ({type(failure).__name__})")


def test_the_timeout_is_explicit(twilio_api: respx.MockRouter, provider: sms.Provider) -> None:
    route = twilio_api.post(MESSAGES).respond(201, json={"sid": "SM1"})

    provider.send(MOBILE, BODY, key="row-key")

    timeouts = route.calls.last.request.extensions["timeout"]
    assert timeouts == {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}


def test_provider_none_fails_every_message_visibly(twilio_api: respx.MockRouter) -> None:
    with sms.opened(sms_settings(provider="none")) as provider:
        outcome = provider.send(MOBILE, BODY, key="row-key")

    assert outcome == outbox.Failed("SMS is not configured (UKETSUKE_SMS_PROVIDER=none)")
    assert twilio_api.calls.call_count == 0


def test_an_incomplete_twilio_setup_names_what_is_missing(twilio_api: respx.MockRouter) -> None:
    settings = sms_settings(sender="", auth_token=SecretStr(""))

    with sms.opened(settings) as provider:
        outcome = provider.send(MOBILE, BODY, key="row-key")

    assert outcome == outbox.Failed(
        "SMS is not configured (missing UKETSUKE_TWILIO_AUTH_TOKEN, UKETSUKE_SMS_SENDER)"
    )
    assert twilio_api.calls.call_count == 0


def test_the_twilio_environment_variables_do_not_redirect_the_request(
    twilio_api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "tokyo")
    monkeypatch.setenv("TWILIO_REGION", "jp1")
    route = twilio_api.post(MESSAGES).respond(201, json={"sid": "SM1"})

    with sms.opened(sms_settings()) as provider:
        assert provider.send(MOBILE, BODY, key="row-key") == outbox.Sent("SM1")

    assert route.call_count == 1


def test_deliver_sends_an_outbox_row_s_text(
    twilio_api: respx.MockRouter, provider: sms.Provider
) -> None:
    route = twilio_api.post(MESSAGES).respond(201, json={"sid": "SM1"})

    outcome = sms.deliver(provider, to=MOBILE, payload={"text": BODY}, retry_key="k")

    assert outcome == outbox.Sent("SM1")
    assert dict(parse_qsl(route.calls.last.request.content.decode()))["Body"] == BODY


@pytest.mark.parametrize("payload", [{}, {"text": ""}, {"text": "  "}, {"text": 3}])
def test_deliver_fails_a_row_without_text(
    twilio_api: respx.MockRouter, provider: sms.Provider, payload: dict[str, Any]
) -> None:
    outcome = sms.deliver(provider, to=MOBILE, payload=payload, retry_key="k")

    assert outcome == outbox.Failed("unreadable payload (no text)")
    assert twilio_api.calls.call_count == 0
