"""Campaigns and segments over the API: preview, create, schedule, send once, cancel; bad
segments are 422s naming the field; no input is a 500."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Campaign, OutboxMessage
from tests.api import test_fuzz as fuzz
from tests.factories import make_clinic, make_course, make_patient


@pytest.fixture
def world(session: Session) -> SimpleNamespace:
    clinic = make_clinic(session, name="さくら整骨院")
    make_course(session, clinic)
    line = make_patient(session, clinic, line_user_id="U1", consent_line=True)
    make_patient(session, clinic, name="田中 一郎", phone="+819087654321", consent_sms=True)
    make_patient(session, clinic, name="田中 次郎", phone="+81312340000")
    return SimpleNamespace(clinic=clinic.id, line_patient=line.id)


def new_campaign(client: TestClient, world: SimpleNamespace, **fields: Any) -> Any:
    body = {
        "clinic_id": world.clinic,
        "name": "冬のご案内",
        "template": "{patient_name}様 {clinic_name}です。",
    } | fields
    return client.post("/api/campaigns", json=body)


def queued(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_preview_a_segment_with_counts_and_samples(
    client: TestClient, world: SimpleNamespace
) -> None:
    response = client.post(
        "/api/segments/preview",
        json={"clinic_id": world.clinic, "segment": {}, "template": "{patient_name}様"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {
        "total": 3,
        "line": 1,
        "sms": 1,
        "email": 0,
        "unreachable": 1,
        "post": 0,
    }
    assert [sample["channel"] for sample in body["samples"]] == ["line", "sms", None]
    assert body["samples"][0]["text"] == "佐藤 花子様"


def test_create_send_and_read_a_campaign(
    client: TestClient, world: SimpleNamespace, session: Session
) -> None:
    created = new_campaign(client, world, segment={"channel": "line"})
    assert created.status_code == 201
    campaign = created.json()
    assert (campaign["status"], campaign["segment"]) == ("draft", {"channel": "line"})
    sent = client.post(f"/api/campaigns/{campaign['id']}/send")
    assert sent.status_code == 200
    assert sent.json() == {
        "campaign_id": campaign["id"],
        "matched": 1,
        "queued": 1,
        "skipped": 0,
        "unreachable": 0,
    }
    again = client.post(f"/api/campaigns/{campaign['id']}/send")
    assert again.status_code == 409
    assert queued(session) == 1
    read = client.get(f"/api/campaigns/{campaign['id']}").json()
    assert (read["status"], read["recipients"], read["sending"]) == ("sent", 1, False)
    # As a sender stopped mid-way leaves it, until the worker queues the rest.
    row = session.get(Campaign, campaign["id"])
    assert row is not None
    row.sending_through = 1
    session.flush()
    assert client.get(f"/api/campaigns/{campaign['id']}").json()["sending"] is True
    listed = client.get("/api/campaigns", params={"clinic_id": world.clinic}).json()
    assert [item["id"] for item in listed] == [campaign["id"]]


def test_schedule_preview_and_cancel(client: TestClient, world: SimpleNamespace) -> None:
    created = new_campaign(client, world, send_at="2026-12-24T10:00:00+09:00").json()
    assert created["status"] == "scheduled"
    assert created["send_at"] == "2026-12-24T10:00:00+09:00"
    preview = client.post(f"/api/campaigns/{created['id']}/preview").json()
    assert preview["counts"]["total"] == 3
    assert preview["samples"][1]["text"].startswith("田中 一郎様 さくら整骨院です。")
    moved = client.post(
        f"/api/campaigns/{created['id']}/schedule", json={"send_at": "2026-12-25T10:00:00+09:00"}
    )
    assert moved.json()["send_at"] == "2026-12-25T10:00:00+09:00"
    cancelled = client.post(f"/api/campaigns/{created['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert client.post(f"/api/campaigns/{created['id']}/send").status_code == 409


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"segment": {"birth_month": 0}}, "birth_month"),
        ({"segment": {"min_visits": 5, "max_visits": 1}}, "max_visits"),
        ({"segment": {"channel": "fax"}}, "channel"),
        ({"segment": {"course": "a\x00b"}}, "course"),
        ({"segment": {"course": "ない"}}, "segment.course"),
        ({"template": "{name}様"}, "template"),
        ({"send_at": "2026-11-01T10:00:00+09:00"}, "send_at"),
        ({"send_at": "2026-12-24T10:00:00"}, "send_at"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, world: SimpleNamespace, fields: dict[str, Any], field: str
) -> None:
    response = new_campaign(client, world, **fields)
    assert response.status_code == 422
    body = response.json()
    named = body.get("field") or ".".join(str(part) for part in body["detail"][0]["loc"])
    assert named.endswith(field)


def test_unknown_ids_are_404(client: TestClient, world: SimpleNamespace) -> None:
    assert client.get("/api/campaigns/999999").status_code == 404
    assert client.post("/api/campaigns/999999/send").status_code == 404
    assert client.get("/api/campaigns", params={"clinic_id": 999999}).status_code == 404
    body = {"clinic_id": 999999, "segment": {}}
    assert client.post("/api/segments/preview", json=body).status_code == 404


def test_the_token_is_required(client: TestClient, world: SimpleNamespace) -> None:
    response = client.get(
        "/api/campaigns", params={"clinic_id": world.clinic}, headers={"Authorization": ""}
    )
    assert response.status_code == 401


OPERATIONS = (
    ("POST", "/api/segments/preview"),
    ("POST", "/api/campaigns"),
    ("GET", "/api/campaigns"),
    ("GET", "/api/campaigns/{campaign_id}"),
    *(
        ("POST", f"/api/campaigns/{{campaign_id}}/{step}")
        for step in ("preview", "schedule", "send", "cancel")
    ),
)
SEGMENT_FIELDS = (
    "last_visit_from",
    "last_visit_to",
    "min_visits",
    "max_visits",
    "course",
    "media",
    "staff",
    "tags",
    "birth_month",
    "channel",
)
segment_values = st.dictionaries(
    st.sampled_from(SEGMENT_FIELDS) | st.text(max_size=5), fuzz.json_values, max_size=4
)


@pytest.mark.parametrize(("method", "template"), OPERATIONS)
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_input_causes_a_server_error(
    client: TestClient, world: SimpleNamespace, method: str, template: str, data: st.DataObject
) -> None:
    campaign = new_campaign(client, world).json()["id"]
    ids = st.sampled_from([campaign, world.clinic]) | st.integers() | st.sampled_from(fuzz.EDGES)
    path = template.format(campaign_id=fuzz.encoded(data.draw(ids)))
    body: dict[str, Any] = {
        "clinic_id": data.draw(ids),
        "name": "x",
        "template": data.draw(st.sampled_from(("{patient_name}", "{x}", "{", "")) | st.text()),
        "segment": data.draw(segment_values),
        "send_at": data.draw(st.sampled_from(fuzz.EDGES)),
    }
    spoiled = {key: value for key, value in body.items() if data.draw(st.booleans())}
    raw = data.draw(st.sampled_from(fuzz.RAW_BODIES) | st.just(b""))
    content = data.draw(
        st.sampled_from((raw, json.dumps(spoiled).encode("utf-8", "surrogatepass")))
    )
    query = f"clinic_id={fuzz.encoded(data.draw(ids))}"
    response = client.request(
        method, f"{path}?{query}", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, (method, path, content[:200], response.text[:500])
