"""What the today page warns about before anything else: LINE paused for the monthly
quota, messages that could not be sent, and calls still owed a call back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import calls
from backend.conversation import words
from backend.models import CallOutcome, Clinic, OutboxMessage, OutboxStatus

# Failed or uncertain messages older than this are old news.
RECENT = timedelta(days=30)
OUTCOME_WORDS = {
    CallOutcome.MISSED: "不在着信",
    CallOutcome.ABANDONED: "途中で切れた電話",
    CallOutcome.CALLBACK_REQUESTED: "折り返し希望",
}


@dataclass(frozen=True)
class Alert:
    """A warning for staff: what happened and what to do."""

    level: str  # "danger" or "warning", for the page's colours
    text: str


@dataclass(frozen=True)
class OwedCall:
    """A call staff still owe a call back."""

    id: int
    at: str
    number: str
    what: str


def alerts(session: Session, *, clinic: Clinic, now: datetime) -> list[Alert]:
    """The warnings for the clinic right now, the most urgent first."""
    found: list[Alert] = []
    paused = clinic.line_paused_until
    if paused is not None and paused > now:
        until = words.moment(paused.astimezone(ZoneInfo(clinic.timezone)))
        found.append(
            Alert(
                "danger",
                f"LINEの今月の送信上限に達したため、{until}までLINEでのお知らせを止めています。"
                "LINE公式アカウントのプランを見直すか、月が替わるまでお待ちください"
                "（止まっている間のお知らせは、再開後に順に送ります）。",
            )
        )
    counts = _unsent(session, clinic.id, now)
    if counts.get(OutboxStatus.FAILED):
        found.append(
            Alert(
                "warning",
                f"送れなかったメッセージが{counts[OutboxStatus.FAILED]}件あります。"
                "宛先や設定をご確認ください（uketsuke outbox list --status failed）。",
            )
        )
    if counts.get(OutboxStatus.UNCERTAIN):
        found.append(
            Alert(
                "warning",
                f"届いたかどうか確認できないSMS・メールが{counts[OutboxStatus.UNCERTAIN]}件"
                "あります。二重に届かないよう、再送は確認してから行ってください"
                "（uketsuke outbox list --status uncertain）。",
            )
        )
    return found


def owed_calls(session: Session, *, clinic: Clinic, now: datetime) -> list[OwedCall]:
    """The calls still owed a call back, as staff read them."""
    zone = ZoneInfo(clinic.timezone)
    return [
        OwedCall(
            id=call.id,
            at=words.moment(call.started_at.astimezone(zone)),
            number=words.phone(call.from_number) if call.from_number else "番号非通知",
            what=OUTCOME_WORDS.get(call.outcome, ""),
        )
        for call in calls.to_follow_up(session, clinic_id=clinic.id, now=now)
    ]


def _unsent(session: Session, clinic_id: int, now: datetime) -> dict[OutboxStatus, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count())
        .where(
            OutboxMessage.clinic_id == clinic_id,
            OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.UNCERTAIN)),
            OutboxMessage.created_at >= now - RECENT,
        )
        .group_by(OutboxMessage.status)
    )
    return {OutboxStatus(status): count for status, count in rows}
