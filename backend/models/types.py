"""Column types and enumerations shared by the models."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum
from sqlalchemy.dialects.postgresql import JSONB

JSONType = JSON().with_variant(JSONB(), "postgresql")
# For a column that may be empty: Python None is stored as SQL NULL, not as JSON `null`, so
# `IS NULL` finds it.
NullableJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def str_enum(enum_cls: type[StrEnum], *, name: str | None = None, length: int = 24) -> Enum:
    """Store a StrEnum by value as VARCHAR on every dialect, checked by a constraint.

    `name` names the check constraint; give one when a table has two columns of one enum.
    """
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=_values,
        validate_strings=True,
        name=name or enum_cls.__name__.lower(),
    )


def _values(enum_cls: Any) -> list[str]:
    return [member.value for member in enum_cls]


class PaymentKind(StrEnum):
    """How a course is paid: 保険 or 自費."""

    INSURANCE = "insurance"
    SELF_PAY = "self_pay"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Likelihood(StrEnum):
    """次回来院の可能性, as judged by staff from conversation."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"


class StaffRole(StrEnum):
    OWNER = "owner"
    PRACTITIONER = "practitioner"
    RECEPTION = "reception"


class Source(StrEnum):
    """The channel a booking came in through."""

    LINE = "line"
    PHONE = "phone"
    WEB = "web"
    STAFF = "staff"
    API = "api"


class BookingStatus(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    EXPIRED = "expired"


class Awaiting(StrEnum):
    """Whose answer a requested booking waits for."""

    STAFF = "staff"
    PATIENT = "patient"


class Party(StrEnum):
    """Who did something to a booking."""

    PATIENT = "patient"
    STAFF = "staff"
    SYSTEM = "system"


class Outcome(StrEnum):
    """転帰 of a case."""

    CONTINUING = "continuing"  # 継続
    CURED = "cured"  # 治癒
    DISCONTINUED = "discontinued"  # 中止
    TRANSFERRED = "transferred"  # 転医


class Channel(StrEnum):
    LINE = "line"
    SMS = "sms"
    EMAIL = "email"


class MessageKind(StrEnum):
    """Transactional messages follow bookings; marketing needs consent and respects caps."""

    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # A send without provider idempotency (SMS) was interrupted: it may or may not have
    # gone out, so it is never retried blindly; staff decide.
    UNCERTAIN = "uncertain"


class CallOutcome(StrEnum):
    IN_PROGRESS = "in_progress"
    REQUEST_MADE = "request_made"
    CHANGED = "changed"
    CANCELLED = "cancelled"
    TRANSFERRED = "transferred"
    CALLBACK_REQUESTED = "callback_requested"
    INFORMATION = "information"
    ABANDONED = "abandoned"
    MISSED = "missed"


class AuditAction(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    MERGE = "merge"
    EXPORT = "export"
