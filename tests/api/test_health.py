"""Health is public; everything under /api needs the bearer token."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz_answers_without_a_token(client: TestClient) -> None:
    response = client.get("/healthz", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_is_published(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "uketsuke API"
