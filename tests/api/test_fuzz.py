"""No input makes the API fail: random and hostile paths, queries and bodies on every route.

Bodies mix garbage with near-valid requests (a valid body with fields swapped for edge
values), so the fuzzing reaches the domain and the database, not only the validators.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from backend import booking
from backend.models import Source
from tests.factories import (
    jst,
    make_bed,
    make_booking,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)

STEPS = ("confirm", "decline", "propose", "accept", "cancel", "reschedule", "no-show", "complete")
OPERATIONS = frozenset(
    {
        ("GET", "/api/clinics"),
        ("GET", "/api/clinics/{clinic_id}"),
        ("GET", "/api/clinics/{clinic_id}/courses"),
        ("GET", "/api/clinics/{clinic_id}/staff"),
        ("GET", "/api/clinics/{clinic_id}/media"),
        ("POST", "/api/patients"),
        ("GET", "/api/patients"),
        ("GET", "/api/patients/{patient_id}"),
        ("PATCH", "/api/patients/{patient_id}"),
        ("GET", "/api/availability"),
        ("POST", "/api/bookings"),
        ("GET", "/api/bookings"),
        ("GET", "/api/bookings/{booking_id}"),
        *(("POST", f"/api/bookings/{{booking_id}}/{step}") for step in STEPS),
        ("POST", "/api/visits"),
        ("GET", "/api/visits"),
        ("GET", "/api/visits/{visit_id}"),
        ("PATCH", "/api/visits/{visit_id}"),
    }
)

FIELDS = (
    "clinic_id",
    "patient_id",
    "course_id",
    "staff_id",
    "booking_id",
    "starts_at",
    "visited_at",
    "first_day",
    "last_day",
    "from",
    "to",
    "q",
    "limit",
    "status",
    "source",
    "note",
    "reason",
    "by",
    "payments",
    "copay_yen",
    "claim_yen",
    "self_pay_yen",
    "ticket_yen",
    "staff_minutes",
    "name",
    "kana",
    "phone",
    "email",
    "postal_code",
    "gender",
    "birth_on",
    "tags",
    "media_id",
    "referrer_patient_id",
    "consent_sms",
    "treatment",
    "injury_on",
    "outcome",
)
EDGES = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\U0001f600",
    "ｻﾄｳ",
    "x" * 5000,
    "0001-01-01",
    "9999-12-31",
    "2026-12-01",
    "2026-02-30",
    "2026-12-01T10:00:00+09:00",
    "2026-12-01T10:00:30+09:00",
    "2026-12-01T10:00:00",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+14:00",
    "+819012345678",
    "090-1234-5678",
    "patient",
    "staff",
    "system",
    "api",
    "confirmed",
    "cured",
    "female",
    0,
    -1,
    1,
    2**31 - 1,
    2**31,
    2**63,
    -(2**63) - 1,
    10**100,
    1.5,
    float("nan"),
    float("inf"),
    True,
    None,
    [],
    {},
)
RAW_BODIES = (
    b"",
    b"{",
    b"null",
    b"[]",
    b'"text"',
    b"\xff\xfe\x00",
    b'{"reason": NaN}',
    b'{"starts_at": Infinity}',
    b'{"clinic_id": 1e400}',
    b'{"\\ud800": 1}',
    b'{"name": "\\udfff"}',
    b"[" * 5000,
    b'{"a": 1' + b"1" * 5000 + b"}",
)
RAW_QUERIES = ("%", "%zz", "%00", "%ff%fe", "q=%C0%80", "limit=1e999", "clinic_id=1&clinic_id=x")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(EDGES),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


@pytest.fixture
def world(session: Session) -> SimpleNamespace:
    """A clinic with a requested booking, a confirmed one and a completed visit."""
    clinic = make_clinic(session)
    staff = make_staff(session, clinic)
    make_bed(session, clinic, capacity=3)
    course = make_course(session, clinic)
    patient = make_patient(session, clinic)
    requested = make_booking(
        session, patient=patient, course=course, starts_at=jst(2026, 12, 1, 10)
    )
    confirmed = make_booking(
        session,
        patient=patient,
        course=course,
        starts_at=jst(2026, 11, 27, 10),
        source=Source.STAFF,
        now=jst(2026, 11, 20, 10),
    )
    visit = booking.complete(
        session, booking_id=confirmed.id, actor="test", now=jst(2026, 11, 27, 11)
    )
    other = make_clinic(session, name="別の院")
    return SimpleNamespace(
        clinic=clinic.id,
        staff=staff.id,
        course=course.id,
        patient=patient.id,
        booking=requested.id,
        visit=visit.id,
        foreign_patient=make_patient(session, other).id,
        foreign_course=make_course(session, other).id,
    )


def ids(world: SimpleNamespace) -> st.SearchStrategy[Any]:
    known = list(vars(world).values())
    return st.one_of(st.sampled_from(known), st.integers(), st.sampled_from(EDGES))


def valid_body(world: SimpleNamespace, method: str, template: str) -> dict[str, Any]:
    """A body the route would accept, to be spoiled by the fuzzer."""
    if template == "/api/patients":
        return {"clinic_id": world.clinic, "name": "佐藤 花子", "phone": "090-1234-5678"}
    if method == "PATCH":
        return {"reason": "訂正", "treatment": "x"} if "visits" in template else {"kana": "さとう"}
    if template == "/api/visits":
        return {"clinic_id": world.clinic, "patient_id": world.patient, "course_id": world.course}
    return {
        "clinic_id": world.clinic,
        "patient_id": world.patient,
        "course_id": world.course,
        "starts_at": "2026-12-01T11:00:00+09:00",
        "by": "patient",
        "reason": "都合",
        "payments": {"self_pay_yen": 100},
    }


def valid_query(world: SimpleNamespace) -> dict[str, Any]:
    return {
        "clinic_id": world.clinic,
        "patient_id": world.patient,
        "course_id": world.course,
        "first_day": "2026-12-01",
        "last_day": "2026-12-02",
        "q": "さとう",
    }


def encoded(value: Any) -> str:
    """A value percent-encoded for a URL, lone surrogates passed through as broken UTF-8."""
    text = value if isinstance(value, str) else json.dumps(value)
    return quote(text, safe="", errors="surrogatepass")


def draw_body(data: st.DataObject, world: SimpleNamespace, method: str, template: str) -> bytes:
    spoiled = st.builds(
        lambda changes: valid_body(world, method, template) | changes,
        st.dictionaries(st.sampled_from(FIELDS), json_values | ids(world), max_size=3),
    )
    kind = data.draw(st.sampled_from(("spoiled", "json", "raw", "none")))
    if kind == "raw":
        return data.draw(st.sampled_from(RAW_BODIES) | st.binary(max_size=40))
    if kind == "none":
        return b""
    body = data.draw(spoiled if kind == "spoiled" else json_values)
    return json.dumps(body).encode("utf-8", "surrogatepass")


def draw_url(data: st.DataObject, world: SimpleNamespace, template: str) -> str:
    path_ids = {name: encoded(data.draw(ids(world))) for name in _ID_NAMES}
    path = template.format(**path_ids)
    query = valid_query(world) | data.draw(
        st.dictionaries(st.sampled_from(FIELDS), scalars | ids(world), max_size=4)
    )
    pairs = "&".join(
        f"{quote(name)}={encoded(value)}"
        for name, value in query.items()
        if data.draw(st.booleans())
    )
    raw = data.draw(st.sampled_from(("", *RAW_QUERIES)))
    return f"{path}?{pairs}&{raw}"


_ID_NAMES = ("clinic_id", "patient_id", "booking_id", "visit_id")


@pytest.mark.parametrize(("method", "template"), sorted(OPERATIONS))
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_input_causes_a_server_error(
    client: TestClient, world: SimpleNamespace, method: str, template: str, data: st.DataObject
) -> None:
    url = draw_url(data, world, template)
    content = draw_body(data, world, method, template)
    media_type = data.draw(st.sampled_from(("application/json", "text/plain", "")))
    headers = {"Content-Type": media_type} if media_type else {}
    response = client.request(method, url, content=content, headers=headers)
    assert response.status_code < 500, (method, url, content[:200], response.text[:500])
    if response.status_code == 422:
        assert response.json()["detail"]


@pytest.mark.parametrize(
    "raw",
    [b'{"reason": NaN}', b'{"starts_at": Infinity}', b'{"\\ud800": 1}', b'{"note": "\\udfff"}'],
)
def test_unrepeatable_input_still_gets_a_422(client: TestClient, raw: bytes) -> None:
    response = client.post(
        "/api/bookings/1/propose", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    json.dumps(response.json(), allow_nan=False)
