"""The waitlist (キャンセル待ち): patients waiting for a full day, and freed slots offered
to them, first come first served.

- `join`: a patient asks to be told when a day gets an opening for their course (and
  nominee, if any); one waiting entry per patient and day.
- `offer`: a future start given up on a day someone waits for (a booking cancelled,
  declined, its hold ran out, or moved away: `freed`) becomes one `WaitlistOffer`; every
  waiter whose course fits at that start, by the booking engine's own availability, gets
  a LINE message with 「この時間で予約する」. `offer_freed` is the worker step.
- `accept`: the first to accept gets a booking through the engine under the clinic's
  schedule lock, so two accepts at once give one booking; the offer closes, their entry is
  booked, and the others who were offered it are told it has gone.
- `expire`: entries for days that have passed, and offers for starts that have passed, end.

Domain functions flush, never commit. Messages are outbox rows (`messaging.send`) keyed by
offer and patient, so nothing is offered or told twice. No health information in them:
a day, a time and the menu's name only.
"""

from backend.waitlist.freeing import FREED, Freed, freed
from backend.waitlist.joining import entries, expire, join, leave
from backend.waitlist.offering import TAKE, accept, offer, offer_freed

__all__ = [
    "FREED",
    "TAKE",
    "Freed",
    "accept",
    "entries",
    "expire",
    "freed",
    "join",
    "leave",
    "offer",
    "offer_freed",
]
