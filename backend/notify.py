"""Messages that follow a booking change: cards to the staff group, answers to the patient.

All of them are outbox rows written in the caller's transaction. Buttons carry postback
values the conversation tables understand:

- staff card: ``req:<id>:approve``, ``req:<id>:propose``, ``req:<id>:decline``
- a proposal to the patient: ``proposal:<id>:accept``, ``proposal:<id>:decline``
- a declined patient's alternatives: ``rebook:<id>:<ISO start>``

No health information goes into any of them (DESIGN rule 6).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from backend import booking as booking_engine
from backend import message_rules, messaging, outbox
from backend.calls import Call
from backend.conversation import staff_calls, words
from backend.conversation.model import Card, Choice, Reply, Say
from backend.models import (
    Booking,
    BookingStatus,
    CallOutcome,
    Clinic,
    Party,
    Patient,
    RuleKind,
    Source,
    Staff,
)

SOURCE_WORDS = {
    Source.LINE: "LINE",
    Source.PHONE: "電話",
    Source.WEB: "Web",
    Source.STAFF: "スタッフ",
    Source.API: "外部連携",
}


def _clinic(session: Session, booking: Booking) -> Clinic:
    clinic = session.get(Clinic, booking.clinic_id)
    assert clinic is not None
    return clinic


def _local(clinic: Clinic, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(clinic.timezone))


def _key(kind: str, booking: Booking) -> str:
    return _change_key(kind, booking.id, len(booking.changes))


def _change_key(kind: str, booking_id: int, changes: int) -> str:
    # One message per booking change: a retried transaction adds nothing.
    return f"notify:{kind}:{booking_id}:{changes}"


class CardPatient(Protocol):
    """What a booking card shows of the patient: a Patient row, or `Registered`."""

    @property
    def name(self) -> str: ...

    @property
    def name_verified(self) -> bool: ...

    @property
    def phone(self) -> str | None: ...

    @property
    def first_visit_on(self) -> date | None: ...


def booking_rows(clinic: Clinic, booking: Booking) -> tuple[tuple[str, str], ...]:
    """The rows staff see on a booking card."""
    return _rows(
        ZoneInfo(clinic.timezone),
        booking.patient,
        starts_at=booking.starts_at,
        course=booking.course.name,
        staff=booking.staff.name if booking.staff else None,
        nominated=booking.nominated,
        source=booking.source,
    )


def _rows(
    zone: ZoneInfo,
    patient: CardPatient,
    *,
    starts_at: datetime,
    course: str,
    staff: str | None,
    nominated: bool,
    source: Source,
) -> tuple[tuple[str, str], ...]:
    who = ("指名なし" if staff is None else staff) + ("（指名）" if nominated else "")
    rows = [
        ("お名前", patient.name + ("" if patient.name_verified else "（未確認）")),
        ("日時", words.moment(starts_at.astimezone(zone))),
        ("メニュー", course),
        ("担当", who),
        ("受付", SOURCE_WORDS[source]),
    ]
    if patient.phone:
        rows.append(("電話", words.phone(patient.phone)))
    if patient.first_visit_on is None:
        rows.append(("", "初めての方"))
    return tuple(rows)


def _to_staff(
    session: Session, booking: Booking, kind: str, replies: tuple[Reply, ...], now: datetime
) -> None:
    clinic = _clinic(session, booking)
    if clinic.line_staff_group_id is None:
        return
    outbox.line_replies(
        session,
        clinic_id=clinic.id,
        to=clinic.line_staff_group_id,
        replies=replies,
        purpose=f"staff:{kind}",
        now=now,
        idempotency_key=_key(kind, booking),
    )


def _to_patient(
    session: Session, booking: Booking, kind: str, replies: tuple[Reply, ...], now: datetime
) -> None:
    # Through messaging: a LINE patient gets exactly this on LINE, a phone-only patient an
    # SMS, others an email.
    messaging.send(
        session,
        clinic=_clinic(session, booking),
        patient=booking.patient,
        replies=replies,
        purpose=f"patient:{kind}",
        idempotency_key=_key(kind, booking),
        now=now,
    )


def request_card(clinic: Clinic, booking: Booking) -> Card:
    """The card staff answer a request with."""
    return _request_card(booking.id, booking_rows(clinic, booking))


def _request_card(booking_id: int, rows: tuple[tuple[str, str], ...]) -> Card:
    return Card(
        title="予約リクエスト",
        rows=rows,
        choices=(
            Choice("承認", f"req:{booking_id}:approve"),
            Choice("別の時間を提案", f"req:{booking_id}:propose"),
            Choice("お断り", f"req:{booking_id}:decline"),
        ),
    )


def _staff_card(status: BookingStatus, booking_id: int, rows: tuple[tuple[str, str], ...]) -> Reply:
    """The request card, or, when the clinic confirmed the booking at once, a notice."""
    if status == BookingStatus.REQUESTED:
        return _request_card(booking_id, rows)
    return Card(title="新しいご予約（確定済み）", rows=rows)


def request_created(session: Session, *, booking: Booking, now: datetime) -> None:
    """A patient asked for a time: staff get the request card (or, when the clinic
    confirmed it at once, a notice)."""
    clinic = _clinic(session, booking)
    if clinic.line_staff_group_id is None:
        return
    reply = _staff_card(booking.status, booking.id, booking_rows(clinic, booking))
    _to_staff(session, booking, "request", (reply,), now)


# The staff member's name, for the card of a request made with plain statements.
_STAFF_NAME = select(Staff.name).where(Staff.id == bindparam("staff_id"))


def request_made(
    session: Session, *, made: booking_engine.Requested, patient: CardPatient, now: datetime
) -> None:
    """`request_created` for a request made by `booking.request_plain`, from what it read:
    the clinic, the course and the patient (`patient`) are not read again."""
    group = made.clinic.line_staff_group_id
    if group is None:
        return
    staff = None
    if made.staff_id is not None:
        staff = session.connection().execute(_STAFF_NAME, {"staff_id": made.staff_id}).scalar()
    rows = _rows(
        ZoneInfo(made.clinic.timezone),
        patient,
        starts_at=made.starts_at,
        course=made.course.name,
        staff=staff,
        nominated=made.nominated,
        source=made.source,
    )
    outbox.line_replies(
        session,
        clinic_id=made.clinic.id,
        to=group,
        replies=(_staff_card(made.status, made.id, rows),),
        purpose="staff:request",
        now=now,
        idempotency_key=_change_key("request", made.id, 1),  # a new booking: one change
    )


def patient_cancelled(session: Session, *, booking: Booking, now: datetime) -> None:
    """The patient cancelled: staff see which time was freed."""
    clinic = _clinic(session, booking)
    card = Card(title="キャンセルがありました", rows=booking_rows(clinic, booking))
    _to_staff(session, booking, "cancelled", (card,), now)


def patient_moved(
    session: Session, *, booking: Booking, previous_start: datetime, now: datetime
) -> None:
    """The patient moved a booking: staff get a request card (or a notice if confirmed)."""
    clinic = _clinic(session, booking)
    note = f"変更前: {words.moment(_local(clinic, previous_start))}"
    if booking.status == BookingStatus.REQUESTED:
        card = request_card(clinic, booking)
        card = Card("予約の変更リクエスト", card.rows, card.choices, note)
    else:
        card = Card("予約が変更されました", booking_rows(clinic, booking), note=note)
    _to_staff(session, booking, "moved", (card,), now)


def proposal_accepted(session: Session, *, booking: Booking, now: datetime) -> None:
    """The patient took the time staff proposed: staff see the booking is settled."""
    clinic = _clinic(session, booking)
    card = Card(title="提案した日時で確定しました", rows=booking_rows(clinic, booking))
    _to_staff(session, booking, "proposal-accepted", (card,), now)


def late_cancel_attempt(
    session: Session, *, booking: Booking, now: datetime, change: bool = False
) -> None:
    """The patient tried to cancel (or, with `change`, to move) after the deadline: staff
    should call them."""
    clinic = _clinic(session, booking)
    wish = "変更" if change else "キャンセル"
    card = Card(
        title=f"締切後の{wish}希望",
        rows=booking_rows(clinic, booking),
        note="キャンセル・変更の締切を過ぎています。お電話でご確認ください。",
    )
    _to_staff(session, booking, f"late-{'change' if change else 'cancel'}", (card,), now)


def _when(session: Session, booking: Booking) -> str:
    clinic = _clinic(session, booking)
    return f"{words.moment(_local(clinic, booking.starts_at))}〜 {booking.course.name}"


def _confirmation(session: Session, booking: Booking, param: str | None = None) -> str | None:
    """The confirmation rule's text for the booking; None when the clinic turned it off."""
    clinic = _clinic(session, booking)
    rule = message_rules.find(session, clinic_id=clinic.id, kind=RuleKind.CONFIRMATION)
    if rule is not None and not rule.enabled:
        return None
    template = message_rules.template_of(rule, RuleKind.CONFIRMATION, param)
    return message_rules.render(template, message_rules.booking_values(clinic, booking))


