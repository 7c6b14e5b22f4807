"""What the today page and the requests page show: the day's bookings and the requests
waiting for staff, as plain rows in the clinic's zone with Japanese labels."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from backend.models import Awaiting, Booking, BookingStatus, Clinic, Visit
from backend.payments import Payments, charges

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
    patient_id: int = 0
    # The desk may record 来院 or 無断キャンセル: confirmed, and its time has come.
    at_desk: bool = False
    copay_yen: int = 0  # what the 来院 form offers: the course's price, by how it is paid
    self_pay_yen: int = 0
    visit_id: int | None = None  # a completed booking's visit (its 施術録)
    paid: str = ""  # a completed booking's desk payment, e.g. 「4,400円」


@dataclass(frozen=True)
class Takings:
    """The day's visits so far and what patients paid at the desk (窓口負担 and 自費; 回数券
    was paid before, and the insurer's part later)."""

    visits: int
    desk_yen: int


def local_day(clinic: Clinic, now: datetime) -> date:
    """Today in the clinic's zone."""
    return now.astimezone(ZoneInfo(clinic.timezone)).date()


def day_label(day: date) -> str:
    """e.g. 2026年11月30日（月）."""
    return f"{day.year}年{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def bookings_on(session: Session, *, clinic: Clinic, day: date, now: datetime) -> list[Row]:
    """Every booking starting on the clinic's local `day`, by start time, with what the
    desk may do with it at `now` and what a completed one was paid."""
    zone = ZoneInfo(clinic.timezone)
    starts, ends = _day_span(day, zone)
    query = (
        select(Booking)
        .options(*_NAMES)
        .where(Booking.clinic_id == clinic.id)
        .where(Booking.starts_at >= starts, Booking.starts_at < ends)
        .order_by(Booking.starts_at, Booking.id)
    )
    found = list(session.scalars(query))
    paid = _paid(session, [item.id for item in found if item.status == BookingStatus.COMPLETED])
    return [_desk_row(item, zone, now, paid.get(item.id)) for item in found]


@dataclass(frozen=True)
class WalkIn:
    """A visit of the day without a booking, as the desk reads it."""

    visit_id: int
    patient_id: int
    time: str
    patient: str
    course: str
    staff: str
    paid: str


def walk_ins(session: Session, *, clinic: Clinic, day: date) -> list[WalkIn]:
    """The visits of the clinic's local `day` made without a booking, by time."""
    zone = ZoneInfo(clinic.timezone)
    starts, ends = _day_span(day, zone)
    query = (
        select(Visit)
        .options(selectinload(Visit.patient), selectinload(Visit.course), selectinload(Visit.staff))
        .where(Visit.clinic_id == clinic.id, Visit.booking_id.is_(None))
        .where(Visit.visited_at >= starts, Visit.visited_at < ends)
        .order_by(Visit.visited_at, Visit.id)
    )
    return [
        WalkIn(
            visit_id=visit.id,
            patient_id=visit.patient_id,
            time=visit.visited_at.astimezone(zone).strftime("%H:%M"),
            patient=visit.patient.name,
            course=visit.course.name if visit.course else "—",
            staff=visit.staff.name if visit.staff else "—",
            paid=f"{visit.copay_yen + visit.self_pay_yen:,}円",
        )
        for visit in session.scalars(query)
    ]


def takings(session: Session, *, clinic: Clinic, day: date) -> Takings:
    """The visits of the clinic's local `day` (walk-ins too) and the desk's takings."""
    starts, ends = _day_span(day, ZoneInfo(clinic.timezone))
    query = select(func.count(Visit.id), func.sum(Visit.copay_yen + Visit.self_pay_yen)).where(
        Visit.clinic_id == clinic.id, Visit.visited_at >= starts, Visit.visited_at < ends
    )
    visits, desk_yen = session.execute(query).one()
    return Takings(visits=int(visits), desk_yen=int(desk_yen or 0))


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


def _day_span(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    starts = datetime.combine(day, time(), tzinfo=zone)
    return starts, datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)


def _paid(session: Session, booking_ids: list[int]) -> dict[int, tuple[int, int]]:
    """The visit of each of these completed bookings, and what it was paid at the desk."""
    if not booking_ids:
        return {}
    query = select(Visit.booking_id, Visit.id, Visit.copay_yen + Visit.self_pay_yen).where(
        Visit.booking_id.in_(booking_ids)
    )
    return {
        booking_id: (visit_id, int(yen))
        for booking_id, visit_id, yen in session.execute(query)
        if booking_id
    }


def _desk_row(item: Booking, zone: ZoneInfo, now: datetime, visit: tuple[int, int] | None) -> Row:
    offered = charges(item.course, Payments())
    return replace(
        _row(item, zone),
        at_desk=item.status == BookingStatus.CONFIRMED and item.starts_at <= now,
        copay_yen=offered["copay_yen"],
        self_pay_yen=offered["self_pay_yen"],
        visit_id=visit[0] if visit else None,
        paid=f"{visit[1]:,}円" if visit else "",
    )


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
        patient_id=item.patient_id,
    )
