"""受付 on the today page: 来院 (the booking completed, its visit recorded with what was paid
at the desk) and 無断キャンセル, through the real app and the booking engine."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import visits
from backend.models import Booking, BookingChange, BookingStatus, PaymentKind, Source, Visit
from backend.payments import Payments
from backend.web import form_text
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


@dataclass
class Day:
    morning: Booking  # 9:00, self-pay 4,400円, confirmed
    insured: Booking  # 10:00, insurance: co-pay 1,200円, claim 2,800円, confirmed
    evening: Booking  # 17:00, confirmed, not started at 11:00
    request: Booking  # 15:00, waiting for staff


@pytest.fixture
def day(session: Session, clock: list) -> Day:
    clinic = make_clinic(session)
    staff = make_staff(session, clinic, name="鈴木 一郎")
    make_bed(session, clinic)
    make_bed(session, clinic, name="ベッド2")
    self_pay = make_course(session, clinic)
    insurance = make_course(
        session,
        clinic,
        name="保険施術",
        price_yen=1200,
        insurance_claim_yen=2800,
        payment_kind=PaymentKind.INSURANCE,
    )
    hanako = make_patient(session, clinic)
    taro = make_patient(
        session, clinic, name="田中 太郎", kana="タナカ タロウ", phone="+819011112222"
    )
    staff_booking = {"source": Source.STAFF, "staff": staff}
    found = Day(
        morning=make_booking(
            session,
            patient=hanako,
            course=self_pay,
            starts_at=jst(2026, 11, 30, 9),
            **staff_booking,
        ),
        insured=make_booking(
            session,
            patient=taro,
            course=insurance,
            starts_at=jst(2026, 11, 30, 10),
            **staff_booking,
        ),
        evening=make_booking(
            session, patient=taro, course=self_pay, starts_at=jst(2026, 11, 30, 17), **staff_booking
        ),
        request=make_booking(
            session, patient=hanako, course=self_pay, starts_at=jst(2026, 11, 30, 15)
        ),
    )
    clock[0] = jst(2026, 11, 30, 11)
    return found


def row(page: str, item: Booking) -> str:
    return page.split(f'id="booking-{item.id}"')[1].split("</tr>", maxsplit=1)[0]


def visit_of(session: Session, item: Booking) -> Visit | None:
    return session.scalars(select(Visit).where(Visit.booking_id == item.id)).first()


def test_bookings_that_have_started_offer_arrival_with_the_courses_price(
    web: TestClient, day: Day
) -> None:
    sign_in(web)
    page = web.get("/").text
    morning, insured = row(page, day.morning), row(page, day.insured)
    assert f'action="/bookings/{day.morning.id}/arrived"' in morning
    assert f'action="/bookings/{day.morning.id}/no-show"' in morning
    # Self-pay: the price in 自費; insurance: the co-pay at the desk, the claim left out.
    assert f'id="self_pay-{day.morning.id}" name="self_pay" inputmode="numeric"' in morning
    assert 'value="4400"' in morning
    assert 'value="1200"' in insured
    assert "2800" not in insured
    assert f'href="/patients/{day.morning.patient_id}"' in morning
    # Not started yet, or not confirmed: nothing to record at the desk.
    assert "/arrived" not in row(page, day.evening)
    assert "/arrived" not in row(page, day.request)
    assert "本日の来院 <strong>0名</strong>" in page
    assert "walk-ins-heading" not in page  # no walk-in today: no empty list


def test_arrival_completes_the_booking_and_records_what_was_paid(
    web: TestClient, session: Session, day: Day
) -> None:
    token = sign_in(web)
    answer = web.post(
        f"/bookings/{day.insured.id}/arrived",
        data={"csrf": token, "copay": "１，５００円", "self_pay": "¥1,000", "ticket": ""},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?notice=arrived"
    session.expire_all()
    assert session.get(Booking, day.insured.id).status == BookingStatus.COMPLETED  # type: ignore[union-attr]
    visit = visit_of(session, day.insured)
    assert visit is not None
    assert (visit.copay_yen, visit.claim_yen, visit.self_pay_yen, visit.ticket_yen) == (
        1500,
        2800,  # the insurer's part, from the course
        1000,
        0,
    )
    assert visit.visited_at == day.insured.starts_at
    change = session.scalars(
        select(BookingChange)
        .where(BookingChange.booking_id == day.insured.id)
        .order_by(BookingChange.id.desc())
    ).first()
    assert change is not None
    assert change.actor == "dashboard"
    page = web.get(answer.headers["location"]).text
    assert "来院を記録しました" in page
    done = row(page, day.insured)
    assert "来院済み" in done
    assert "2,500円" in done
    assert "/arrived" not in done
    visit_id = visit.id
    assert f'href="/patients/{day.insured.patient_id}/visits/{visit_id}">施術録</a>' in done
    assert f'href="/patients/{day.insured.patient_id}?book=1#book-heading">次回のご予約</a>' in done
    assert "本日の来院 <strong>1名</strong>・窓口でのお会計 <strong>2,500円</strong>" in page


def test_the_offered_amounts_are_the_courses_price(
    web: TestClient, session: Session, day: Day
) -> None:
    token = sign_in(web)
    page = web.get("/").text
    assert 'value="4400"' in row(page, day.morning)
    web.post(
        f"/bookings/{day.morning.id}/arrived",
        data={"csrf": token, "copay": "0", "self_pay": "4400", "ticket": "0"},
    )
    session.expire_all()
    visit = visit_of(session, day.morning)
    assert visit is not None
    assert (visit.copay_yen, visit.claim_yen, visit.self_pay_yen) == (0, 0, 4400)


@pytest.mark.parametrize("typed", ["-100", "12.5", "四千", "1,000,001", "4400円です"])
def test_a_wrong_amount_shows_the_form_again_and_records_nothing(
    web: TestClient, session: Session, day: Day, typed: str
) -> None:
    token = sign_in(web)
    answer = web.post(
        f"/bookings/{day.morning.id}/arrived",
        data={"csrf": token, "copay": "0", "self_pay": typed, "ticket": "0"},
    )
    assert answer.status_code == 422
    mine = row(answer.text, day.morning)
    assert '<details class="checkin" open>' in mine
    assert f'value="{typed}"' in mine  # what was typed stays in the field
    assert 'aria-invalid="true"' in mine
    assert "自費は0円から1,000,000円までの整数で入力してください。" in mine
    assert "来院はまだ記録されていません" in answer.text
    assert '<details class="checkin" open>' not in row(answer.text, day.insured)
    session.expire_all()
    assert session.get(Booking, day.morning.id).status == BookingStatus.CONFIRMED  # type: ignore[union-attr]
    assert visit_of(session, day.morning) is None


def test_no_show_is_recorded_once_the_booking_has_started(
    web: TestClient, session: Session, day: Day
) -> None:
    token = sign_in(web)
    answer = web.post(f"/bookings/{day.morning.id}/no-show", data={"csrf": token})
    assert answer.headers["location"] == "/?notice=no_show"
    session.expire_all()
    assert session.get(Booking, day.morning.id).status == BookingStatus.NO_SHOW  # type: ignore[union-attr]
    assert visit_of(session, day.morning) is None
    assert "無断キャンセルとして記録しました" in web.get("/?notice=no_show").text


def test_a_booking_not_yet_started_is_not_recorded(
    web: TestClient, session: Session, day: Day
) -> None:
    token = sign_in(web)
    for path in ("arrived", "no-show"):
        answer = web.post(f"/bookings/{day.evening.id}/{path}", data={"csrf": token})
        assert answer.headers["location"] == "/?notice=not_started"
    session.expire_all()
    assert session.get(Booking, day.evening.id).status == BookingStatus.CONFIRMED  # type: ignore[union-attr]
    assert "予約の時間になってから記録できます" in web.get("/?notice=not_started").text


def test_recording_twice_or_another_clinics_booking_changes_nothing(
    web: TestClient, session: Session, day: Day
) -> None:
    token = sign_in(web)
    first = web.post(
        f"/bookings/{day.morning.id}/arrived", data={"csrf": token, "self_pay": "4400"}
    )
    assert first.headers["location"] == "/?notice=arrived"
    again = web.post(
        f"/bookings/{day.morning.id}/arrived", data={"csrf": token, "self_pay": "9999"}
    )
    assert again.headers["location"] == "/?notice=desk_gone"
    late = web.post(f"/bookings/{day.morning.id}/no-show", data={"csrf": token})
    assert late.headers["location"] == "/?notice=desk_gone"
    requested = web.post(f"/bookings/{day.request.id}/arrived", data={"csrf": token})
    assert requested.headers["location"] == "/?notice=desk_gone"
    other = make_clinic(session, name="駅前整骨院")
    make_bed(session, other)
    make_staff(session, other)
    stranger = make_patient(session, other, name="他院 患者")
    theirs = make_booking(
        session,
        patient=stranger,
        course=make_course(session, other),
        starts_at=jst(2026, 11, 30, 9),
        source=Source.STAFF,
    )
    foreign = web.post(f"/bookings/{theirs.id}/arrived", data={"csrf": token})
    assert foreign.headers["location"] == "/?notice=desk_gone"
    missing = web.post(f"/bookings/{theirs.id + 1000}/no-show", data={"csrf": token})
    assert missing.headers["location"] == "/?notice=desk_gone"
    session.expire_all()
    assert session.get(Booking, theirs.id).status == BookingStatus.CONFIRMED  # type: ignore[union-attr]
    (visit,) = session.scalars(select(Visit).where(Visit.booking_id == day.morning.id)).all()
    assert visit.self_pay_yen == 4400


def test_desk_steps_need_the_form_token(web: TestClient, session: Session, day: Day) -> None:
    sign_in(web)
    for path in ("arrived", "no-show"):
        answer = web.post(f"/bookings/{day.morning.id}/{path}", data={"csrf": "forged"})
        assert answer.status_code == 403
    session.expire_all()
    assert session.get(Booking, day.morning.id).status == BookingStatus.CONFIRMED  # type: ignore[union-attr]


def test_takings_count_walk_ins_and_leave_out_tickets_and_the_insurers_part(
    web: TestClient, session: Session, day: Day
) -> None:
    token = sign_in(web)
    web.post(
        f"/bookings/{day.insured.id}/arrived",
        data={"csrf": token, "copay": "1200", "self_pay": "0", "ticket": "3000"},
    )
    visits.record(
        session,
        clinic_id=day.morning.clinic_id,
        patient_id=day.morning.patient_id,
        actor="test",
        now=jst(2026, 11, 30, 10, 30),
        payments=Payments(self_pay_yen=2000),
    )
    visits.record(  # yesterday's walk-in is not today's
        session,
        clinic_id=day.morning.clinic_id,
        patient_id=day.morning.patient_id,
        actor="test",
        now=jst(2026, 11, 30, 10, 30),
        visited_at=jst(2026, 11, 29, 18),
        payments=Payments(self_pay_yen=7000),
    )
    page = web.get("/").text
    assert "本日の来院 <strong>2名</strong>・窓口でのお会計 <strong>3,200円</strong>" in page
    listed = page.split('id="walk-ins-heading"')[1]
    assert '予約なしの来院 <span class="count">1件</span>' in page
    assert "10:30" in listed
    assert "2,000円" in listed
    assert "7,000円" not in listed  # yesterday's walk-in
    assert f'href="/patients/{day.morning.patient_id}/visits/' in listed


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("4400", 4400),
        ("４４００", 4400),
        ("4,400", 4400),
        ("4,400円", 4400),
        ("¥4,400", 4400),
        ("￥４，４００", 4400),
        (" 0 ", 0),
        ("-1", None),
        ("4400.0", None),
        ("", None),
        ("円", None),
        ("٤٤٠٠", None),  # Arabic-Indic digits: decimal, but not what a desk types
    ],
)
def test_yen_reads_what_a_japanese_keyboard_types(typed: str, expected: int | None) -> None:
    assert form_text.yen(typed) == expected
