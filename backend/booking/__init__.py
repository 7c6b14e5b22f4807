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
from backend.booking.lifecycle import (
    ALLOWED,
    RequestClinic,
    RequestCourse,
    Requested,
    ScheduleMoved,
    accept,
    cancel,
    check_late,
    complete,
    confirm,
    decline,
    expire_holds,
    lock_schedule,
    mark_no_show,
    propose,
    request,
    request_plain,
    reschedule,
)
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
