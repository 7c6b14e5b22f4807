"""Campaigns: draft, preview, schedule, send once through messaging.send, cancel."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import campaigns, messaging, placeholders, segments
from backend.conversation.model import Say
from backend.db import Database
from backend.errors import IllegalTransition, Invalid
from backend.models import Campaign, CampaignStatus, Channel, MessageKind, OutboxMessage
from tests.booking.test_concurrency import race
from tests.conftest import SessionStore
from tests.factories import NOW, jst, make_clinic, make_patient

TEMPLATE = (
    "{patient_name}様\n{clinic_name}です。年末年始の診療時間のご案内です。"
    "お問い合わせ {clinic_phone}"
)

OPT_OUT = "\n配信停止は「停止」と返信、またはお電話（03-1234-5678）で"


@pytest.fixture
def world(session: Session) -> SimpleNamespace:
    """花子 on LINE, 一郎 by SMS, 次郎 with no marketing consent at all."""
    clinic = make_clinic(session, name="さくら整骨院")
    hanako = make_patient(session, clinic, line_user_id="U1", consent_line=True)
    ichiro = make_patient(
        session, clinic, name="田中 一郎", phone="+819087654321", consent_sms=True
    )
    jiro = make_patient(session, clinic, name="田中 次郎", phone="+819011112222")
    return SimpleNamespace(clinic=clinic, hanako=hanako, ichiro=ichiro, jiro=jiro)


def create(session: Session, world: SimpleNamespace, **overrides: object) -> Campaign:
    values: dict[str, object] = {
        "clinic_id": world.clinic.id,
        "name": "年末のご案内",
        "segment": segments.Segment(),
        "template": TEMPLATE,
        "actor": "test",
        "now": NOW,
    }
    return campaigns.create(session, **(values | overrides))  # type: ignore[arg-type]


def outbox(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_campaign_starts_as_a_draft_with_its_segment(
    session: Session, world: SimpleNamespace
) -> None:
    campaign = create(session, world, segment=segments.Segment(birth_month=4, channel="line"))
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.segment == {"birth_month": 4, "channel": "line"}
    assert campaigns.segment_of(campaign) == segments.Segment(birth_month=4, channel="line")
    assert outbox(session) == []


def test_a_campaign_with_a_time_is_scheduled(session: Session, world: SimpleNamespace) -> None:
    campaign = create(session, world, send_at=NOW + timedelta(days=1))
    assert campaign.status == CampaignStatus.SCHEDULED
    with pytest.raises(Invalid) as caught:
        create(session, world, send_at=NOW - timedelta(minutes=1))
    assert caught.value.context["field"] == "send_at"


@pytest.mark.parametrize(
    "template",
    ["{patinet_name}様", "{patient_name.__class__}", "{patient_name!r}", "{0}", "{", "  "],
)
def test_a_template_with_unknown_or_unsafe_placeholders_is_refused(
    session: Session, world: SimpleNamespace, template: str
) -> None:
    with pytest.raises(Invalid) as caught:
        create(session, world, template=template)
    assert caught.value.context["field"] == "template"


def test_literal_braces_stay_braces(session: Session, world: SimpleNamespace) -> None:
    placeholders.check("{{キャンペーン}} {patient_name}様")
    text = placeholders.render(
        "{{キャンペーン}} {patient_name}様", clinic=world.clinic, patient=world.hanako
    )
    assert text == "{キャンペーン} 佐藤 花子様"


def test_preview_counts_channels_and_renders_samples(
    session: Session, world: SimpleNamespace
) -> None:
    preview = campaigns.preview(
        session, clinic_id=world.clinic.id, segment=segments.Segment(), template=TEMPLATE
    )
    assert (preview.counts.total, preview.counts.line, preview.counts.sms) == (3, 1, 1)
    assert preview.counts.unreachable == 1
    first, second, third = preview.samples
    assert first.channel == "line"
    assert first.text.startswith("佐藤 花子様\nさくら整骨院です。")
    assert first.text.endswith("お問い合わせ 03-1234-5678")
    assert second.channel == "sms"
    assert second.text.endswith(OPT_OUT)
    assert third.channel is None
    assert outbox(session) == []


def test_send_queues_one_marketing_message_per_reachable_patient(
    session: Session, world: SimpleNamespace
) -> None:
    campaign = create(session, world)
    delivery = campaigns.send(SessionStore(session), campaign_id=campaign.id, now=NOW)
    assert (delivery.matched, delivery.queued, delivery.skipped, delivery.unreachable) == (
        3,
        2,
        0,
        1,
    )
    assert campaign.status == CampaignStatus.SENT
    assert campaign.recipients == 2
    line, sms = outbox(session)
    assert (line.channel, line.recipient, line.kind) == (Channel.LINE, "U1", MessageKind.MARKETING)
    assert line.idempotency_key == f"campaign:{campaign.id}:{world.hanako.id}"
    assert line.payload["replies"][0]["text"].startswith("佐藤 花子様")
    assert (sms.channel, sms.recipient) == (Channel.SMS, "+819087654321")
    assert sms.payload["text"].startswith("田中 一郎様")
    assert sms.payload["text"].endswith(OPT_OUT)
    # 08:00 in Tokyo is inside quiet hours (21:00–9:00): marketing waits for 09:00.
    assert {line.due_at, sms.due_at} == {jst(2026, 11, 30, 9)}


def test_sending_twice_never_doubles(session: Session, world: SimpleNamespace) -> None:
    campaign = create(session, world)
    campaigns.send(SessionStore(session), campaign_id=campaign.id, now=NOW)
    with pytest.raises(IllegalTransition):
        campaigns.send(SessionStore(session), campaign_id=campaign.id, now=NOW)
    # Even a campaign forced back to draft finds every message already queued.
    campaign.status = CampaignStatus.DRAFT
    session.flush()
    delivery = campaigns.send(
        SessionStore(session), campaign_id=campaign.id, now=NOW + timedelta(hours=1)
    )
    assert (delivery.queued, delivery.skipped) == (0, 2)
    assert len(outbox(session)) == 2


def test_a_patient_at_the_marketing_cap_is_skipped_and_counted(
    session: Session, world: SimpleNamespace
) -> None:
    messaging.send(
        session,
        clinic=world.clinic,
        patient=world.hanako,
        replies=(Say("先週のご案内"),),
        purpose="earlier",
        idempotency_key="earlier",
        now=NOW - timedelta(days=3),
        kind=MessageKind.MARKETING,
    )
    campaign = create(session, world)
    delivery = campaigns.send(SessionStore(session), campaign_id=campaign.id, now=NOW)
    assert (delivery.queued, delivery.skipped, delivery.unreachable) == (1, 1, 1)
    assert [row.recipient for row in outbox(session)] == ["U1", "+819087654321"]
    assert campaign.recipients == 1


def test_send_due_sends_a_scheduled_campaign_once_when_its_time_comes(
    session: Session, world: SimpleNamespace
) -> None:
    at = jst(2026, 12, 1, 10)
    campaign = create(session, world, segment=segments.Segment(channel="line"), send_at=at)
    assert campaigns.send_due(SessionStore(session), now=at - timedelta(seconds=1)) == []
    assert outbox(session) == []
    (delivery,) = campaigns.send_due(SessionStore(session), now=at)
    assert (delivery.campaign_id, delivery.queued) == (campaign.id, 1)
    assert campaigns.send_due(SessionStore(session), now=at + timedelta(minutes=1)) == []
    assert len(outbox(session)) == 1
    assert outbox(session)[0].due_at == at


def test_a_cancelled_campaign_is_never_sent(session: Session, world: SimpleNamespace) -> None:
    at = jst(2026, 12, 1, 10)
    campaign = create(session, world, send_at=at)
    campaigns.cancel(session, campaign_id=campaign.id)
    assert campaigns.send_due(SessionStore(session), now=at) == []
    with pytest.raises(IllegalTransition):
        campaigns.send(SessionStore(session), campaign_id=campaign.id, now=at)
    assert outbox(session) == []


def test_a_sent_campaign_cannot_be_cancelled_or_rescheduled(
    session: Session, world: SimpleNamespace
) -> None:
    campaign = create(session, world)
    campaigns.send(SessionStore(session), campaign_id=campaign.id, now=NOW)
    with pytest.raises(IllegalTransition):
        campaigns.cancel(session, campaign_id=campaign.id)
    with pytest.raises(IllegalTransition):
        campaigns.schedule(
            session, campaign_id=campaign.id, send_at=NOW + timedelta(days=1), now=NOW
        )


def test_a_draft_can_be_scheduled_later(session: Session, world: SimpleNamespace) -> None:
    campaign = create(session, world)
    at = jst(2026, 12, 2, 12)
    campaigns.schedule(session, campaign_id=campaign.id, send_at=at, now=NOW)
    assert (campaign.status, campaign.send_at) == (CampaignStatus.SCHEDULED, at)


def test_a_scheduled_campaign_whose_segment_no_longer_holds_is_cancelled(
    session: Session, world: SimpleNamespace
) -> None:
    at = jst(2026, 12, 1, 10)
    campaign = create(session, world, send_at=at)
    campaign.segment = {"course": "廃止したコース"}
    session.flush()
    assert campaigns.send_due(SessionStore(session), now=at) == []
    assert campaign.status == CampaignStatus.CANCELLED
    assert outbox(session) == []


def test_listing_is_newest_first_and_per_clinic(session: Session, world: SimpleNamespace) -> None:
    older = create(session, world, name="夏")
    newer = create(session, world, name="冬", now=NOW + timedelta(hours=1))
    other = make_clinic(session, name="別の院")
    create(session, SimpleNamespace(clinic=other), name="他院")
    assert [c.id for c in campaigns.listing(session, clinic_id=world.clinic.id)] == [
        newer.id,
        older.id,
    ]


def on_line(database: Database, patients: int, send_at: datetime | None = None) -> int:
    """Patients on LINE with marketing consent, and a campaign to all of them (a draft, or
    scheduled at `send_at`); its id."""
    with database.transaction() as session:
        clinic = make_clinic(session)
        for number in range(patients):
            make_patient(session, clinic, line_user_id=f"U{number}", consent_line=True)
        return campaigns.create(
            session,
            clinic_id=clinic.id,
            name="冬",
            segment=segments.Segment(),
            template="{patient_name}様",
            actor="test",
            now=NOW,
            send_at=send_at,
        ).id


def test_two_workers_and_a_click_send_a_campaign_once(committed: Database) -> None:
    at = jst(2026, 12, 1, 10)
    campaign_id = on_line(committed, 20, send_at=at)

    def tick() -> object:
        return [delivery.queued for delivery in campaigns.send_due(committed, now=at, chunk=3)]

    def click() -> object:
        return [campaigns.send(committed, campaign_id=campaign_id, now=at, chunk=3).queued]

    results = race([tick, tick, click])
    queued = [number for result in results if isinstance(result, list) for number in result]
    # One of them claimed it; the chunks went to whoever asked first, each queued once.
    assert sum(queued) == 20
    assert sum(isinstance(result, IllegalTransition) for result in results) <= 1
    with committed.reader() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 20


class Counting:
    """A store that counts the write transactions opened on the real one."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.transactions = 0

    def transaction(self) -> Any:
        self.transactions += 1
        return self.database.transaction()

    def reader(self) -> Any:
        return self.database.reader()

    def held(self) -> Any:
        return self.database.held()


