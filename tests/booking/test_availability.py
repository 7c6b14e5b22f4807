"""Free start times: hours, closed days, holidays, shifts, capacity, lead time and horizon."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy.orm import Session

from backend import booking
from backend.errors import Invalid, NotFound
from backend.models import ClosedDay, StaffDayOff, StaffRole, StaffShift
from tests.factories import (
    JST,
    NOW,
    jst,
    make_bed,
    make_booking,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)

TUESDAY = date(2026, 12, 1)


def local_times(starts: list) -> list[str]:
    return [start.astimezone(JST).strftime("%H:%M") for start in starts]


def quarter_hours(first: str, last: str) -> list[str]:
    hour, minute = map(int, first.split(":"))
    times, current = [], hour * 60 + minute
    end_hour, end_minute = map(int, last.split(":"))
    while current <= end_hour * 60 + end_minute:
        times.append(f"{current // 60:02d}:{current % 60:02d}")
        current += 15
    return times


@pytest.fixture
def clinic(session: Session):
    return make_clinic(session)


@pytest.fixture
def staff(session: Session, clinic):
    return make_staff(session, clinic)


@pytest.fixture
def bed(session: Session, clinic):
    return make_bed(session, clinic)


@pytest.fixture
def course(session: Session, clinic):
    return make_course(session, clinic)


def free(session, clinic, course, day=TUESDAY, last=None, now=NOW, **kwargs):
    return booking.free_starts(
        session,
        clinic_id=clinic.id,
        course_id=course.id,
        first_day=day,
        last_day=last or day,
        now=now,
        **kwargs,
    )


def test_a_free_day_offers_every_step_where_the_course_fits(session, clinic, staff, bed, course):
    starts = free(session, clinic, course)
    # A 30-minute course must end by 12:00 and by 20:00; nothing spans the lunch break.
    assert local_times(starts) == quarter_hours("09:00", "11:30") + quarter_hours("15:00", "19:30")
    assert all(start.tzinfo is not None and start.utcoffset() == timedelta(0) for start in starts)


def test_lead_time_hides_starts_too_soon(session, clinic, staff, bed, course):
    starts = free(session, clinic, course, now=jst(2026, 12, 1, 10, 5))
    assert local_times(starts)[:3] == ["11:15", "11:30", "15:00"]


def test_horizon_hides_days_too_far_ahead(session, clinic, staff, bed, course):
    last_bookable = (NOW + timedelta(days=60)).astimezone(JST).date()
    starts = free(
        session,
        clinic,
        course,
        day=last_bookable - timedelta(days=3),
        last=last_bookable + timedelta(days=5),
    )
    assert starts
    assert max(start.astimezone(JST).date() for start in starts) <= last_bookable
    assert max(starts) <= NOW + timedelta(days=60)


@pytest.mark.parametrize(
    ("day", "why"),
    [(date(2026, 12, 6), "Sunday"), (date(2027, 1, 11), "成人の日")],
)
def test_sundays_and_public_holidays_are_closed(session, clinic, staff, bed, course, day, why):
    assert free(session, clinic, course, day=day) == [], why


def test_a_clinic_may_open_on_public_holidays(session, staff, bed):
    clinic = staff_clinic = make_clinic(session, holidays_closed=False)
    make_staff(session, staff_clinic)
    make_bed(session, staff_clinic)
    course = make_course(session, clinic)
    assert len(free(session, clinic, course, day=date(2027, 1, 11))) == 30


def test_a_closed_day_is_closed(session, clinic, staff, bed, course):
    session.add(ClosedDay(clinic_id=clinic.id, closed_on=TUESDAY, reason="臨時休診"))
    session.flush()
    assert free(session, clinic, course) == []
    assert free(session, clinic, course, day=TUESDAY + timedelta(days=1))


def test_a_staff_day_off_removes_their_time(session, clinic, staff, bed, course):
    session.add(StaffDayOff(staff_id=staff.id, off_on=TUESDAY))
    session.flush()
    assert free(session, clinic, course) == []


def test_shifts_limit_hands_on_time_but_not_machine_time(session, clinic, bed, course):
    staff = make_staff(session, clinic, shifts=False)
    session.add(StaffShift(staff_id=staff.id, weekday=1, starts_at=time(15), ends_at=time(18)))
    session.flush()
    # 20 hands-on minutes must end by 18:00; the 10 machine minutes may run past it.
    assert local_times(free(session, clinic, course)) == quarter_hours("15:00", "17:30")


def test_a_confirmed_booking_blocks_staff_and_bed(session, clinic, staff, bed, course):
    patient = make_patient(session, clinic)
    make_booking(session, patient=patient, course=course, starts_at=jst(2026, 12, 1, 10))
    morning = [t for t in local_times(free(session, clinic, course)) if t < "12:00"]
    assert morning == ["09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"]


def test_a_booking_being_moved_does_not_block_its_own_time(session, clinic, staff, bed, course):
    patient = make_patient(session, clinic)
    moving = make_booking(session, patient=patient, course=course, starts_at=jst(2026, 12, 1, 10))
    times = local_times(free(session, clinic, course, exclude_booking_id=moving.id))
    assert {"09:45", "10:00", "10:15"} <= set(times)
    assert "10:00" not in local_times(free(session, clinic, course))


def test_a_second_staff_member_and_bed_make_room(session, clinic, staff, bed, course):
    patient = make_patient(session, clinic)
    make_booking(session, patient=patient, course=course, starts_at=jst(2026, 12, 1, 10))
    make_staff(session, clinic, name="鈴木 一郎")
    make_bed(session, clinic, name="ベッド2")
    assert len(free(session, clinic, course)) == 30


def test_bed_capacity_counts_overlapping_patients(session, clinic, course):
    make_staff(session, clinic, name="A")
    make_staff(session, clinic, name="B")
    make_staff(session, clinic, name="C")
    make_bed(session, clinic, name="ウォーターベッド", capacity=2)
    patient = make_patient(session, clinic)
    for _ in range(2):
        make_booking(session, patient=patient, course=course, starts_at=jst(2026, 12, 1, 10))
    times = local_times(free(session, clinic, course))
    assert "10:00" not in times
    assert "09:45" not in times
    assert "09:30" in times
    assert "10:30" in times


def test_a_held_request_blocks_its_slot_until_the_hold_runs_out(
    session, clinic, staff, bed, course
):
    clinic.request_hold_minutes = 60
    patient = make_patient(session, clinic)
    request = make_booking(session, patient=patient, course=course, starts_at=jst(2026, 12, 1, 15))
    assert request.status == "requested"
    assert "15:00" not in local_times(free(session, clinic, course))
    later = NOW + timedelta(minutes=61)
    assert "15:00" in local_times(free(session, clinic, course, now=later))


def test_nominating_a_staff_member_shows_only_their_free_time(session, clinic, bed, course):
    first = make_staff(session, clinic, name="A")
    second = make_staff(session, clinic, name="B")
    make_bed(session, clinic, name="ベッド2")
    patient = make_patient(session, clinic)
    make_booking(
        session, patient=patient, course=course, starts_at=jst(2026, 12, 1, 9), staff=first
    )
    with_first = local_times(free(session, clinic, course, staff_id=first.id))
    with_second = local_times(free(session, clinic, course, staff_id=second.id))
    assert "09:00" not in with_first
    assert "09:00" in with_second
    assert len(with_second) == 30


def test_reception_staff_are_never_booked_for_treatment(session, clinic, bed, course):
    receptionist = make_staff(session, clinic, name="受付 花子", role=StaffRole.RECEPTION)
    assert free(session, clinic, course) == []
    with pytest.raises(Invalid):
        free(session, clinic, course, staff_id=receptionist.id)


def test_a_machine_only_course_needs_no_staff(session, clinic, bed):
    course = make_course(session, clinic, name="EMS", staff_minutes=0, machine_minutes=15)
    # No staff member works in this clinic, yet a 15-minute machine course fits at 11:45.
    times = local_times(free(session, clinic, course))
    assert times == quarter_hours("09:00", "11:45") + quarter_hours("15:00", "19:45")


def test_availability_follows_new_bookings_through_the_cache(session, clinic, staff, bed, course):
    before = free(session, clinic, course)
    make_booking(session, patient=make_patient(session, clinic), course=course, starts_at=before[0])
    after = free(session, clinic, course)
    assert before[0] not in after
    assert len(after) == len(before) - 2  # 09:00 and 09:15 overlap the new booking


def test_a_range_over_several_days_lists_them_in_order(session, clinic, staff, bed, course):
    starts = free(session, clinic, course, day=TUESDAY, last=TUESDAY + timedelta(days=6))
    days = sorted({start.astimezone(JST).date() for start in starts})
    # Tue–Fri full days, Saturday 9–14, Sunday closed, Monday 7 December open.
    assert days == [TUESDAY + timedelta(days=n) for n in (0, 1, 2, 3, 4, 6)]
    assert starts == sorted(starts)
    saturday = [s for s in starts if s.astimezone(JST).date() == date(2026, 12, 5)]
    assert local_times(saturday) == quarter_hours("09:00", "13:30")


def test_bad_ranges_and_unknown_ids_are_refused(session, clinic, staff, bed, course):
    with pytest.raises(Invalid):
        free(session, clinic, course, day=TUESDAY, last=TUESDAY - timedelta(days=1))
    with pytest.raises(Invalid):
        free(session, clinic, course, day=TUESDAY, last=TUESDAY + timedelta(days=90))
    with pytest.raises(NotFound):
        free(session, clinic, course, staff_id=staff.id + 999)
    other = make_clinic(session, name="別院")
    with pytest.raises(NotFound):
        free(session, other, course)


@pytest.mark.parametrize(
    ("zone", "first_day"),
    [("Asia/Tokyo", date(2026, 12, 1)), ("America/New_York", date(2026, 3, 7))],
)
def test_iso_text_matches_datetime_formatting_with_and_without_dst(zone, first_day):
    from zoneinfo import ZoneInfo

    from backend.booking.schedule import local_midnight

    tz = ZoneInfo(zone)
    minutes = list(range(0, 3 * 1440, 45))
    found = booking.Starts(tz, local_midnight(first_day, tz), minutes)
    expected = [start.astimezone(tz).isoformat() for start in found.datetimes()]
    assert found.iso() == expected
    assert found.iso()[0].startswith(first_day.isoformat() + "T00:00:00")


def test_the_api_and_the_engine_agree(session, clinic, staff, bed, course):
    starts = free(session, clinic, course)
    found = booking.find_starts(
        session,
        clinic_id=clinic.id,
        course_id=course.id,
        first_day=TUESDAY,
        last_day=TUESDAY,
        now=NOW,
    )
    assert found.iso() == [start.astimezone(JST).isoformat() for start in starts]
    assert found.iso()[0] == "2026-12-01T09:00:00+09:00"
