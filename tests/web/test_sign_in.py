"""Signing in and out of the dashboard: the password, the signed cookie, CSRF, and the
pages that send a signed-out browser to /login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from backend.web import cookies
from tests.conftest import API_TOKEN
from tests.factories import NOW
from tests.web.conftest import PASSWORD, SECRET_KEY, csrf_of, sign_in


@pytest.mark.parametrize("path", ["/", "/bookings/requests", "/dashboard"])
def test_every_page_sends_a_signed_out_browser_to_login(web: TestClient, path: str) -> None:
    answer = web.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


def test_the_login_page_is_japanese_and_sets_a_signed_httponly_lax_cookie(web: TestClient) -> None:
    answer = web.get("/login")
    assert answer.status_code == 200
    assert "スタッフ用ログイン" in answer.text
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{cookies.NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in development
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_a_wrong_password_gets_one_clear_message_and_no_session(web: TestClient) -> None:
    token = csrf_of(web.get("/login").text)
    answer = web.post("/login", data={"password": "wrong", "csrf": token})
    assert answer.status_code == 401
    assert "パスワードが正しくありません" in answer.text
    assert web.get("/").status_code == 303


def test_the_right_password_signs_in_with_a_new_form_token(web: TestClient) -> None:
    before = csrf_of(web.get("/login").text)
    answer = web.post("/login", data={"password": PASSWORD, "csrf": before})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    page = web.get("/")
    assert page.status_code == 200
    assert "今日の予約" in page.text
    assert csrf_of(page.text) != before
    assert web.get("/login").headers["location"] == "/"  # already signed in


def test_a_login_without_the_form_token_is_refused(web: TestClient) -> None:
    web.get("/login")
    answer = web.post("/login", data={"password": PASSWORD})
    assert answer.status_code == 403
    assert "操作できませんでした" in answer.text
    assert web.get("/").status_code == 303


def test_logout_needs_the_token_and_then_forgets_the_session(web: TestClient) -> None:
    token = sign_in(web)
    assert web.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert web.get("/").status_code == 200
    answer = web.post("/logout", data={"csrf": token})
    assert answer.headers["location"] == "/login?notice=signed_out"
    assert web.get("/").status_code == 303
    assert "ログアウトしました" in web.get("/login?notice=signed_out").text


def test_a_forged_or_stale_cookie_is_not_a_session(web: TestClient, clock: list) -> None:
    signed = cookies.fresh(signed_in=True, now=NOW)
    web.cookies.set(cookies.NAME, cookies.dump(signed, key="someone else's key"))
    assert web.get("/").status_code == 303
    web.cookies.set(cookies.NAME, cookies.dump(signed, key=SECRET_KEY))
    assert web.get("/").status_code == 200
    clock[0] = NOW + cookies.MAX_AGE + timedelta(seconds=1)
    assert web.get("/").status_code == 303


def test_a_tampered_cookie_payload_is_refused() -> None:
    value = cookies.dump(cookies.fresh(signed_in=False, now=NOW), key=SECRET_KEY)
    _body, _, signature = value.partition(".")
    flipped = cookies.dump(cookies.fresh(signed_in=True, now=NOW), key=SECRET_KEY).partition(".")[0]
    assert cookies.load(value, key=SECRET_KEY, now=NOW) is not None
    assert cookies.load(f"{flipped}.{signature}", key=SECRET_KEY, now=NOW) is None
    assert cookies.load("garbage", key=SECRET_KEY, now=NOW) is None
    assert cookies.load(value, key="", now=NOW) is None


def test_the_dashboard_is_outside_the_api_token_guard(web: TestClient) -> None:
    assert web.get("/login").status_code == 200
    assert web.get("/static/style.css").status_code == 200
    assert web.get("/api/clinics").status_code == 401
    with_token = web.get("/api/clinics", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert with_token.status_code == 200
