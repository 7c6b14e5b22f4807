"""Campaigns: one marketing message to a segment of patients, now or at a set time.

A campaign is created as a draft (or scheduled, with a time), previewed (how many match,
on which channel, a few rendered samples), then sent: one MARKETING message per patient
through `messaging.send`, which picks the channel, checks consent, holds the message
through quiet hours and applies the marketing cap. Each message's idempotency key is
`campaign:<id>:<patient id>`, so sending twice never doubles a message.

draft ──schedule──▶ scheduled ──(send_at passes: send_due)──▶ sent
draft / scheduled ──send now──▶ sent;  draft / scheduled ──cancel──▶ cancelled

Sending claims the campaign (status sent, `sending_through` 0) in one transaction, then
queues its patients in id order, `CHUNK` per transaction, noting the last id queued in
`sending_through` (None once all are): the database's write lock is never held for a
whole segment. A sender that stops mid-way leaves the campaign half-queued; the worker's
next tick (`send_due`) queues the rest, and the idempotency keys make a chunk that was
queued twice a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import messaging, placeholders, segments
from backend.api.deps import Store
from backend.conversation.model import Say
from backend.errors import IllegalTransition, Invalid, NotFound
from backend.models import Campaign, CampaignStatus, Channel, Clinic, MessageKind, Patient

log = logging.getLogger(__name__)

PURPOSE = "campaign"
SAMPLES = 3
# Patients queued per transaction. On SQLite a transaction holds the one write lock that
# every webhook and phone turn also needs, and queueing costs 1–1.5 ms per patient here:
# 3,000 patients in one transaction held them back for 3.7–5.3 s; a chunk holds them about
# 150 ms.
CHUNK = 100
OPEN = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)


@dataclass(frozen=True)
class Sample:
    """One patient's message as it would be sent; channel None: they cannot be reached."""

    patient_id: int
    patient_name: str
    channel: str | None
    text: str


@dataclass(frozen=True)
class Preview:
    """What a campaign would do: the counts per channel and a few rendered messages."""

    counts: segments.Counts
    samples: list[Sample] = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    """How sending went: `queued` messages; `skipped` patients (marketing cap reached, or
    queued before); `unreachable` ones (no channel with marketing consent)."""

    campaign_id: int
    matched: int
    queued: int
    skipped: int
    unreachable: int

    def plus(self, other: Delivery) -> Delivery:
        return Delivery(
            self.campaign_id,
            self.matched + other.matched,
            self.queued + other.queued,
            self.skipped + other.skipped,
            self.unreachable + other.unreachable,
        )


