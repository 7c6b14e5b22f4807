"""The booking engine: availability and the booking lifecycle.

Use it as `from backend import booking` then `booking.request(session, ...)`.
"""

from backend.booking.availability import (
    MAX_DAYS,
    BookingClinic,
    BookingRules,
    Starts,
    booking_rules,
    booking_window,
    find_starts,
    free_starts,
)
from backend.booking.late import ScheduleMoved, check_late
from backend.booking.lifecycle import (
    ALLOWED,
    RequestCourse,
    Requested,
    accept,
    cancel,
    complete,
    confirm,
    decline,
    expire_holds,
    mark_no_show,
    propose,
    request,
    request_plain,
    reschedule,
)
from backend.booking.locking import RequestClinic, lock_schedule
from backend.payments import Payments

__all__ = [
    "ALLOWED",
    "MAX_DAYS",
    "BookingClinic",
    "BookingRules",
    "Payments",
    "RequestClinic",
    "RequestCourse",
    "Requested",
    "ScheduleMoved",
    "Starts",
    "accept",
    "booking_rules",
    "booking_window",
    "cancel",
    "check_late",
    "complete",
    "confirm",
    "decline",
    "expire_holds",
    "find_starts",
    "free_starts",
    "lock_schedule",
    "mark_no_show",
    "propose",
    "request",
    "request_plain",
    "reschedule",
]
