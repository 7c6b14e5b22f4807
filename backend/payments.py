"""What a visit was paid (一部負担金・療養費・自費・回数券), with defaults from the course."""

from __future__ import annotations

from dataclasses import dataclass

from backend.models import Course, PaymentKind


@dataclass(frozen=True)
class Payments:
    """What a visit was paid, in yen; None fields default from the course."""

    copay_yen: int | None = None
    claim_yen: int | None = None
    self_pay_yen: int | None = None
    ticket_yen: int = 0


def charges(course: Course | None, paid: Payments) -> dict[str, int]:
    """The visit's payment columns: what was given, else the course's price (insurance
    courses: co-pay plus the claim to the insurer); without a course, nothing owed."""
    insurance = course is not None and course.payment_kind == PaymentKind.INSURANCE
    price = course.price_yen if course else 0
    claim = course.insurance_claim_yen if course else 0

    def given(value: int | None, fallback: int) -> int:
        return fallback if value is None else value

    return {
        "copay_yen": given(paid.copay_yen, price if insurance else 0),
        "claim_yen": given(paid.claim_yen, claim if insurance else 0),
        "self_pay_yen": given(paid.self_pay_yen, 0 if insurance else price),
        "ticket_yen": paid.ticket_yen,
    }
