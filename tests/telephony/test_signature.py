"""X-Twilio-Signature: checked against the public URL on every route; refused requests
store nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator

from telephony import signature as twilio_signature
from tests.telephony.conftest import (
    AUTH_TOKEN,
    PUBLIC,
    Attendant,
    Twilio,
    call_form,
    inbox_rows,
    make_app,
    settings,
    sign,
)

ROUTES = [
    ("/twilio/voice", call_form()),
    ("/twilio/voice/turn?n=1", call_form(SpeechResult="予約したいんですけど")),
    ("/twilio/voice/dialed?n=2", call_form(DialCallStatus="no-answer")),
    ("/twilio/status", call_form(CallStatus="completed", CallDuration="42")),
    ("/twilio/fallback", call_form(ErrorCode="11200")),
]


def wrong_signatures(path: str, form: dict[str, str]) -> dict[str, str]:
    signatures = {
        "garbage": "not-a-signature",
        "other token": sign(PUBLIC + path, form, token=AUTH_TOKEN + "x"),
        "other field value": sign(PUBLIC + path, form | {"From": "+819099999999"}),
        "other path": sign(PUBLIC + "/twilio/other", form),
    }
    if "?n=" in path:
        signatures["other turn"] = sign(PUBLIC + path.replace("n=", "n=9"), form)
    return signatures


@pytest.mark.parametrize(("path", "form"), ROUTES, ids=[path for path, _ in ROUTES])
def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(
    twilio: Twilio, attendant: Attendant, session: Session, path: str, form: dict[str, str]
) -> None:
    for name, signature in wrong_signatures(path, form).items():
        response = twilio.post(path, form, signature=signature)
        assert response.status_code == 403, name
    missing = twilio.post(path, form, signature="")

    assert missing.status_code == 403
    assert missing.text == "invalid signature"
    assert inbox_rows(session) == []
    assert attendant.events == []
    assert attendant.ended == []
    assert twilio.kicks == []


@pytest.mark.parametrize(("path", "form"), ROUTES, ids=[path for path, _ in ROUTES])
def test_an_empty_auth_token_never_validates(
    session: Session,
    clock: list,
    attendant: Attendant,
    caplog: pytest.LogCaptureFixture,
    path: str,
    form: dict[str, str],
) -> None:
    twilio = Twilio(TestClient(make_app(session, clock, auth_token="")))

    # Signed with the empty key the app would be using: anyone could compute this.
    response = twilio.post(path, form, signature=sign(PUBLIC + path, form, token=""))

    assert response.status_code == 403
    assert inbox_rows(session) == []
    assert attendant.events == []
    assert "UKETSUKE_TWILIO_AUTH_TOKEN is not configured" in caplog.text


def test_the_signature_is_checked_against_the_public_url_not_the_one_the_app_sees(
    twilio: Twilio, attendant: Attendant, session: Session
) -> None:
    form = call_form()

    as_seen = twilio.post("/twilio/voice", form, signed_url="http://testserver/twilio/voice")
    as_public = twilio.post("/twilio/voice", form, signed_url=PUBLIC + "/twilio/voice")

    assert as_seen.status_code == 403
    assert as_public.status_code == 200
    assert len(inbox_rows(session)) == 1


def test_a_public_url_with_a_port_validates_as_twilio_may_sign_it_either_way(
    session: Session, clock: list, attendant: Attendant
) -> None:
    twilio = Twilio(TestClient(make_app(session, clock, public_base_url=PUBLIC + ":443")))

    response = twilio.post("/twilio/voice", call_form(), signed_url=PUBLIC + "/twilio/voice")

    assert response.status_code == 200


def test_an_unreadable_body_is_refused_before_anything_else(
    twilio: Twilio, attendant: Attendant, session: Session
) -> None:
    response = twilio.client.post(
        "/twilio/voice",
        content=b"CallSid=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 400
    assert inbox_rows(session) == []


def test_the_url_is_accepted_with_or_without_its_port_as_twilios_validator_does() -> None:
    form = call_form()
    configured = settings()
    for url in ("https://clinic.example/twilio/voice", "http://127.0.0.1:8000/twilio/voice"):
        parsed = url.replace("https://clinic.example", "https://clinic.example:443")
        other = parsed if parsed != url else url.replace(":8000", "")
        for signed in (url, other):
            given = sign(signed, form)
            assert twilio_signature.is_valid(configured, url, MultiDict(form), given), (url, signed)
        wrong = sign(url + "x", form)
        assert not twilio_signature.is_valid(configured, url, MultiDict(form), wrong)
    # Not ASCII (a header may carry anything): refused, not an error.
    assert not twilio_signature.is_valid(configured, url, MultiDict(form), "署名" * 14)


def test_the_signature_is_computed_as_twilios_validator_computes_it() -> None:
    """Repeated names, several values of one name, empty values, non-ASCII: the signature
    computed here is the validator's."""
    url = "https://clinic.example/twilio/voice?n=3"
    pairs = [
        ("CallSid", "CA" + "1" * 32),
        ("SpeechResult", "予約したいんですけど"),
        ("Digits", ""),
        ("Confidence", "0.9"),
        ("Confidence", "0.1"),
        ("Confidence", "0.9"),
        ("From", "+819012345678"),
    ]
    form = MultiDict(pairs)
    expected = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    assert twilio_signature.compute(AUTH_TOKEN, url, form).decode() == expected
    assert twilio_signature.is_valid(settings(), url, form, expected)
    changed = MultiDict([*pairs[:-1], ("From", "+819012345679")])
    assert not twilio_signature.is_valid(settings(), url, changed, expected)
