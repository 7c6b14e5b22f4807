"""The fake Twilio API: records SMS, requires basic auth, answers as Twilio does."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from backend import serving
from telephony import fake_twilio

SID = "AC" + "1" * 32
TOKEN = "fake-twilio-test-token"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"
SMS = {"From": "UKETSUKE", "To": "+819012345678", "Body": "ご予約のリクエストを承りました。"}


def basic(user: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@pytest.fixture
def fake() -> fake_twilio.FakeTwilio:
    return fake_twilio.FakeTwilio(account_sid=SID, auth_token=TOKEN)


@pytest.fixture
def api(fake: fake_twilio.FakeTwilio) -> TestClient:
    return TestClient(fake.app(), headers=basic(SID, TOKEN))


@pytest.fixture
def served(fake: fake_twilio.FakeTwilio) -> Iterator[str]:
    running = serving.serve_in_thread(fake.app())
    yield running.url
    running.stop()


def recorded(api: TestClient, since: int = 0) -> list[dict[str, Any]]:
    return list(api.get("/_fake/messages", params={"since": since}).json()["messages"])


def test_an_sms_is_recorded_and_answered_with_a_queued_message(api: TestClient) -> None:
    response = api.post(MESSAGES, data=SMS)

    assert response.status_code == 201
    message = response.json()
    assert message["sid"].startswith("SM")
    assert len(message["sid"]) == 34
    assert message["status"] == "queued"
    assert message["direction"] == "outbound-api"
    assert {key: message[key.lower()] for key in SMS} == SMS
    assert message["account_sid"] == SID
    assert message["uri"] == f"/2010-04-01/Accounts/{SID}/Messages/{message['sid']}.json"
    assert message["date_created"].endswith("GMT")
    [stored] = recorded(api)
    assert stored | {"sid": "x"} == {
        "seq": 1,
        "sid": "x",
        "from": "UKETSUKE",
        "to": "+819012345678",
        "body": SMS["Body"],
        "deliverable": True,
    }
    assert stored["sid"] == message["sid"]


def test_the_cursor_reads_only_newer_messages_and_never_runs_ahead(api: TestClient) -> None:
    for body in ("一", "二", "三"):
        api.post(MESSAGES, data=SMS | {"Body": body})

    assert [m["body"] for m in recorded(api, since=1)] == ["二", "三"]
    assert api.get("/_fake/messages", params={"since": 99}).json() == {"messages": [], "next": 3}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer " + TOKEN},
        {"Authorization": "Basic not-base64!"},
        basic(SID, "wrong-token"),
        basic(SID, ""),
    ],
)
def test_basic_auth_with_the_accounts_token_is_required(
    fake: fake_twilio.FakeTwilio, headers: dict[str, str]
) -> None:
    response = TestClient(fake.app()).post(MESSAGES, data=SMS, headers=headers)

    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert fake.messages == []


def test_another_accounts_path_is_not_found(api: TestClient) -> None:
    other = "AC" + "2" * 32

    response = api.post(f"/2010-04-01/Accounts/{other}/Messages.json", data=SMS)

    assert response.status_code == 404
    assert response.json()["code"] == 20404


def test_without_configured_credentials_any_basic_pair_passes() -> None:
    api = TestClient(fake_twilio.FakeTwilio().app(), headers=basic(SID, "anything"))

    assert api.post(MESSAGES, data=SMS).status_code == 201


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"To": ""}, 21604),
        ({"To": "090-1234-5678"}, 21211),
        ({"From": ""}, 21603),
        ({"Body": ""}, 21602),
        ({"Body": "あ" * 1601}, 21617),
    ],
)
def test_what_twilio_refuses_is_refused_with_its_code(
    api: TestClient, change: dict[str, str], code: int
) -> None:
    response = api.post(MESSAGES, data=SMS | change)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert recorded(api) == []


def test_an_sms_to_a_japanese_landline_is_recorded_as_undeliverable(api: TestClient) -> None:
    api.post(MESSAGES, data=SMS | {"To": "+81312345678"})
    api.post(MESSAGES, data=SMS | {"To": "+14155550100"})

    assert [m["deliverable"] for m in recorded(api)] == [False, True]


def test_the_twilio_sdk_sends_through_the_fake(served: str) -> None:
    client = Client(SID, TOKEN)
    client.api.base_url = served

    message = client.messages.create(to=SMS["To"], from_=SMS["From"], body=SMS["Body"])

    assert message.sid is not None
    assert message.sid.startswith("SM")
    assert message.status == "queued"
    assert message.date_created is not None
    assert httpx.get(f"{served}/_fake/messages").json()["messages"][0]["body"] == SMS["Body"]


def test_the_twilio_sdk_sees_a_wrong_token_as_twilios_error(served: str) -> None:
    client = Client(SID, "wrong-token")
    client.api.base_url = served

    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=SMS["To"], from_=SMS["From"], body=SMS["Body"])

    assert raised.value.status == 401
    assert raised.value.code == 20003


def test_latency_delays_every_api_call() -> None:
    running = serving.serve_in_thread(fake_twilio.FakeTwilio(latency=0.05).app())
    try:
        began = time.perf_counter()
        response = httpx.post(running.url + MESSAGES, data=SMS, headers=basic(SID, TOKEN))
        assert response.status_code == 201
        assert time.perf_counter() - began >= 0.05
    finally:
        running.stop()
