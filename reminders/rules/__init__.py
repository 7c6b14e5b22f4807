"""The message rules of issue 5: what is due now, for every clinic, queued once.

`run(store, now=…)` runs every enabled rule of every clinic, each clinic in its own
transaction, and reports how many messages each rule queued. Each rule is a function
`(session, *, clinic, rule, now) -> int` that selects its patients or bookings in SQL and
queues through backend.messaging with one idempotency key per business fact, so a rule
that runs twice (two ticks, two workers) queues nothing more. The confirmation rule is
not here: it is applied where bookings change (backend/notify.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import message_rules
from backend.api.deps import Store
from backend.models import Clinic, MessageRule, OutboxMessage, RuleKind
from reminders.rules import bookings, digest, greetings, visits

log = logging.getLogger(__name__)

Rule = Callable[..., int]

RULES: dict[RuleKind, Rule] = {
    RuleKind.DAY_BEFORE: bookings.day_before,
    RuleKind.SAME_DAY: bookings.same_day,
    RuleKind.THANK_YOU: visits.thank_you,
    RuleKind.SECOND_VISIT: visits.second_visit,
    RuleKind.NEXT_VISIT: visits.next_visit,
    RuleKind.LAPSED: visits.lapsed,
    RuleKind.BIRTHDAY: greetings.birthday,
    RuleKind.SEASONAL: greetings.seasonal,
    RuleKind.NO_SHOW: bookings.no_show,
    RuleKind.STAFF_DIGEST: digest.staff_digest,
}


def run(store: Store, *, now: datetime) -> dict[str, int]:
    """Run every enabled rule of every clinic; the count of messages queued per rule.
    A clinic whose rules fail is logged and skipped: the others still get theirs."""
    with store.reader() as session:
        clinic_ids = list(session.scalars(select(Clinic.id).order_by(Clinic.id)))
    report: Counter[str] = Counter()
    for clinic_id in clinic_ids:
        try:
            with store.transaction() as session:
                clinic = session.get(Clinic, clinic_id)
                if clinic is not None:
                    report.update(run_clinic(session, clinic=clinic, now=now))
        except Exception:
            log.exception("message rules failed for clinic %s", clinic_id)
    return dict(report)


def run_clinic(session: Session, *, clinic: Clinic, now: datetime) -> dict[str, int]:
    """Run the clinic's enabled rules (creating missing ones with their defaults)."""
    report: dict[str, int] = {}
    for rule in message_rules.ensure_rules(session, clinic=clinic, now=now):
        perform = RULES.get(rule.kind)
        if rule.enabled and perform is not None:
            report[rule.kind.value] = perform(session, clinic=clinic, rule=rule, now=now)
    return report


def preview(
    session: Session, *, clinic: Clinic, rule: MessageRule, now: datetime
) -> list[OutboxMessage]:
    """The messages the rule would queue now (whether or not it is enabled), without
    queueing them: the rule runs inside a savepoint that is rolled back."""
    perform = RULES.get(rule.kind)
    if perform is None:
        return []
    last = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))
    savepoint = session.begin_nested()
    try:
        perform(session, clinic=clinic, rule=rule, now=now)
        made = session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > (last or 0)).order_by(OutboxMessage.id)
        ).all()
        for row in made:
            session.expunge(row)
        return list(made)
    finally:
        savepoint.rollback()
