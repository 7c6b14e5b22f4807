"""What the today page and the requests page show: the day's bookings and the requests
waiting for staff, as plain rows in the clinic's zone with Japanese labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from backend.models import Awaiting, Booking, BookingStatus, Clinic

STATUS_WORDS = {
    BookingStatus.REQUESTED: "承認待ち",
    BookingStatus.CONFIRMED: "確定",
    BookingStatus.COMPLETED: "来院済み",
    BookingStatus.DECLINED: "お断り済み",
    BookingStatus.CANCELLED: "キャンセル",
    BookingStatus.NO_SHOW: "無断キャンセル",
    BookingStatus.EXPIRED: "期限切れ",
}
WEEKDAYS = "月火水木金土日"
MAX_REQUESTS = 200
_NAMES = (
    selectinload(Booking.patient),
    selectinload(Booking.course),
    selectinload(Booking.staff),
)


@dataclass(frozen=True)
class Row:
    """One booking as staff read it."""

    id: int
    day: str
    time: str
    patient: str
    course: str
    staff: str
    status: str
    status_key: str


def local_day(clinic: Clinic, now: datetime) -> date:
    """Today in the clinic's zone."""
    return now.astimezone(ZoneInfo(clinic.timezone)).date()


def day_label(day: date) -> str:
    """e.g. 2026年11月30日（月）."""
    return f"{day.year}年{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def bookings_on(session: Session, *, clinic: Clinic, day: date) -> list[Row]:
    """Every booking starting on the clinic's local `day`, by start time."""
    zone = ZoneInfo(clinic.timezone)
    starts = datetime.combine(day, time(), tzinfo=zone)
    query = (
        select(Booking)
        .options(*_NAMES)
        .where(Booking.clinic_id == clinic.id)
        .where(Booking.starts_at >= starts, Booking.starts_at < starts + timedelta(days=1))
        .order_by(Booking.starts_at, Booking.id)
    )
    return [_row(item, zone) for item in session.scalars(query)]


def waiting_requests(session: Session, *, clinic: Clinic, now: datetime) -> list[Row]:
    """Requests waiting for staff whose hold has not run out, soonest first."""
    query = (
        select(Booking)
        .options(*_NAMES)
        .where(Booking.clinic_id == clinic.id, Booking.status == BookingStatus.REQUESTED)
        .where(or_(Booking.awaiting.is_(None), Booking.awaiting != Awaiting.PATIENT))
        .where(or_(Booking.hold_until.is_(None), Booking.hold_until > now))
        .order_by(Booking.starts_at, Booking.id)
        .limit(MAX_REQUESTS)
    )
    return [_row(item, ZoneInfo(clinic.timezone)) for item in session.scalars(query)]


def _row(item: Booking, zone: ZoneInfo) -> Row:
    local = item.starts_at.astimezone(zone)
    status = STATUS_WORDS[item.status]
    if item.status == BookingStatus.REQUESTED and item.awaiting == Awaiting.PATIENT:
        status = "患者さまの返答待ち"
    staff = item.staff.name if item.staff else "指名なし"
    return Row(
        id=item.id,
        day=day_label(local.date()),
        time=local.strftime("%H:%M"),
        patient=item.patient.name,
        course=item.course.name,
        staff=staff + ("（指名）" if item.nominated else ""),
        status=status,
        status_key=item.status.value,
    )
