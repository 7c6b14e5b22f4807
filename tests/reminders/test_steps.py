"""The worker's whole tick with the real steps: what the rules, the campaigns and the
waitlist queue at a fixed time goes out in the same tick, once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
import respx
from sqlalchemy.orm import Session

from backend.api.deps import Store
from backend.models import OutboxStatus, RuleKind
from reminders import steps, worker
from tests.bot.conftest import settings
from tests.conftest import SessionStore
from tests.factories import jst
from tests.reminders.rules_calendar import LINE_USER, open_world

PUSH = "/v2/bot/message/push"
TUESDAY_10 = jst(2026, 12, 1, 10, 0)


@pytest.fixture
def pool() -> Iterator[Any]:
    with ThreadPoolExecutor(4) as executor:
        yield executor


def test_a_tick_at_six_the_evening_before_sends_the_day_before_reminder_once(
    session: Session, pool: Any, line_api: respx.MockRouter
) -> None:
    world = open_world(session)
    world.confirmed(world.patient("line"), TUESDAY_10)
    push = line_api.post(PUSH).respond(200, json={})
    plan = steps.plan()

    def tick(now: datetime) -> None:
        store = SessionStore(session)
        worker.tick(store, settings=settings(), pool=pool, clock=lambda: now, plan=plan)

    tick(jst(2026, 11, 30, 17, 59))
    assert world.queued(RuleKind.DAY_BEFORE) == []

    tick(jst(2026, 11, 30, 18, 0))
    tick(jst(2026, 11, 30, 18, 5))

    [row] = world.queued(RuleKind.DAY_BEFORE)
    assert row.status == OutboxStatus.SENT
    assert push.call_count == 1
    sent = push.calls[0].request
    assert LINE_USER in sent.content.decode()
    assert "明日 12月1日(火) 10:00" in sent.content.decode("utf-8")


def test_every_runs_a_step_once_per_interval_of_the_clock_it_is_given() -> None:
    ran: list[datetime] = []

    def step(store: Store, now: datetime) -> None:
        ran.append(now)

    every = steps.Every(timedelta(minutes=1), step)
    store: Any = None
    start = jst(2026, 11, 30, 18, 0)
    for seconds in (0, 10, 59, 60, 61, 125):
        every(store, start + timedelta(seconds=seconds))

    assert ran == [start, start + timedelta(seconds=60), start + timedelta(seconds=125)]


def test_the_plan_runs_the_quota_resume_first_and_every_rule_kind_is_scheduled() -> None:
    plan = steps.plan()

    assert plan[0] is steps.quota.resume_line
    wrapped = [step.step for step in plan if isinstance(step, steps.Every)]
    assert steps.message_rules in wrapped
    assert steps.waitlist_offers in plan
    assert steps.scheduled_campaigns in plan
