"""Domain errors. Each has a stable `code` that channels translate into their own words."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; nothing was changed."""

    code = "domain_error"
    status = 409

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Invalid(DomainError):
    """Input that is well-formed but makes no sense for this clinic (wrong course, closed day)."""

    code = "invalid"
    status = 422


class IllegalTransition(DomainError):
    """The booking's status does not allow this operation."""

    code = "illegal_transition"


class SlotUnavailable(DomainError):
    """The time is taken, closed, or outside the booking window."""

    code = "slot_unavailable"


class DeadlinePassed(DomainError):
    """A patient tried to cancel or change after the clinic's cancellation deadline."""

    code = "deadline_passed"
