"""A patient chatting with the bot through backend.dialogue.line.handle, on the real
database: each event's outbox rows come back decoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.conversation import codec
from backend.conversation.model import Card, Carousel, Event, Picked, Reply, Say, Text
from backend.dialogue import line
from backend.models import Clinic, Course, Media, OutboxMessage, Staff
from tests.factories import NOW, make_bed, make_clinic, make_course, make_staff

GROUP = "C0000000000000000000000000000staff"


@dataclass(frozen=True)
class Sent:
    """One outbox row, decoded."""

    to: str
    purpose: str
    replies: tuple[Reply, ...]
    reply_token: str | None

    @property
    def text(self) -> str:
        """All the text of the row's replies."""
        parts: list[str] = []
        for reply in self.replies:
            cards = reply.cards if isinstance(reply, Carousel) else (reply,)
            for item in cards:
                if isinstance(item, Say):
                    parts.append(item.text)
                elif isinstance(item, Card):
                    parts += [item.title, item.note, *(f"{k} {v}" for k, v in item.rows)]
        return "\n".join(parts)

    @property
    def values(self) -> list[str]:
        """Every button value, carousel cards included."""
        found: list[str] = []
        for reply in self.replies:
            cards = reply.cards if isinstance(reply, Carousel) else (reply,)
            for item in cards:
                found += [choice.value for choice in item.choices]
        return found


@dataclass
class Chat:
    """One LINE user talking to one clinic."""

    session: Session
    clinic: Clinic
    user: str = "U00000000000000000000000000patient"
    now: datetime = NOW
    sent: list[Sent] = field(default_factory=list)
    _tokens: int = 0

    def send(self, event: Event) -> list[Sent]:
        """Handle one event; return every outbox row it wrote."""
        before = self.session.scalar(
            select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)
        )
        self._tokens += 1
        line.handle(
            self.session,
            clinic_id=self.clinic.id,
            source=line.Source(user_id=self.user),
            event=event,
            now=self.now,
            reply_token=f"reply-token-{self._tokens}",
        )
        rows = self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > (before or 0)).order_by(OutboxMessage.id)
        ).all()
        self.sent = [
            Sent(
                row.recipient,
                row.purpose,
                codec.load(row.payload["replies"]),
                row.payload.get("reply_token"),
            )
            for row in rows
        ]
        return self.sent

    def reply(self, event: Event) -> Sent:
        """Handle one event; return the bot's answer in the chat (the only one)."""
        answers = [sent for sent in self.send(event) if sent.purpose == "chat:patient"]
        assert len(answers) == 1, answers
        assert answers[0].to == self.user
        return answers[0]

    def say(self, text: str) -> Sent:
        """The patient types."""
        return self.reply(Text(text))

    def tap(self, value: str) -> Sent:
        """The patient taps a button."""
        return self.reply(Picked(value))

    def to_staff(self) -> list[Sent]:
        """What the last event sent to the staff group."""
        return [sent for sent in self.sent if sent.to == GROUP]


@dataclass(frozen=True)
class Setup:
    """A clinic set up for chatting: staff, beds, a first-visit course and media."""

    clinic: Clinic
    yamada: Staff
    suzuki: Staff
    first_visit: Course
    pelvis: Course
    media: Media


def open_clinic(session: Session, **overrides: object) -> Setup:
    """テスト整骨院 with its staff group linked, two practitioners, two beds, two courses."""
    clinic = make_clinic(session, line_staff_group_id=GROUP, **overrides)
    yamada = make_staff(session, clinic, name="山田 太郎")
    suzuki = make_staff(session, clinic, name="鈴木 一郎")
    make_bed(session, clinic, name="ベッド1")
    make_bed(session, clinic, name="ベッド2")
    first_visit = make_course(
        session, clinic, name="初診", staff_minutes=40, price_yen=3000, for_first_visit=True
    )
    pelvis = make_course(session, clinic, name="骨盤矯正")
    media = Media(clinic_id=clinic.id, name="Googleマップ", sort_order=1)
    session.add(media)
    session.flush()
    return Setup(clinic, yamada, suzuki, first_visit, pelvis, media)
