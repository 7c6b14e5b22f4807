"""The clinic and its resources: opening hours, closed days, staff, shifts, beds, courses."""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import uuid4

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
    event,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from backend.db import Base, UTCDateTime
from backend.models.types import PaymentKind, StaffRole, str_enum


class Clinic(Base):
    """A branch (院・店舗) with its own hours, rules and zone."""

    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    slot_step_minutes: Mapped[int] = mapped_column(Integer, default=15)
    lead_time_minutes: Mapped[int] = mapped_column(Integer, default=60)
    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    cancel_deadline_minutes: Mapped[int] = mapped_column(Integer, default=180)
    request_hold_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    holidays_closed: Mapped[bool] = mapped_column(Boolean, default=True)
    # Replaced by every booking or schedule write. Taking it row-locks the clinic, which
    # serializes capacity checks; a new random value also invalidates cached availability
    # (a counter could repeat after a rollback and serve a stale cache).
    schedule_token: Mapped[str] = mapped_column(String(32), default=lambda: uuid4().hex)
    # Replaced whenever the clinic, its hours, courses, staff or media change (see
    # `_touch_config` below), so what conversations cache about the clinic is never stale.
    config_token: Mapped[str] = mapped_column(String(32), default=lambda: uuid4().hex)
    line_add_url: Mapped[str | None] = mapped_column(String(200))
    # Messages: marketing waits outside quiet hours; transactional ones too if the clinic
    # chooses; marketing goes to one patient at most once per interval.
    quiet_start: Mapped[time] = mapped_column(Time, default=time(21))
    quiet_end: Mapped[time] = mapped_column(Time, default=time(9))
    quiet_hours_transactional: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_interval_days: Mapped[int] = mapped_column(Integer, default=7)
    # Set when LINE answers that the monthly message quota is used up.
    line_paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The LINE group where staff answer requests (linked with `uketsuke staff link-group`).
    line_staff_group_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    opening_hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="clinic", order_by="(OpeningHours.weekday, OpeningHours.opens_at)"
    )
    closed_days: Mapped[list[ClosedDay]] = relationship(back_populates="clinic")

    __table_args__ = (
        CheckConstraint("slot_step_minutes between 5 and 120", name="slot_step"),
        CheckConstraint("lead_time_minutes >= 0", name="lead_time"),
        CheckConstraint("horizon_days between 1 and 400", name="horizon"),
        CheckConstraint("cancel_deadline_minutes >= 0", name="cancel_deadline"),
        CheckConstraint("request_hold_minutes > 0", name="request_hold"),
    )


class OpeningHours(Base):
    """One opening range on a weekday (0 = Monday); a day may have several."""

    __tablename__ = "opening_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)

    clinic: Mapped[Clinic] = relationship(back_populates="opening_hours")

    __table_args__ = (
        CheckConstraint("weekday between 0 and 6", name="weekday"),
        CheckConstraint("opens_at < closes_at", name="range"),
    )


class ClosedDay(Base):
    """A date the clinic is closed (臨時休診, 年末年始)."""

    __tablename__ = "closed_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"))
    closed_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(100))

    clinic: Mapped[Clinic] = relationship(back_populates="closed_days")

    __table_args__ = (UniqueConstraint("clinic_id", "closed_on"),)


class Staff(Base):
    """A practitioner or receptionist (施術者・スタッフ)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kana: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole), default=StaffRole.PRACTITIONER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    line_user_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    shifts: Mapped[list[StaffShift]] = relationship(
        back_populates="staff", order_by="(StaffShift.weekday, StaffShift.starts_at)"
    )
    days_off: Mapped[list[StaffDayOff]] = relationship(back_populates="staff")

    __table_args__ = (UniqueConstraint("clinic_id", "line_user_id"),)


class StaffShift(Base):
    """A weekly working range of a staff member on a weekday (0 = Monday)."""

    __tablename__ = "staff_shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)

    staff: Mapped[Staff] = relationship(back_populates="shifts")

    __table_args__ = (
        CheckConstraint("weekday between 0 and 6", name="weekday"),
        CheckConstraint("starts_at < ends_at", name="range"),
    )


class StaffDayOff(Base):
    """A date a staff member does not work, whatever the weekly shift says."""

    __tablename__ = "staff_day_off"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    off_on: Mapped[date] = mapped_column(Date)

    staff: Mapped[Staff] = relationship(back_populates="days_off")

    __table_args__ = (UniqueConstraint("staff_id", "off_on"),)


class Bed(Base):
    """A treatment place; capacity is how many patients it holds at once."""

    __tablename__ = "bed"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (CheckConstraint("capacity >= 1", name="capacity"),)


class Course(Base):
    """A menu item: staff hands-on minutes first, then machine minutes, on one bed."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    staff_minutes: Mapped[int] = mapped_column(Integer)
    machine_minutes: Mapped[int] = mapped_column(Integer, default=0)
    price_yen: Mapped[int] = mapped_column(Integer)
    # For insurance courses: the 療養費 claimed from the insurer per visit, besides price_yen.
    insurance_claim_yen: Mapped[int] = mapped_column(Integer, default=0)
    payment_kind: Mapped[PaymentKind] = mapped_column(str_enum(PaymentKind))
    revisit_interval_days: Mapped[int | None] = mapped_column(Integer)
    for_first_visit: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("staff_minutes >= 0 and machine_minutes >= 0", name="minutes"),
        CheckConstraint("staff_minutes + machine_minutes > 0", name="length"),
        CheckConstraint("price_yen >= 0 and insurance_claim_yen >= 0", name="price"),
    )

    @property
    def minutes(self) -> int:
        """Total length on the bed."""
        return self.staff_minutes + self.machine_minutes


# What conversations read about a clinic (backend.dialogue.facts caches it per token).
CONFIG_ROWS = (OpeningHours, Staff, Course)
# What a schedule's fixed part is made of besides (backend.booking.schedule caches it per
# the same token): closed days, beds, and staff shifts and days off.
SCHEDULE_ROWS = (ClosedDay, Bed)
STAFF_ROWS = (StaffShift, StaffDayOff)


@event.listens_for(Session, "before_flush")
def _touch_config(session: Session, _context: object, _instances: object) -> None:
    """Give a clinic a new config token whenever a flush changes what it tells patients or
    what its schedule is made of (besides bookings, which have their own token)."""
    from backend.models.patient import Media  # noqa: PLC0415 - media is defined after clinic

    touched: set[int] = set()
    staff_ids: set[int] = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Clinic) and session.is_modified(row, include_collections=False):
            row.config_token = uuid4().hex
        elif isinstance(row, (*CONFIG_ROWS, *SCHEDULE_ROWS, Media)) and row.clinic_id is not None:
            touched.add(row.clinic_id)
        elif isinstance(row, STAFF_ROWS):
            # Set through the relationship (not loaded from it: no query inside a flush).
            owner = row.__dict__.get("staff")
            if owner is not None and owner.clinic_id is not None:
                touched.add(owner.clinic_id)
            elif row.staff_id is not None:
                staff_ids.add(row.staff_id)
    # Through the connection: a Session.execute here would autoflush into this flush.
    connection = session.connection() if touched or staff_ids else None
    if connection is not None and staff_ids:
        owners = select(Staff.clinic_id).where(Staff.id.in_(staff_ids))
        touched.update(connection.execute(owners).scalars())
    if connection is not None and touched:
        connection.execute(
            update(Clinic).where(Clinic.id.in_(touched)).values(config_token=uuid4().hex)
        )
