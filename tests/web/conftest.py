"""The dashboard under test: the real app on the test's rolled-back session, no API token,
redirects not followed so each answer can be checked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.settings import Settings
from tests.conftest import SessionStore, test_settings
from tests.web import browser

PASSWORD = "correct horse battery staple"
WAIT_SECONDS = 15  # the browser tests' longest wait for a page or an element
SECRET_KEY = "web-test-secret-key-0123456789abcdef"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def web_settings(**overrides: object) -> Settings:
    """Test settings with the dashboard's password and signing key."""
    return test_settings(
        dashboard_password=SecretStr(PASSWORD), secret_key=SecretStr(SECRET_KEY), **overrides
    )


@pytest.fixture
def web(session: Session, clock: list) -> Iterator[TestClient]:
    """A browser-like client of the dashboard (cookies kept, redirects not followed)."""
    app = create_app(web_settings(), store=SessionStore(session), clock=lambda: clock[0])
    with TestClient(app, follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


def sign_in(client: TestClient) -> str:
    """Sign in with the right password; return the signed-in session's form token."""
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"password": PASSWORD, "csrf": token})
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/").text)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium, one per browser test module."""
    with browser.chromium(tmp_path_factory.mktemp("chromium-profile")) as found:
        found.set_page_load_timeout(WAIT_SECONDS)
        yield found