def test_a_campaign_is_queued_a_chunk_of_patients_per_transaction(committed: Database) -> None:
    campaign_id = on_line(committed, 7)
    store = Counting(committed)

    delivery = campaigns.send(store, campaign_id=campaign_id, now=NOW, chunk=3)  # type: ignore[arg-type]

    assert (delivery.matched, delivery.queued, delivery.skipped) == (7, 7, 0)
    assert store.transactions == 1 + 3  # the claim, then 3 + 3 + 1 patients
    with committed.reader() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        assert (campaign.status, campaign.recipients) == (CampaignStatus.SENT, 7)
        assert campaign.sending_through is None
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 7


def test_a_send_that_stops_mid_way_is_finished_by_the_next_tick_without_doubles(
    committed: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = on_line(committed, 7)
    real = campaigns._send_one
    sent: list[int] = []

    def dies_at_the_fifth(session: Session, **kwargs: Any) -> str:
        if len(sent) == 4:
            raise RuntimeError("the process was stopped")
        sent.append(kwargs["patient"].id)
        return real(session, **kwargs)

    monkeypatch.setattr(campaigns, "_send_one", dies_at_the_fifth)
    with pytest.raises(RuntimeError):
        campaigns.send(committed, campaign_id=campaign_id, now=NOW, chunk=3)
    with committed.reader() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        # The first chunk is queued and noted; the second rolled back whole.
        assert (campaign.status, campaign.recipients) == (CampaignStatus.SENT, 3)
        assert campaign.sending_through == sent[2]
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 3

    monkeypatch.setattr(campaigns, "_send_one", real)
    (rest,) = campaigns.send_due(committed, now=NOW + timedelta(minutes=1), chunk=3)

    assert (rest.matched, rest.queued) == (4, 4)
    with committed.reader() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        assert (campaign.recipients, campaign.sending_through) == (7, None)
        keys = session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert len(keys) == len(set(keys)) == 7
    assert campaigns.send_due(committed, now=NOW + timedelta(minutes=2)) == []


def test_a_half_queued_campaign_whose_segment_stops_holding_is_stopped_not_retried(
    session: Session, world: SimpleNamespace
) -> None:
    campaign = create(session, world)
    store = SessionStore(session)
    campaigns.send(store, campaign_id=campaign.id, now=NOW, chunk=1)
    # As if the sender had stopped after the first patient, and the course was renamed.
    campaign.sending_through = world.hanako.id
    campaign.segment = {"course": "廃止したコース"}
    session.flush()

    assert campaigns.send_due(store, now=NOW + timedelta(minutes=1)) == []

    assert campaign.sending_through is None
    assert campaign.status == CampaignStatus.SENT
    assert campaigns.send_due(store, now=NOW + timedelta(minutes=2)) == []
