"""The worker's tick with a fixed clock: it drains what is due on a pool of threads,
multicasts rows that share a message (500 per request), and pauses a clinic's LINE
sending when LINE says the monthly quota is used up."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
import respx
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import outbox
from backend.conversation.model import Say
from backend.models import Clinic, OutboxMessage
from reminders import claims, multicast, quota, worker
from tests.bot.conftest import settings
from tests.conftest import SessionStore
from tests.factories import NOW, jst, make_clinic

PUSH = "/v2/bot/message/push"
MULTICAST = "/v2/bot/message/multicast"
QUOTA = {"message": "You have reached your monthly limit."}


@pytest.fixture
def clinic(session: Session) -> Clinic:
    return make_clinic(session, hours=False)


@pytest.fixture
def pool() -> Any:
    with ThreadPoolExecutor(8) as executor:
        yield executor


def user(n: int) -> str:
    return f"U{n:032x}"


def queue(session: Session, clinic: Clinic, n: int, text: str | None = None) -> int:
    row_id = outbox.line_replies(
        session,
        clinic_id=clinic.id,
        to=user(n),
        replies=[Say(text or f"{n}番のお知らせです")],
        purpose="test",
        now=NOW,
    )
    assert row_id is not None
    return row_id


def tick(session: Session, pool: Any, now: datetime = NOW, **line: Any) -> claims.Drained:
    return worker.tick(
        SessionStore(session), settings=settings(**line), pool=pool, clock=lambda: now, plan=[]
    )


def statuses(session: Session) -> dict[str, int]:
    session.expire_all()
    found: dict[str, int] = {}
    for status in session.scalars(select(OutboxMessage.status)):
        found[status] = found.get(status, 0) + 1
    return found


def test_a_tick_drains_every_due_row_on_the_pool(
    session: Session, clinic: Clinic, line_api: respx.MockRouter, pool: Any
) -> None:
    push = line_api.post(PUSH).respond(200, json={})
    ids = [queue(session, clinic, n) for n in range(120)]
    later = session.get(OutboxMessage, ids[0])
    assert later is not None
    later.due_at = NOW + timedelta(minutes=5)
    session.flush()

    drained = worker.tick(
        SessionStore(session),
        settings=settings().model_copy(
            update={"worker": settings().worker.model_copy(update={"batch_size": 50})}
        ),
        pool=pool,
        clock=lambda: NOW,
        plan=[],
    )

    assert (drained.claimed, drained.sent) == (119, 119)
    assert push.call_count == 119
    assert statuses(session) == {"sent": 119, "pending": 1}


def test_a_failing_step_is_logged_and_the_drain_still_runs(
    session: Session, clinic: Clinic, line_api: respx.MockRouter, pool: Any
) -> None:
    line_api.post(PUSH).respond(200, json={})
    queue(session, clinic, 1)
    ran: list[datetime] = []

    def broken(store: Any, now: datetime) -> None:
        raise RuntimeError("boom")

    drained = worker.tick(
        SessionStore(session),
        settings=settings(),
        pool=pool,
        clock=lambda: NOW,
        plan=[broken, lambda store, now: ran.append(now)],
    )

    assert ran == [NOW]
    assert drained.sent == 1


def test_600_rows_of_one_message_go_as_two_multicasts(
    session: Session, clinic: Clinic, line_api: respx.MockRouter, pool: Any
) -> None:
    route = line_api.post(MULTICAST).respond(200, json={})
    push = line_api.post(PUSH).respond(200, json={})
    ids = [queue(session, clinic, n, "年末年始の診療のご案内です") for n in range(600)]

    drained = tick(session, pool)

    assert drained.sent == 600
    assert push.call_count == 0
    bodies = [json.loads(call.request.content) for call in route.calls]
    assert sorted(len(body["to"]) for body in bodies) == [100, 500]
    assert sorted(to for body in bodies for to in body["to"]) == sorted(user(n) for n in range(600))
    assert all(body["messages"][0]["text"] == "年末年始の診療のご案内です" for body in bodies)
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
    keys = {call.request.headers["X-Line-Retry-Key"] for call in route.calls}
    assert {row.batch_key for row in rows} == keys
    assert {row.status for row in rows} == {"sent"}


def test_a_retried_batch_is_the_same_request_under_the_same_key(
    session: Session, clinic: Clinic, line_api: respx.MockRouter, pool: Any
) -> None:
    route = line_api.post(MULTICAST).mock(
        side_effect=[
            respx.MockResponse(500, json={"message": "Internal server error"}),
            respx.MockResponse(409, json={"message": "The retry key is already accepted"}),
        ]
    )
    for n in range(3):
        queue(session, clinic, n, "同じお知らせ")
    queue(session, clinic, 9, "別のお知らせ")  # pushed on its own, not part of the batch
    line_api.post(PUSH).respond(200, json={})

    tick(session, pool)
    tick(session, pool, now=NOW + claims.FIRST_BACKOFF)

    first, second = (call.request for call in route.calls)
    assert first.headers["X-Line-Retry-Key"] == second.headers["X-Line-Retry-Key"]
    assert first.content == second.content
    assert statuses(session) == {"sent": 4}


def test_the_batch_key_depends_only_on_its_members() -> None:
    assert multicast.batch_key(["b", "a"]) == multicast.batch_key(["a", "b"])
    assert multicast.batch_key(["a", "b"]) != multicast.batch_key(["a", "c"])


def test_rows_that_cannot_be_told_apart_from_a_push_are_not_batched(
    session: Session, clinic: Clinic, line_api: respx.MockRouter, pool: Any
) -> None:
    multi = line_api.post(MULTICAST).respond(200, json={})
    push = line_api.post(PUSH).respond(200, json={})
    group = "C" + "0" * 32
    for to in (group, group + "1"):  # groups cannot be multicast to
        outbox.line_replies(
            session, clinic_id=clinic.id, to=to, replies=[Say("同じ")], purpose="t", now=NOW
        )
    tried = queue(session, clinic, 1, "同じ")
    row = session.get(OutboxMessage, tried)
    assert row is not None
    row.attempts = 1  # pushed once already: keeps its own retry key
    queue(session, clinic, 2, "同じ")

    tick(session, pool)

    assert multi.call_count == 0
    assert push.call_count == 4


def test_the_monthly_quota_pauses_the_clinic_until_next_month(
    session: Session,
    clinic: Clinic,
    line_api: respx.MockRouter,
    pool: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    push = line_api.post(PUSH).respond(429, json=QUOTA)
    for n in range(5):
        queue(session, clinic, n)

    tick(session, pool)
    tick(session, pool, now=NOW + claims.QUOTA_BACKOFF + timedelta(hours=1))

    session.refresh(clinic)
    assert clinic.line_paused_until == jst(2026, 12, 1)
    alerts = [r for r in caplog.records if r.levelname == "ERROR" and "quota" in r.message]
    assert len(alerts) == 1
    # At most the calls already in flight when LINE first said so; then nothing, even
    # long after every backoff, while the pause lasts.
    assert 1 <= push.call_count <= 5
    calls = push.call_count
    assert statuses(session) == {"pending": 5}
    assert max(r.attempts for r in session.scalars(select(OutboxMessage))) == 1

    push.respond(200, json={})
    resumed = jst(2026, 12, 1, 9)
    quota.resume_line(SessionStore(session), resumed)
    tick(session, pool, now=resumed)

    session.refresh(clinic)
    assert clinic.line_paused_until is None
    assert push.call_count == calls + 5
    assert statuses(session) == {"sent": 5}


def test_paused_line_does_not_hold_up_other_clinics(
    session: Session, clinic: Clinic, line_api: respx.MockRouter, pool: Any
) -> None:
    push = line_api.post(PUSH).respond(200, json={})
    clinic.line_paused_until = jst(2026, 12, 1)
    other = make_clinic(session, hours=False, name="別院")
    queue(session, clinic, 1)
    queue(session, other, 2)

    drained = tick(session, pool)

    assert drained.sent == 1
    assert json.loads(push.calls.last.request.content)["to"] == user(2)


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        (jst(2026, 11, 30, 23, 59), "Asia/Tokyo", jst(2026, 12, 1)),
        (jst(2026, 12, 31, 12), "Asia/Tokyo", jst(2027, 1, 1)),
        # 1 December 00:30 in Tokyo is still November in UTC: Tokyo's month counts.
        (jst(2026, 12, 1, 0, 30), "Asia/Tokyo", jst(2027, 1, 1)),
    ],
)
def test_the_pause_lasts_until_the_month_turns_in_the_clinic_zone(
    now: datetime, zone: str, expected: datetime
) -> None:
    assert quota.next_month(now, zone) == expected
