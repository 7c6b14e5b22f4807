"""The phone attendant's conversation: one call, from greeting to goodbye.

The flows live in phone_menu (greeting, menu, hours), phone_book and phone_slots (booking
by voice or keys), phone_manage (change and cancel), phone_sms (the confirmation SMS) and
phone_callback (staff, callbacks); this module puts them into one table. Its intercept
answers what means the same in any state: effect results (each routed to the flow that
asked), a new call, the outcome of ringing staff, and a caller asking for a person.

Every step that waits for the caller ends with `Expect`; every other step ends the call
(`Hangup`) or rings staff (`Transfer`). Nothing ends in silence or voicemail: a caller who
is not understood hears the question again, then is offered a callback, then a goodbye.
"""

from __future__ import annotations

from backend.conversation import phone_book as book
from backend.conversation import phone_callback as callback
from backend.conversation import phone_manage as manage
from backend.conversation import phone_menu as menu
from backend.conversation import phone_slots as slots
from backend.conversation import phone_sms as sms
from backend.conversation import phone_texts as texts
from backend.conversation.engine import Table
from backend.conversation.model import CallStarted, Dialed, Event, Facts, Result, State, Step
from backend.conversation.phone_common import (
    BOOK_NAME,
    CALLBACK_NUMBER,
    FAILED,
    GOODBYE,
    IDLE,
    SMS_NUMBER,
    TRANSFER,
    heard,
    offer_callback,
)

RESULTS = {
    **menu.RESULTS,
    **book.RESULTS,
    **slots.RESULTS,
    **manage.RESULTS,
    **sms.RESULTS,
    **callback.RESULTS,
}
# States where words are an answer of their own (a name, a number), never a wish for staff.
_OWN_WORDS = frozenset({IDLE, BOOK_NAME, CALLBACK_NUMBER, SMS_NUMBER, TRANSFER, GOODBYE})


def _intercept(state: State, event: Event, facts: Facts) -> Step | None:
    if isinstance(event, Result):
        answer = RESULTS.get(event.name)
        if answer is None:
            return offer_callback(state, FAILED, intro=(texts.FAILED,))
        return answer(state, event, facts)
    if isinstance(event, CallStarted):
        return menu.start(state, event, facts)
    if isinstance(event, Dialed):
        return callback.dialed(state, event)
    words = heard(event)
    if words and state.name not in _OWN_WORDS and callback.wants_staff(words):
        return callback.to_staff(state, facts)
    return None


TABLE = Table(
    name="phone",
    handlers={
        IDLE: menu.start,
        **menu.HANDLERS,
        **book.HANDLERS,
        **slots.HANDLERS,
        **manage.HANDLERS,
        **sms.HANDLERS,
        **callback.HANDLERS,
    },
    intercept=_intercept,
)
