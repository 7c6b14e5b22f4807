"""The today, requests and KPI pages, and answering requests from them: the same booking
steps and patient messages as the LINE staff group, committed by the route."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking, visits
from backend.models import Booking, BookingChange, BookingStatus, OutboxMessage, Source
from backend.web import kpi_view
from tests.factories import (
    jst,
    make_bed,
    make_booking,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)
from tests.web.conftest import sign_in

LINE_USER = "U" + "a" * 32


@dataclass
class Desk:
    request: Booking
    confirmed: Booking
    tomorrow: Booking


@pytest.fixture
def desk(session: Session) -> Desk:
    clinic = make_clinic(session)
    staff = make_staff(session, clinic, name="鈴木 一郎")
    make_bed(session, clinic)
    make_bed(session, clinic, name="ベッド2")
    course = make_course(session, clinic)
    hanako = make_patient(session, clinic, line_user_id=LINE_USER)
    taro = make_patient(
        session, clinic, name="田中 太郎", kana="タナカ タロウ", phone="+819011112222"
    )
    request = make_booking(session, patient=hanako, course=course, starts_at=jst(2026, 11, 30, 10))
    confirmed = make_booking(
        session,
        patient=taro,
        course=course,
        starts_at=jst(2026, 11, 30, 16),
        source=Source.STAFF,
        staff=staff,
    )
    tomorrow = make_booking(session, patient=taro, course=course, starts_at=jst(2026, 12, 1, 11))
    return Desk(request=request, confirmed=confirmed, tomorrow=tomorrow)


def messages(session: Session, purpose: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == purpose)))


def test_today_lists_the_days_bookings_and_every_waiting_request(
    web: TestClient, desk: Desk
) -> None:
    sign_in(web)
    page = web.get("/").text
    assert "2026年11月30日（月）の予約" in page
    day = page.split('id="day-heading"')[1]
    assert "10:00" in day
    assert "佐藤 花子" in day
    assert "承認待ち" in day
    assert "16:00" in day
    assert "田中 太郎" in day
    assert "鈴木 一郎（指名）" in day
    assert "確定" in day
    assert "2026年12月1日" not in day  # tomorrow's booking is not today's
    waiting = page.split('id="requests-heading"')[1].split('id="day-heading"')[0]
    assert f'action="/bookings/{desk.request.id}/approve"' in waiting
    assert f'action="/bookings/{desk.tomorrow.id}/decline"' in waiting
    assert f'action="/bookings/{desk.confirmed.id}/approve"' not in waiting


def test_approving_confirms_the_request_and_queues_the_patients_message(
    web: TestClient, session: Session, desk: Desk
) -> None:
    token = sign_in(web)
    answer = web.post(f"/bookings/{desk.request.id}/approve", data={"csrf": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?notice=approved"
    session.expire_all()
    assert session.get(Booking, desk.request.id).status == BookingStatus.CONFIRMED  # type: ignore[union-attr]
    sent = messages(session, "patient:confirmed")
    assert [row.recipient for row in sent] == [LINE_USER]
    change = session.scalars(
        select(BookingChange)
        .where(BookingChange.booking_id == desk.request.id)
        .order_by(BookingChange.id.desc())
    ).first()
    assert change is not None
    assert change.actor == "dashboard"
    assert "承認しました" in web.get(answer.headers["location"]).text


def test_declining_from_the_requests_page_tells_the_patient_with_other_times(
    web: TestClient, session: Session, desk: Desk
) -> None:
    token = sign_in(web)
    answer = web.post(
        f"/bookings/{desk.request.id}/decline", data={"csrf": token, "back": "requests"}
    )
    assert answer.headers["location"] == "/bookings/requests?notice=declined"
    session.expire_all()
    assert session.get(Booking, desk.request.id).status == BookingStatus.DECLINED  # type: ignore[union-attr]
    (sent,) = messages(session, "patient:declined")
    assert sent.recipient == LINE_USER
    assert "rebook:" in str(sent.payload)  # nearby free times to tap
    page = web.get("/bookings/requests").text
    assert f"/bookings/{desk.request.id}/approve" not in page
    assert f"/bookings/{desk.tomorrow.id}/approve" in page


def test_a_request_answered_elsewhere_gets_a_notice_not_an_error(
    web: TestClient, session: Session, desk: Desk
) -> None:
    token = sign_in(web)
    booking.confirm(session, booking_id=desk.request.id, actor="staff:1", now=jst(2026, 11, 30, 8))
    answer = web.post(f"/bookings/{desk.request.id}/decline", data={"csrf": token})
    assert answer.headers["location"] == "/?notice=gone"
    session.expire_all()
    assert session.get(Booking, desk.request.id).status == BookingStatus.CONFIRMED  # type: ignore[union-attr]
    assert messages(session, "patient:declined") == []
    assert "すでに対応済み" in web.get("/?notice=gone").text


def test_answers_without_the_form_token_change_nothing(
    web: TestClient, session: Session, desk: Desk
) -> None:
    sign_in(web)
    answer = web.post(f"/bookings/{desk.request.id}/approve", data={"csrf": "guessed"})
    assert answer.status_code == 403
    session.expire_all()
    assert session.get(Booking, desk.request.id).status == BookingStatus.REQUESTED  # type: ignore[union-attr]
    assert messages(session, "patient:confirmed") == []


def test_an_unknown_booking_is_a_notice(web: TestClient, desk: Desk) -> None:
    token = sign_in(web)
    answer = web.post(
        "/bookings/999999/approve", data={"csrf": token, "back": "https://evil.example"}
    )
    assert answer.headers["location"] == "/?notice=gone"


def test_kpi_view_hands_over_twelve_months_from_the_kpi_module(
    session: Session, desk: Desk
) -> None:
    clinic_id = desk.confirmed.clinic_id
    booking.complete(session, booking_id=desk.confirmed.id, actor="test", now=jst(2026, 11, 30, 17))
    # Two visits of one patient in October, one of them at 00:30 on 1 Oct in Tokyo
    # (still September in UTC).
    for at in (jst(2026, 10, 1, 0, 30), jst(2026, 10, 20, 10)):
        visits.record(
            session,
            clinic_id=clinic_id,
            patient_id=desk.request.patient_id,
            actor="test",
            now=at,
            visited_at=at,
        )
    now = jst(2026, 11, 30, 18)
    numbers = kpi_view.numbers(session, clinic_id=clinic_id, today=now.date(), now=now)
    assert [month.month.isoformat() for month in numbers.months][::11] == [
        "2025-12-01",
        "2026-11-01",
    ]
    assert [month.visits for month in numbers.months][-2:] == [2, 1]
    assert [month.patients for month in numbers.months][-2:] == [1, 1]
    assert sum(month.visits for month in numbers.months[:-2]) == 0
    assert numbers.latest.frequency == 1.0
    assert numbers.by_weekday_hour[3][0] == 1  # Thursday 1 Oct, 0時
    assert numbers.by_weekday_hour[0][16] == 1  # Monday 30 Nov, 16時


def test_the_dashboard_shows_the_month_against_its_guides_and_twelve_months_of_charts(
    web: TestClient, session: Session, desk: Desk
) -> None:
    booking.complete(session, booking_id=desk.confirmed.id, actor="test", now=jst(2026, 11, 30, 17))
    sign_in(web)
    page = web.get("/dashboard").text
    assert "2026年11月（今月・途中経過）" in page
    frequency = page.split('<span class="tile-label">来院頻度</span>')[1].split("</li>")[0]
    assert "1.0回" in frequency
    assert "目安 4.0回以上（未達）" in frequency
    assert page.count("<svg") == 13  # with the phone, LTV and daily charts
    visits_chart = page.split('id="visits-title"')[1].split("</svg>")[0]
    assert visits_chart.count('class="bar"') == 12
    assert "目安 4" in page
    assert page.count("<summary>数値を表で見る</summary>") == 13
    backlog = page.split('id="backlog-title"')[1].split("</svg>")[0]
    assert backlog.count('class="series"') == 4  # within 1, 2, 3 and 4 weeks
    assert backlog.count('class="point"') == 4 * 28  # a point a day on each line
    staff = page.split('id="staff-heading"')[1].split("</table>")[0]
    assert '<th scope="row">鈴木 一郎</th><td>1回</td><td>4,400円</td><td>1回</td>' in staff
    courses = page.split('id="courses-heading"')[1].split("</table>")[0]
    assert "骨盤矯正" in courses
    # A rate with nothing to divide by is a gap, not a zero: "—" in its table.
    assert "<td>—</td>" in page


def test_without_a_clinic_the_pages_say_so_and_answers_change_nothing(web: TestClient) -> None:
    token = sign_in(web)
    assert "院が登録されていません" in web.get("/").text
    assert "院が登録されていません" in web.get("/dashboard").text
    assert "承認待ちのご予約はありません" in web.get("/bookings/requests").text
    answer = web.post("/bookings/1/approve", data={"csrf": token})
    assert answer.headers["location"] == "/?notice=gone"


def test_the_requests_page_lists_every_waiting_request_soonest_first(
    web: TestClient, desk: Desk
) -> None:
    sign_in(web)
    page = web.get("/bookings/requests").text
    assert '承認待ちのご予約 <span class="count">2件</span>' in page
    first = page.index(f'id="request-{desk.request.id}"')
    second = page.index(f'id="request-{desk.tomorrow.id}"')
    assert first < second
    assert "2026年12月1日（火）" in page
    assert 'name="back" value="requests"' in page
