"""The fake LINE API: it records what it is asked to deliver and refuses what LINE refuses."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from backend import serving
from bot import fake_line

TOKEN = "fake-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
USER = "U" + "1" * 32
TEXT = {"type": "text", "text": "こんにちは"}


@pytest.fixture
def fake() -> fake_line.FakeLine:
    return fake_line.FakeLine()


@pytest.fixture
def api(fake: fake_line.FakeLine) -> TestClient:
    return TestClient(fake.app(), headers=AUTH)


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 90)).save(out, format="PNG")
    return out.getvalue()


def menu(**overrides: Any) -> dict[str, Any]:
    area = {
        "bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
        "action": {"type": "postback", "data": "menu:book"},
    }
    values = {
        "size": {"width": 2500, "height": 843},
        "selected": True,
        "name": "test",
        "chatBarText": "メニュー",
        "areas": [area],
    }
    return values | overrides


def messages(api: TestClient, since: int = 0) -> list[dict[str, Any]]:
    return list(api.get("/_fake/messages", params={"since": since}).json()["messages"])


def test_replies_and_pushes_are_recorded_with_their_target(api: TestClient) -> None:
    api.post("/_fake/reply-tokens", json={"replyToken": "rt1", "to": USER})

    reply = api.post("/v2/bot/message/reply", json={"replyToken": "rt1", "messages": [TEXT]})
    push = api.post("/v2/bot/message/push", json={"to": "Cgroup", "messages": [TEXT, TEXT]})

    assert reply.status_code == 200
    assert len(reply.json()["sentMessages"]) == 1
    assert push.status_code == 200
    recorded = messages(api)
    assert [(m["seq"], m["kind"], m["to"]) for m in recorded] == [
        (1, "reply", USER),
        (2, "push", "Cgroup"),
        (3, "push", "Cgroup"),
    ]
    assert recorded[0]["message"] == TEXT
    assert recorded[0]["reply_token"] == "rt1"
    assert [m["seq"] for m in messages(api, since=2)] == [3]


def test_the_cursor_never_runs_past_the_last_message(api: TestClient) -> None:
    assert api.get("/_fake/messages", params={"since": 10**9}).json()["next"] == 0
    api.post("/v2/bot/message/push", json={"to": USER, "messages": [TEXT]})

    assert api.get("/_fake/messages", params={"since": 0}).json()["next"] == 1


def test_a_repeated_retry_key_answers_409_and_delivers_nothing_more(api: TestClient) -> None:
    key = str(uuid.uuid4())
    body = {"to": USER, "messages": [TEXT]}

    first = api.post("/v2/bot/message/push", json=body, headers={"X-Line-Retry-Key": key})
    again = api.post("/v2/bot/message/push", json=body, headers={"X-Line-Retry-Key": key})

    assert first.status_code == 200
    assert again.status_code == 409
    assert again.json()["sentMessages"] == first.json()["sentMessages"]
    assert len(messages(api)) == 1
    assert messages(api)[0]["retry_key"] == key


def test_a_retry_key_that_is_not_a_uuid_is_refused(api: TestClient) -> None:
    response = api.post(
        "/v2/bot/message/push",
        json={"to": USER, "messages": [TEXT]},
        headers={"X-Line-Retry-Key": "not-a-uuid"},
    )

    assert response.status_code == 400
    assert messages(api) == []


def test_a_reply_token_works_once_and_takes_no_retry_key(api: TestClient) -> None:
    body = {"replyToken": "rt", "messages": [TEXT]}
    retried = api.post(
        "/v2/bot/message/reply", json=body, headers={"X-Line-Retry-Key": str(uuid.uuid4())}
    )
    first = api.post("/v2/bot/message/reply", json=body)
    second = api.post("/v2/bot/message/reply", json=body)

    assert retried.status_code == 400
    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["message"] == "Invalid reply token"


def test_multicast_records_one_message_per_recipient(api: TestClient) -> None:
    users = ["U" + "a" * 32, "U" + "b" * 32]
    response = api.post("/v2/bot/message/multicast", json={"to": users, "messages": [TEXT]})

    assert response.status_code == 200
    assert [(m["kind"], m["to"]) for m in messages(api)] == [
        ("multicast", users[0]),
        ("multicast", users[1]),
    ]


@pytest.mark.parametrize(
    "body",
    [{"to": USER, "messages": []}, {"to": USER, "messages": [TEXT] * 6}, {"messages": [TEXT]}],
)
def test_a_push_outside_lines_limits_is_refused(api: TestClient, body: dict[str, Any]) -> None:
    assert api.post("/v2/bot/message/push", json=body).status_code == 400
    assert messages(api) == []


@pytest.mark.parametrize("header", [None, "Bearer ", "Basic abc", "Bearer wrong"])
def test_the_bearer_token_is_required(header: str | None) -> None:
    api = TestClient(fake_line.FakeLine(access_token=TOKEN).app())
    headers = {} if header is None else {"Authorization": header}

    response = api.post(
        "/v2/bot/message/push", json={"to": USER, "messages": [TEXT]}, headers=headers
    )

    assert response.status_code == 401
    assert "Authentication failed" in response.json()["message"]
    assert messages(api) == []


def test_any_bearer_token_passes_when_none_is_configured(api: TestClient) -> None:
    response = api.post(
        "/v2/bot/message/push",
        json={"to": USER, "messages": [TEXT]},
        headers={"Authorization": "Bearer anything"},
    )
    assert response.status_code == 200


def test_a_profile_has_a_japanese_display_name(api: TestClient) -> None:
    profile = api.get(f"/v2/bot/profile/{USER}").json()

    assert profile["userId"] == USER
    assert profile["displayName"] == fake_line.display_name(USER)
    assert " " in profile["displayName"]
    assert api.get("/v2/bot/profile/nobody").status_code == 404


def test_a_rich_menu_is_created_given_an_image_and_made_the_default(api: TestClient) -> None:
    menu_id = api.post("/v2/bot/richmenu", json=menu()).json()["richMenuId"]

    assert api.post(f"/v2/bot/user/all/richmenu/{menu_id}").status_code == 400  # no image yet
    upload = api.post(
        f"/v2/bot/richmenu/{menu_id}/content",
        content=png(2500, 843),
        headers={"Content-Type": "image/png"},
    )
    assert upload.status_code == 200
    assert api.post(f"/v2/bot/user/all/richmenu/{menu_id}").status_code == 200
    assert api.get("/v2/bot/user/all/richmenu").json() == {"richMenuId": menu_id}
    listed = api.get("/v2/bot/richmenu/list").json()["richmenus"]
    assert [(m["richMenuId"], m["chatBarText"]) for m in listed] == [(menu_id, "メニュー")]
    assert api.get(f"/v2/bot/richmenu/{menu_id}/content").content == png(2500, 843)


def test_deleting_the_default_rich_menu_clears_the_default(api: TestClient) -> None:
    menu_id = api.post("/v2/bot/richmenu", json=menu()).json()["richMenuId"]
    api.post(
        f"/v2/bot/richmenu/{menu_id}/content",
        content=png(2500, 843),
        headers={"Content-Type": "image/png"},
    )
    api.post(f"/v2/bot/user/all/richmenu/{menu_id}")

    assert api.delete(f"/v2/bot/richmenu/{menu_id}").status_code == 200
    assert api.get("/v2/bot/user/all/richmenu").status_code == 404
    assert api.get(f"/v2/bot/richmenu/{menu_id}").status_code == 404
    assert api.get("/v2/bot/richmenu/list").json() == {"richmenus": []}


@pytest.mark.parametrize(
    "changes",
    [
        {"size": {"width": 2500, "height": 2500}},  # aspect ratio under 1.45
        {"chatBarText": "十五文字を超えるメニューの表示テキスト"},
        {"areas": []},
        {"areas": [{"bounds": {"x": 2000, "y": 0, "width": 1250, "height": 843}, "action": {}}]},
        {"size": "big"},
        {"areas": [{"bounds": {"x": "0"}}]},
    ],
)
def test_a_rich_menu_outside_lines_limits_is_refused(
    api: TestClient, changes: dict[str, Any]
) -> None:
    assert api.post("/v2/bot/richmenu", json=menu(**changes)).status_code == 400
    assert api.get("/v2/bot/richmenu/list").json() == {"richmenus": []}


def test_an_image_of_the_wrong_size_or_type_is_refused(api: TestClient) -> None:
    menu_id = api.post("/v2/bot/richmenu", json=menu()).json()["richMenuId"]
    path = f"/v2/bot/richmenu/{menu_id}/content"

    wrong_size = api.post(path, content=png(800, 270), headers={"Content-Type": "image/png"})
    wrong_type = api.post(path, content=b"GIF89a", headers={"Content-Type": "image/gif"})
    not_an_image = api.post(path, content=b"nope", headers={"Content-Type": "image/png"})

    assert wrong_size.status_code == 400
    assert wrong_type.status_code == 415
    assert not_an_image.status_code == 400
    assert api.get("/v2/bot/richmenu/" + menu_id + "/content").status_code == 404


def test_served_in_a_thread_with_latency() -> None:
    served = serving.serve_in_thread(fake_line.FakeLine(latency=0.05).app())
    try:
        with httpx.Client(base_url=served.url, headers=AUTH) as http:
            began = time.perf_counter()
            response = http.post("/v2/bot/message/push", json={"to": USER, "messages": [TEXT]})
            elapsed = time.perf_counter() - began
            assert response.status_code == 200
            assert elapsed >= 0.05
            assert http.get("/_fake/messages").json()["next"] == 1
    finally:
        served.stop()