def confirmed(session: Session, *, booking: Booking, now: datetime) -> None:
    """Tell the patient their booking is confirmed (the clinic's confirmation rule)."""
    text = _confirmation(session, booking)
    if text is not None:
        _to_patient(session, booking, "confirmed", (Say(text),), now)


def moved(session: Session, *, booking: Booking, now: datetime) -> None:
    """Tell the patient the new time of a moved booking that is confirmed (the
    confirmation rule); a move waiting for staff is told when they confirm it."""
    text = _confirmation(session, booking, "moved_template")
    if text is not None and booking.status == BookingStatus.CONFIRMED:
        _to_patient(session, booking, "moved", (Say(text),), now)


def cancelled(session: Session, *, booking: Booking, now: datetime) -> None:
    """Tell the patient of a cancellation the clinic made; the staff's reason stays with
    staff, since it may say something about the patient's health."""
    if booking.cancelled_by == Party.STAFF:
        cancelled_by_clinic(session, booking=booking, now=now)


def cancellation_taken(session: Session, *, booking: Booking, now: datetime) -> None:
    """Confirm to the patient a cancellation they asked the desk for (by phone or in
    person), when the clinic sends confirmations at all."""
    if _confirmation(session, booking) is None:
        return
    when = _when(session, booking)
    text = f"{when} のご予約のキャンセルを承りました。またのご来院をお待ちしております。"
    _to_patient(session, booking, "cancelled", (Say(text),), now)


