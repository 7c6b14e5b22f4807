"""The ledger work behind the patient conversation (backend.conversation.patient).

Each performer takes (session, facts, effect) and answers a `Result` of the effect's name.
Performers flush, never commit: the webhook's transaction holds the conversation state,
the booking and the outbox rows together. A refusal of the domain (DomainError) becomes
`Result(ok=False, data={"code": ..., **context})`. Result data is JSON-friendly: ids,
names, and ISO 8601 times in the clinic's zone.

The LINE user is `facts.subject`; the patient is `facts.patient`, and a booking that is
not theirs is "not found".

The performers live by subject: registration and reachability (patient_registration), free
time (patient_free_time), and the patient's bookings (patient_bookings); what they share is
in patient_common. This module gathers them.
"""

from __future__ import annotations

from backend.dialogue import (
    patient_bookings,
    patient_free_time,
    patient_notices,
    patient_registration,
    patient_waitlist,
)
from backend.dialogue.runner import Performer

PERFORMERS: dict[str, Performer] = {
    **patient_registration.PERFORMERS,
    **patient_free_time.PERFORMERS,
    **patient_bookings.PERFORMERS,
    **patient_notices.PERFORMERS,
    **patient_waitlist.PERFORMERS,
}
