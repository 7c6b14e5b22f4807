"""Every route under /api refuses a request without the right bearer token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import AuditLog, Patient
from tests.api.test_fuzz import OPERATIONS
from tests.factories import make_clinic, make_patient


def api_operations(client: TestClient) -> list[tuple[str, str]]:
    """(method, path template) of every operation under /api in the OpenAPI document."""
    paths = client.app.openapi()["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/")
        for method in operations
    ]


def test_the_api_publishes_every_route(client: TestClient) -> None:
    assert set(api_operations(client)) >= OPERATIONS


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token", "Basic dGVzdDp0ZXN0", "bearer  "],
)
def test_no_route_answers_without_the_token(
    client: TestClient, session: Session, authorization: str | None
) -> None:
    clinic = make_clinic(session)
    patient = make_patient(session, clinic)
    ids = {
        "clinic_id": clinic.id,
        "patient_id": patient.id,
        "booking_id": 1,
        "visit_id": 1,
        "campaign_id": 1,
    }
    anonymous = TestClient(client.app)
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, template in api_operations(client):
        path = template.format(**ids)
        response = anonymous.request(method, path, headers=headers, json={"reason": "x"})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 0
    assert session.scalar(select(func.count()).select_from(Patient)) == 1


@pytest.mark.parametrize("body", [b"{", b"\xff", b'{"reason": NaN}'])
def test_malformed_json_without_the_token_is_still_401(client: TestClient, body: bytes) -> None:
    anonymous = TestClient(client.app)
    for path in ("/api/patients", "/api/bookings/1/cancel", "/api/visits"):
        response = anonymous.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 401, (path, response.text)
