"""予約を入れる on a カルテ: the day's free times from the booking engine, a tap books one
(confirmed, source staff) and queues the patient's confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import booking
from backend.models import (
    Booking,
    BookingChange,
    BookingStatus,
    Clinic,
    Course,
    OutboxMessage,
    Party,
    Source,
    Staff,
    Visit,
)
from tests.factories import (
    jst,
    make_bed,
    make_booking,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)
from tests.web.conftest import csrf_of, sign_in

LINE_USER = "U" + "b" * 32


@dataclass
class Front:
    clinic: Clinic
    patient_id: int
    regular: Course  # 骨盤矯正, every 7 days
    massage: Course  # もみほぐし, every 14 days: the patient's last course
    suzuki: Staff


@pytest.fixture
def front(session: Session) -> Front:
    clinic = make_clinic(session)  # Mon–Fri 9–12 and 15–20, Sat 9–14; now: Mon 30 Nov 8:00
    suzuki = make_staff(session, clinic, name="鈴木 一郎")
    make_bed(session, clinic)
    regular = make_course(session, clinic)
    massage = make_course(session, clinic, name="もみほぐし", revisit_interval_days=14)
    make_course(session, clinic, name="初回カウンセリング", for_first_visit=True)
    patient = make_patient(session, clinic, line_user_id=LINE_USER)
    make_booking(
        session,
        patient=patient,
        course=massage,
        starts_at=jst(2026, 11, 30, 10),
        source=Source.STAFF,
    )
    return Front(clinic, patient.id, regular, massage, suzuki)


def book_section(page: str) -> str:
    return page.split('id="book-heading"')[1].split('id="bookings-heading"', maxsplit=1)[0]


def times(page: str) -> list[str]:
    section = book_section(page)
    return [
        part.split("</button>")[0].rsplit(">", 1)[1] for part in section.split('class="slot"')[1:]
    ]


def test_the_form_starts_from_the_patients_last_course_and_its_revisit_interval(
    web: TestClient, front: Front
) -> None:
    sign_in(web)
    page = web.get(f"/patients/{front.patient_id}").text
    section = book_section(page)
    assert '<details class="edit card book-card">' in page  # folded until asked
    assert f'<option value="{front.massage.id}" selected>もみほぐし</option>' in section
    assert 'name="day" value="2026-12-14" min="2026-11-30"' in section  # 14 days on
    assert '<option value="0" selected>指名なし</option>' in section
    assert 'class="slot"' not in section
    opened = web.get(f"/patients/{front.patient_id}?book=1").text
    assert '<details class="edit card book-card" open>' in opened


def test_a_day_lists_its_free_times_and_a_tap_books_one_confirmed(
    web: TestClient, session: Session, front: Front
) -> None:
    sign_in(web)
    query = f"day=2026-12-01&course={front.regular.id}&staff=0"
    page = web.get(f"/patients/{front.patient_id}?{query}").text
    found = times(page)
    assert found[0] == "09:00"
    assert "11:30" in found
    assert "12:00" not in found  # closed 12–15
    assert "15:00" in found
    assert "2026年12月1日（火）の空き時間" in page
    answer = web.post(
        f"/patients/{front.patient_id}/bookings",
        data={
            "csrf": csrf_of(page),
            "course": str(front.regular.id),
            "staff": "0",
            "day": "2026-12-01",
            "start": jst(2026, 12, 1, 15).isoformat(),
        },
    )
    assert answer.status_code == 303
    assert (
        answer.headers["location"] == f"/patients/{front.patient_id}?notice=booked#bookings-heading"
    )
    made = session.scalars(
        select(Booking).where(
            Booking.patient_id == front.patient_id, Booking.starts_at == jst(2026, 12, 1, 15)
        )
    ).one()
    assert made.status == BookingStatus.CONFIRMED
    assert made.source == Source.STAFF
    assert made.course_id == front.regular.id
    assert made.nominated is False
    (change,) = session.scalars(
        select(BookingChange).where(BookingChange.booking_id == made.id)
    ).all()
    assert change.actor == "dashboard"
    sent = session.scalars(
        select(OutboxMessage).where(OutboxMessage.purpose == "patient:confirmed")
    ).all()
    assert [message.recipient for message in sent] == [LINE_USER]
    shown = web.get(answer.headers["location"]).text
    assert "ご予約を入れました" in shown
    upcoming = shown.split('id="bookings-heading"')[1]
    assert "2026年12月1日" in upcoming
    assert "15:00" in upcoming


def test_a_nominated_staff_member_is_booked_as_the_nominee(
    web: TestClient, session: Session, front: Front
) -> None:
    token = sign_in(web)
    web.post(
        f"/patients/{front.patient_id}/bookings",
        data={
            "csrf": token,
            "course": str(front.regular.id),
            "staff": str(front.suzuki.id),
            "start": jst(2026, 12, 2, 10).isoformat(),
        },
    )
    made = session.scalars(select(Booking).where(Booking.starts_at == jst(2026, 12, 2, 10))).one()
    assert made.staff_id == front.suzuki.id
    assert made.nominated is True


def test_a_time_taken_meanwhile_goes_back_to_that_days_times(
    web: TestClient, session: Session, front: Front
) -> None:
    token = sign_in(web)
    start = jst(2026, 12, 1, 10)
    other = make_patient(session, front.clinic, name="別の 患者")
    booking.request(
        session,
        clinic_id=other.clinic_id,
        patient_id=other.id,
        course_id=front.regular.id,
        starts_at=start,
        now=jst(2026, 11, 30, 8),
        source=Source.STAFF,
        actor="test",
    )
    answer = web.post(
        f"/patients/{front.patient_id}/bookings",
        data={
            "csrf": token,
            "course": str(front.regular.id),
            "staff": "0",
            "day": "2026-12-01",
            "start": start.isoformat(),
        },
    )
    location = answer.headers["location"]
    assert urlsplit(location).path == f"/patients/{front.patient_id}"
    asked = parse_qs(urlsplit(location).query)
    assert asked == {
        "day": ["2026-12-01"],
        "course": [str(front.regular.id)],
        "staff": ["0"],
        "notice": ["slot_taken"],
    }
    page = web.get(location).text
    assert "その時間はたった今埋まりました" in page
    assert "10:00" not in times(page)
    mine = select(Booking).where(Booking.patient_id == front.patient_id, Booking.starts_at == start)
    assert session.scalars(mine).first() is None


def test_a_day_without_room_points_to_the_nearest_days_with_room(
    web: TestClient, front: Front
) -> None:
    sign_in(web)
    page = web.get(
        f"/patients/{front.patient_id}?day=2026-12-06&course={front.regular.id}&staff=0"
    ).text
    section = book_section(page)
    assert "この日は空きがありません" in section  # a Sunday
    assert "空きのある日" in section
    assert f"?day=2026-12-07&amp;course={front.regular.id}&amp;staff=0#book-heading" in section
    assert "2026年12月7日（月）" in section


@pytest.mark.parametrize(
    ("day", "message"), [("2026-11-29", "過去の日付です。"), ("12/1", "日付を選んでください。")]
)
def test_a_past_or_unreadable_day_is_explained(
    web: TestClient, front: Front, day: str, message: str
) -> None:
    sign_in(web)
    page = web.get(f"/patients/{front.patient_id}", params={"day": day}).text
    assert message in book_section(page)
    assert times(page) == []


def test_booking_needs_the_form_token_and_a_patient_of_this_clinic(
    web: TestClient, session: Session, front: Front
) -> None:
    token = sign_in(web)
    form = {
        "course": str(front.regular.id),
        "staff": "0",
        "start": jst(2026, 12, 1, 10).isoformat(),
    }
    refused = web.post(f"/patients/{front.patient_id}/bookings", data=form | {"csrf": "forged"})
    assert refused.status_code == 403
    elsewhere = make_clinic(session, name="駅前整骨院")
    stranger = make_patient(session, elsewhere, name="他院 患者")
    answer = web.post(f"/patients/{stranger.id}/bookings", data=form | {"csrf": token})
    assert answer.headers["location"] == "/patients"
    bad = web.post(
        f"/patients/{front.patient_id}/bookings", data=form | {"csrf": token, "start": "10時"}
    )
    assert "notice=slot_taken" in bad.headers["location"]
    assert (
        session.scalars(select(Booking).where(Booking.starts_at == jst(2026, 12, 1, 10))).first()
        is None
    )


def test_a_merged_karte_offers_no_booking(web: TestClient, session: Session, front: Front) -> None:
    sign_in(web)
    duplicate = make_patient(
        session, front.clinic, name="佐藤 花子", merged_into_id=front.patient_id
    )
    page = web.get(f"/patients/{duplicate.id}").text
    assert 'id="book-heading"' not in page


def test_a_walk_in_visit_is_recorded_now_and_the_next_booking_offered(
    web: TestClient, session: Session, front: Front
) -> None:
    token = sign_in(web)
    page = web.get(f"/patients/{front.patient_id}").text
    assert f'action="/patients/{front.patient_id}/visits"' in page
    answer = web.post(
        f"/patients/{front.patient_id}/visits",
        data={
            "csrf": token,
            "course": str(front.regular.id),
            "staff": str(front.suzuki.id),
            "copay": "",
            "self_pay": "",
            "ticket": "",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"/patients/{front.patient_id}?notice=visit_recorded&book=1#book-heading"
    )
    visit = session.scalars(select(Visit).where(Visit.patient_id == front.patient_id)).one()
    assert visit.booking_id is None
    assert visit.visited_at == jst(2026, 11, 30, 8)  # now
    assert visit.course_id == front.regular.id
    assert visit.staff_id == front.suzuki.id
    assert (visit.copay_yen, visit.self_pay_yen, visit.ticket_yen) == (0, 4400, 0)  # the price
    shown = web.get(answer.headers["location"]).text
    assert "来院を記録しました" in shown
    assert '<details class="edit card book-card" open>' in shown
    visits_table = shown.split("施術録（来院履歴）")[1]
    assert "4,400円" in visits_table


def test_a_walk_in_with_a_wrong_amount_keeps_the_form_and_records_nothing(
    web: TestClient, session: Session, front: Front
) -> None:
    token = sign_in(web)
    answer = web.post(
        f"/patients/{front.patient_id}/visits",
        data={"csrf": token, "course": str(front.regular.id), "staff": "0", "ticket": "千円"},
    )
    assert answer.status_code == 422
    section = answer.text.split('id="walk-in-heading"')[1].split("</details>")[0]
    assert "回数券は0円から1,000,000円までの整数で入力してください。" in section
    assert 'value="千円"' in section
    assert "来院はまだ記録されていません" in answer.text
    assert (
        session.scalars(select(Visit).where(Visit.patient_id == front.patient_id)).first() is None
    )


def test_a_walk_in_with_another_clinics_course_is_refused(
    web: TestClient, session: Session, front: Front
) -> None:
    token = sign_in(web)
    elsewhere = make_clinic(session, name="駅前整骨院")
    theirs = make_course(session, elsewhere)
    answer = web.post(
        f"/patients/{front.patient_id}/visits",
        data={"csrf": token, "course": str(theirs.id), "staff": "0"},
    )
    assert answer.headers["location"] == f"/patients/{front.patient_id}?notice=visit_refused"
    assert (
        session.scalars(select(Visit).where(Visit.patient_id == front.patient_id)).first() is None
    )
    forged = web.post(f"/patients/{front.patient_id}/visits", data={"csrf": "forged"})
    assert forged.status_code == 403


def upcoming_of(session: Session, front: Front) -> Booking:
    return booking.request(
        session,
        clinic_id=front.clinic.id,
        patient_id=front.patient_id,
        course_id=front.regular.id,
        starts_at=jst(2026, 12, 2, 10),
        now=jst(2026, 11, 30, 8),
        source=Source.STAFF,
        actor="test",
        staff_id=front.suzuki.id,
    )


def test_moving_keeps_course_and_nominee_and_tells_the_patient(
    web: TestClient, session: Session, front: Front
) -> None:
    token = sign_in(web)
    item = upcoming_of(session, front)
    karte = web.get(f"/patients/{front.patient_id}").text
    row = karte.split(f'id="upcoming-{item.id}"')[1].split("</tr>")[0]
    assert f'href="/patients/{front.patient_id}?move={item.id}#book-heading"' in row
    page = web.get(f"/patients/{front.patient_id}?move={item.id}&day=2026-12-02").text
    section = book_section(page)
    assert "日時を変更する（2026年12月2日（水） 10:00 骨盤矯正のご予約）" in section
    assert 'name="course"' not in section.split("</form>")[0]  # the course stays
    assert f'action="/patients/{front.patient_id}/bookings/{item.id}/move"' in section
    assert "10:00" not in times(page)  # where it is now
    assert "09:45" in times(page)  # its own 10:00 no longer blocks a start overlapping it
    answer = web.post(
        f"/patients/{front.patient_id}/bookings/{item.id}/move",
        data={"csrf": token, "start": jst(2026, 12, 2, 10, 30).isoformat(), "day": "2026-12-02"},
    )
    assert (
        answer.headers["location"] == f"/patients/{front.patient_id}?notice=moved#bookings-heading"
    )
    session.expire_all()
    moved = session.get(Booking, item.id)
    assert moved is not None
    assert moved.starts_at == jst(2026, 12, 2, 10, 30)
    assert moved.status == BookingStatus.CONFIRMED
    assert (moved.course_id, moved.staff_id, moved.nominated) == (
        front.regular.id,
        front.suzuki.id,
        True,
    )
    sent = session.scalars(
        select(OutboxMessage).where(OutboxMessage.purpose == "patient:moved")
    ).all()
    assert [message.recipient for message in sent] == [LINE_USER]
    assert "ご予約の日時を変更しました" in web.get(answer.headers["location"]).text


def test_a_move_to_a_time_taken_meanwhile_returns_to_the_day(
    web: TestClient, session: Session, front: Front
) -> None:
    token = sign_in(web)
    item = upcoming_of(session, front)
    other = make_patient(session, front.clinic, name="別の 患者")
    taken = jst(2026, 12, 3, 15)
    booking.request(
        session,
        clinic_id=front.clinic.id,
        patient_id=other.id,
        course_id=front.regular.id,
        starts_at=taken,
        now=jst(2026, 11, 30, 8),
        source=Source.STAFF,
        actor="test",
    )
    answer = web.post(
        f"/patients/{front.patient_id}/bookings/{item.id}/move",
        data={"csrf": token, "start": taken.isoformat(), "day": "2026-12-03"},
    )
    asked = parse_qs(urlsplit(answer.headers["location"]).query)
    assert asked == {"day": ["2026-12-03"], "move": [str(item.id)], "notice": ["slot_taken"]}
    session.expire_all()
    assert session.get(Booking, item.id).starts_at == jst(2026, 12, 2, 10)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("why", "words", "reason"),
    [
        ("patient", "キャンセルを承りました", "患者さまのご都合"),
        ("clinic", "誠に申し訳ございません", "院の都合"),
    ],
)
def test_cancelling_from_the_desk_says_why_and_tells_the_patient(
    web: TestClient, session: Session, front: Front, why: str, words: str, reason: str
) -> None:
    token = sign_in(web)
    item = upcoming_of(session, front)
    answer = web.post(
        f"/patients/{front.patient_id}/bookings/{item.id}/cancel", data={"csrf": token, "why": why}
    )
    assert (
        answer.headers["location"]
        == f"/patients/{front.patient_id}?notice=cancelled#bookings-heading"
    )
    session.expire_all()
    done = session.get(Booking, item.id)
    assert done is not None
    assert done.status == BookingStatus.CANCELLED
    assert done.cancelled_by == Party.STAFF
    last = session.scalars(
        select(BookingChange)
        .where(BookingChange.booking_id == item.id)
        .order_by(BookingChange.id.desc())
    ).first()
    assert last is not None
    assert last.reason == reason
    assert last.actor == "dashboard"
    (sent,) = session.scalars(
        select(OutboxMessage).where(OutboxMessage.purpose == "patient:cancelled")
    ).all()
    assert sent.recipient == LINE_USER
    assert words in str(sent.payload)
    page = web.get(answer.headers["location"]).text
    assert f'id="upcoming-{item.id}"' not in page


def test_changing_a_booking_no_longer_ahead_says_so(
    web: TestClient, session: Session, front: Front
) -> None:
    token = sign_in(web)
    item = upcoming_of(session, front)
    booking.cancel(
        session, booking_id=item.id, by=Party.PATIENT, actor="line", now=jst(2026, 11, 30, 8)
    )
    for path, form in (
        ("cancel", {"why": "patient"}),
        ("move", {"start": jst(2026, 12, 2, 11).isoformat()}),
    ):
        answer = web.post(
            f"/patients/{front.patient_id}/bookings/{item.id}/{path}", data={"csrf": token, **form}
        )
        assert answer.headers["location"].startswith(
            f"/patients/{front.patient_id}?notice=booking_gone"
        )
    page = web.get(f"/patients/{front.patient_id}?move={item.id}").text
    assert "日時を変更する" not in page  # a cancelled booking is not offered to move
    assert "このご予約はすでに" in web.get(f"/patients/{front.patient_id}?notice=booking_gone").text
    stranger = make_patient(session, front.clinic, name="別の 患者")
    theirs = web.post(
        f"/patients/{stranger.id}/bookings/{item.id}/cancel", data={"csrf": token, "why": "patient"}
    )
    assert "notice=booking_gone" in theirs.headers["location"]