def declined(
    session: Session,
    *,
    booking: Booking,
    now: datetime,
    reason: str | None = None,
    alternatives: tuple[datetime, ...] = (),
) -> None:
    """Tell the patient the request could not be accepted, with other times to tap."""
    clinic = _clinic(session, booking)
    because = f"（{reason}）" if reason else ""
    lines = [
        f"申し訳ございません。{_when(session, booking)} のご予約はお受けできませんでした{because}。"
    ]
    choices = tuple(
        Choice(words.moment(_local(clinic, start)), f"rebook:{booking.id}:{start.isoformat()}")
        for start in alternatives[:4]
    )
    lines.append(
        "下の候補から選ぶか、「予約」と送って別の日時をお選びください。"
        if choices
        else "「予約」と送って別の日時をお選びください。"
    )
    _to_patient(session, booking, "declined", (Say("\n".join(lines), choices),), now)


def proposed(session: Session, *, booking: Booking, now: datetime) -> None:
    """Staff offered another time: the patient accepts or declines with a tap."""
    text = (
        f"ご希望の日時はご予約がいっぱいでした。\n{_when(session, booking)}\nはいかがでしょうか。"
    )
    choices = (
        Choice("この日時で予約する", f"proposal:{booking.id}:accept"),
        Choice("別の日時にする", f"proposal:{booking.id}:decline"),
    )
    _to_patient(session, booking, "proposed", (Say(text, choices),), now)


def cancelled_by_clinic(
    session: Session, *, booking: Booking, now: datetime, reason: str | None = None
) -> None:
    """Tell the patient the clinic cancelled their booking."""
    said = _confirmation(session, booking, "cancelled_template")
    if said is None:
        return
    because = f"\n理由: {reason}" if reason else ""
    text = f"{said}{because}\nお手数ですが「予約」と送って別の日時をお選びください。"
    _to_patient(session, booking, "cancelled", (Say(text),), now)


# Phone calls: what staff must follow up (callback requests, missed and abandoned calls).


def _phone_words(number: str | None) -> str:
    """「090-1234-5678」 as staff dial it; 「非通知」 when the caller withheld it."""
    return words.phone(number) or "非通知"


def _call_rows(
    session: Session, clinic: Clinic, call: Call, number: str | None
) -> list[tuple[str, str]]:
    rows = [
        ("電話", _phone_words(number)),
        ("着信", words.moment(_local(clinic, call.started_at))),
    ]
    patient = session.get(Patient, call.patient_id) if call.patient_id else None
    if patient is not None:
        rows.append(("お名前", patient.name + ("" if patient.name_verified else "（未確認）")))
    return rows


def _call_to_staff(
    session: Session, clinic: Clinic, card: Card, *, kind: str, call: Call, now: datetime
) -> None:
    if clinic.line_staff_group_id is None:
        return
    outbox.line_replies(
        session,
        clinic_id=clinic.id,
        to=clinic.line_staff_group_id,
        replies=(card,),
        purpose=f"staff:{kind}",
        now=now,
        # One card per call: a retried turn or status callback adds nothing.
        idempotency_key=f"notify:{kind}:{call.call_sid}",
    )


def callback_requested(
    session: Session, *, call: Call, reason: str, number: str | None, now: datetime
) -> None:
    """A caller asked to be called back: staff get the number, when, who, and why
    (`reason` in words, e.g. 「スタッフ不在（転送に応答なし）」; never anything medical)."""
    clinic = session.get(Clinic, call.clinic_id)
    assert clinic is not None
    rows = [*_call_rows(session, clinic, call, number), ("ご用件", reason)]
    card = Card(
        title="折り返しのご依頼",
        rows=tuple(rows),
        note="お電話の自動受付で折り返しをご希望です。お手数ですがお電話をお願いします。",
        choices=(staff_calls.button(call.id),),
    )
    _call_to_staff(session, clinic, card, kind="callback", call=call, now=now)


def call_missed(session: Session, *, call: Call, step: str, now: datetime) -> None:
    """A call ended before anything was done for the caller (missed, or hung up mid-way):
    a short alert with the number, the time and how far they got (`step`, in words)."""
    clinic = session.get(Clinic, call.clinic_id)
    assert clinic is not None
    missed = call.outcome == CallOutcome.MISSED
    rows = [*_call_rows(session, clinic, call, call.from_number), ("状況", step)]
    card = Card(
        title="不在着信" if missed else "途中で切れたお電話",
        rows=tuple(rows),
        note="ご用件を伺えていません。折り返しのお電話をご検討ください。",
        choices=(staff_calls.button(call.id),),
    )
    _call_to_staff(session, clinic, card, kind="missed-call", call=call, now=now)
