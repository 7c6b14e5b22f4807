"""Campaigns and segments: count and preview a segment, create, schedule, send, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from backend import campaigns, segments
from backend.api import schemas
from backend.api.deps import ActorDep, NowDep, StoreDep
from backend.api.types import Id, LongText, Moment, Name
from backend.models import CampaignStatus

router = APIRouter(tags=["campaigns"], responses=schemas.ERRORS)

Template = Annotated[LongText, Field(min_length=1, max_length=1000)]


class SegmentPreviewIn(schemas.Input):
    clinic_id: Id
    segment: segments.Segment = Field(default_factory=segments.Segment)
    template: Template | None = Field(None, description="render a few sample messages")


class CampaignCreate(schemas.Input):
    clinic_id: Id
    name: Name
    segment: segments.Segment = Field(default_factory=segments.Segment)
    template: Template = Field(description="placeholders: {patient_name} {clinic_name} …")
    send_at: Moment | None = Field(None, description="send at this time; none: a draft")


class ScheduleIn(schemas.Input):
    send_at: Moment


class CountsOut(BaseModel):
    total: int
    line: int
    sms: int
    email: int
    unreachable: int = Field(description="no channel with marketing consent")
    post: int = Field(description="could get a postal DM")


class SampleOut(BaseModel):
    patient_id: int
    patient_name: str
    channel: str | None
    text: str


class PreviewOut(BaseModel):
    counts: CountsOut
    samples: list[SampleOut]


class CampaignOut(schemas.Output):
    id: int
    clinic_id: int
    name: str
    segment: dict[str, Any]
    template: str
    send_at: datetime | None
    status: CampaignStatus
    recipients: int = Field(description="messages queued so far")
    sending: bool = Field(
        description="sent, with patients still being queued (a hundred per transaction)"
    )
    created_by: str
    created_at: datetime


class DeliveryOut(BaseModel):
    campaign_id: int
    matched: int
    queued: int
    skipped: int = Field(description="marketing cap reached, or queued before")
    unreachable: int


def _preview(found: campaigns.Preview) -> PreviewOut:
    return PreviewOut.model_validate(
        {"counts": vars(found.counts), "samples": [vars(sample) for sample in found.samples]}
    )


@router.post("/segments/preview", summary="Count and preview a segment")
def preview_segment(body: SegmentPreviewIn, store: StoreDep) -> PreviewOut:
    """How many patients match, on which channel each would get marketing, and (with a
    template) a few rendered messages. Nothing is stored or sent."""
    with store.reader() as session:
        found = campaigns.preview(
            session, clinic_id=body.clinic_id, segment=body.segment, template=body.template
        )
        return _preview(found)


@router.post("/campaigns", status_code=status.HTTP_201_CREATED, summary="Create a campaign")
def create_campaign(
    body: CampaignCreate, store: StoreDep, now: NowDep, actor: ActorDep
) -> CampaignOut:
    """A draft, or a scheduled campaign when `send_at` is given."""
    with store.transaction() as session:
        campaign = campaigns.create(session, actor=actor, now=now, **dict(body))
        return schemas.render_local(CampaignOut, session, campaign)


@router.get("/campaigns", summary="List a clinic's campaigns")
def list_campaigns(clinic_id: Id, store: StoreDep) -> list[CampaignOut]:
    """Newest first."""
    with store.reader() as session:
        found = campaigns.listing(session, clinic_id=clinic_id)
        zone = schemas.clinic_zone(session, clinic_id)
        return [schemas.render(CampaignOut, campaign, zone) for campaign in found]


@router.get("/campaigns/{campaign_id}", summary="Read a campaign")
def get_campaign(campaign_id: Id, store: StoreDep) -> CampaignOut:
    with store.reader() as session:
        campaign = campaigns.get(session, campaign_id=campaign_id)
        return schemas.render_local(CampaignOut, session, campaign)


@router.post("/campaigns/{campaign_id}/preview", summary="Preview a campaign")
def preview_campaign(campaign_id: Id, store: StoreDep) -> PreviewOut:
    """The campaign's segment counted now, with a few of its messages rendered."""
    with store.reader() as session:
        campaign = campaigns.get(session, campaign_id=campaign_id)
        found = campaigns.preview(
            session,
            clinic_id=campaign.clinic_id,
            segment=campaigns.segment_of(campaign),
            template=campaign.template,
        )
        return _preview(found)


@router.post("/campaigns/{campaign_id}/schedule", summary="Schedule a campaign")
def schedule_campaign(
    campaign_id: Id, body: ScheduleIn, store: StoreDep, now: NowDep
) -> CampaignOut:
    """Send a draft or scheduled campaign at `send_at` (in the future)."""
    with store.transaction() as session:
        campaign = campaigns.schedule(
            session, campaign_id=campaign_id, send_at=body.send_at, now=now
        )
        return schemas.render_local(CampaignOut, session, campaign)


@router.post("/campaigns/{campaign_id}/send", summary="Send a campaign now")
def send_campaign(campaign_id: Id, store: StoreDep, now: NowDep) -> DeliveryOut:
    """Queue one message per patient of the segment (quiet hours hold them until morning),
    a hundred patients per transaction; a campaign already sent or cancelled is a 409."""
    delivery = campaigns.send(store, campaign_id=campaign_id, now=now)
    return DeliveryOut.model_validate(vars(delivery))


@router.post("/campaigns/{campaign_id}/cancel", summary="Cancel a campaign")
def cancel_campaign(campaign_id: Id, store: StoreDep) -> CampaignOut:
    """Cancel a draft or scheduled campaign."""
    with store.transaction() as session:
        campaign = campaigns.cancel(session, campaign_id=campaign_id)
        return schemas.render_local(CampaignOut, session, campaign)