def create(
    session: Session,
    *,
    clinic_id: int,
    name: str,
    segment: segments.Segment,
    template: str,
    actor: str,
    now: datetime,
    send_at: datetime | None = None,
) -> Campaign:
    """A new campaign: a draft, or scheduled when `send_at` is given (it must be ahead)."""
    clinic = _clinic(session, clinic_id)
    placeholders.check(template)
    segments.count(session, clinic=clinic, segment=segment)  # names in the segment exist
    if send_at is not None:
        _check_ahead(send_at, now)
    campaign = Campaign(
        clinic_id=clinic.id,
        name=name,
        segment=segment.model_dump(mode="json", exclude_defaults=True),
        template=template,
        send_at=send_at,
        status=CampaignStatus.SCHEDULED if send_at else CampaignStatus.DRAFT,
        recipients=0,
        created_by=actor,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    return campaign


def get(session: Session, *, campaign_id: int) -> Campaign:
    """The campaign, or NotFound."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign not found", field="campaign_id")
    return campaign


def listing(session: Session, *, clinic_id: int) -> Sequence[Campaign]:
    """The clinic's campaigns, newest first."""
    _clinic(session, clinic_id)
    query = select(Campaign).where(Campaign.clinic_id == clinic_id)
    return session.scalars(query.order_by(Campaign.created_at.desc(), Campaign.id.desc())).all()


def segment_of(campaign: Campaign) -> segments.Segment:
    """The campaign's stored segment."""
    return segments.parse(campaign.segment)


def preview(
    session: Session,
    *,
    clinic_id: int,
    segment: segments.Segment,
    template: str | None = None,
    samples: int = SAMPLES,
) -> Preview:
    """Count the segment per channel and render the template for its first patients."""
    clinic = _clinic(session, clinic_id)
    counts = segments.count(session, clinic=clinic, segment=segment)
    if not template:
        return Preview(counts=counts)
    placeholders.check(template)
    first = session.scalars(
        segments.patients(session, clinic=clinic, segment=segment).limit(samples)
    )
    return Preview(counts=counts, samples=[_sample(clinic, patient, template) for patient in first])


def _sample(clinic: Clinic, patient: Patient, template: str) -> Sample:
    found = messaging.routes(patient, kind=MessageKind.MARKETING)
    channel = found[0].channel.value if found else None
    text = placeholders.render(template, clinic=clinic, patient=patient)
    if found and found[0].channel != Channel.LINE:
        text = f"{text}\n{messaging.opt_out_line(clinic, found[0].channel)}"
    return Sample(patient_id=patient.id, patient_name=patient.name, channel=channel, text=text)


def schedule(session: Session, *, campaign_id: int, send_at: datetime, now: datetime) -> Campaign:
    """Send a draft or scheduled campaign at `send_at` (which must be ahead) instead."""
    campaign = get(session, campaign_id=campaign_id)
    _check_open(campaign, "schedule")
    _check_ahead(send_at, now)
    campaign.send_at = send_at
    campaign.status = CampaignStatus.SCHEDULED
    session.flush()
    return campaign


def cancel(session: Session, *, campaign_id: int) -> Campaign:
    """Cancel a draft or scheduled campaign; nothing has been sent."""
    campaign = get(session, campaign_id=campaign_id)
    _check_open(campaign, "cancel")
    campaign.status = CampaignStatus.CANCELLED
    session.flush()
    return campaign


def send(store: Store, *, campaign_id: int, now: datetime, chunk: int = CHUNK) -> Delivery:
    """Queue the campaign's message for every patient in its segment, now: claimed in one
    transaction, then queued `chunk` patients per transaction."""
    with store.transaction() as session:
        _claim(session, campaign_id=campaign_id, now=now)
    return _queue_rest(store, campaign_id=campaign_id, now=now, chunk=chunk)


def _queue_rest(store: Store, *, campaign_id: int, now: datetime, chunk: int) -> Delivery:
    """Queue what is left of a claimed campaign, chunk after chunk, until it is all queued
    (another sender may take chunks meanwhile: each is counted once, by who queued it)."""
    total = Delivery(campaign_id, 0, 0, 0, 0)
    while True:
        with store.transaction() as session:
            part, done = _queue_chunk(session, campaign_id=campaign_id, now=now, chunk=chunk)
        total = total.plus(part)
        if done:
            log.info(
                "campaign %d: %d queued, %d skipped, %d unreachable",
                campaign_id,
                total.queued,
                total.skipped,
                total.unreachable,
            )
            return total


def _queue_chunk(
    session: Session, *, campaign_id: int, now: datetime, chunk: int
) -> tuple[Delivery, bool]:
    """Queue the next `chunk` patients after `sending_through`; whether that was the last."""
    campaign = session.scalars(
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    after = campaign.sending_through
    if after is None:  # another sender queued the last chunk meanwhile
        return Delivery(campaign_id, 0, 0, 0, 0), True
    clinic = _clinic(session, campaign.clinic_id)
    query = segments.patients(session, clinic=clinic, segment=segment_of(campaign))
    page = list(session.scalars(query.where(Patient.id > after).limit(chunk)))
    outcomes = [
        _send_one(session, campaign=campaign, clinic=clinic, patient=patient, now=now)
        for patient in page
    ]
    queued, unreachable = outcomes.count("queued"), outcomes.count("unreachable")
    campaign.recipients += queued
    done = len(page) < chunk
    campaign.sending_through = None if done else page[-1].id
    session.flush()
    skipped = len(page) - queued - unreachable
    return Delivery(campaign_id, len(page), queued, skipped, unreachable), done


def _send_one(
    session: Session, *, campaign: Campaign, clinic: Clinic, patient: Patient, now: datetime
) -> str:
    if not messaging.routes(patient, kind=MessageKind.MARKETING):
        return "unreachable"
    text = placeholders.render(campaign.template, clinic=clinic, patient=patient)
    queued = messaging.send(
        session,
        clinic=clinic,
        patient=patient,
        replies=(Say(text),),
        purpose=PURPOSE,
        idempotency_key=f"campaign:{campaign.id}:{patient.id}",
        now=now,
        kind=MessageKind.MARKETING,
    )
    return "queued" if queued is not None else "skipped"


def send_due(store: Store, *, now: datetime, chunk: int = CHUNK) -> list[Delivery]:
    """Send every scheduled campaign whose time has come, and finish any left half-queued
    (a sender stopped mid-way); the worker calls this each tick.

    A campaign whose stored segment no longer holds (a course or staff member renamed) is
    cancelled with a warning rather than failing every tick.
    """
    due = select(Campaign.id).where(
        Campaign.status == CampaignStatus.SCHEDULED, Campaign.send_at <= now
    )
    with store.reader() as session:
        ids = list(session.scalars(due.order_by(Campaign.send_at, Campaign.id)))
    for campaign_id in ids:
        try:
            with store.transaction() as session:
                _claim(session, campaign_id=campaign_id, now=now)
        except IllegalTransition:
            continue  # another worker sent or cancelled it meanwhile
        except Invalid as error:
            log.warning("campaign %d cancelled: %s", campaign_id, error.message)
            with store.transaction() as session:
                cancel(session, campaign_id=campaign_id)
    half_done = select(Campaign.id).where(Campaign.sending_through.is_not(None))
    with store.reader() as session:
        sending = list(session.scalars(half_done.order_by(Campaign.id)))
    deliveries = []
    for campaign_id in sending:
        try:
            deliveries.append(_queue_rest(store, campaign_id=campaign_id, now=now, chunk=chunk))
        except Invalid as error:
            # Its segment stopped holding mid-way: what is queued stays, the rest is dropped.
            log.warning("campaign %d stopped mid-way: %s", campaign_id, error.message)
            with store.transaction() as session:
                get(session, campaign_id=campaign_id).sending_through = None
    return deliveries


def _claim(session: Session, *, campaign_id: int, now: datetime) -> Campaign:
    """Mark the campaign sent and to be queued from its first patient, if it still is a
    draft or scheduled; one winner under concurrency (the conditional update locks the row
    on PostgreSQL). Its segment must still hold (Invalid, and nothing claimed, if not)."""
    claimed = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(OPEN))
        .values(status=CampaignStatus.SENT, send_at=now, sending_through=0)
        .execution_options(synchronize_session=False)
    )
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    if campaign is None:
        raise NotFound("campaign not found", field="campaign_id")
    if not getattr(claimed, "rowcount", 0):
        raise IllegalTransition(f"the campaign is already {campaign.status.value}")
    # The segment's names (course, staff, media) must still exist: checked by building
    # its query, before anything is queued.
    segments.patients(
        session, clinic=_clinic(session, campaign.clinic_id), segment=segment_of(campaign)
    )
    return campaign


def _check_open(campaign: Campaign, operation: str) -> None:
    if campaign.status not in OPEN:
        raise IllegalTransition(f"cannot {operation}: the campaign is {campaign.status.value}")


def _check_ahead(send_at: datetime, now: datetime) -> None:
    if send_at <= now:
        raise Invalid("send_at must be in the future", field="send_at")


def _clinic(session: Session, clinic_id: int) -> Clinic:
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound("clinic not found", field="clinic_id")
    return clinic
