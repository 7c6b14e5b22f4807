"""A hand-built clinic on a fixed calendar (October 2026 in Tokyo), for the KPI tests.

Every row is written directly (not through the booking engine) so each timestamp is exactly
the one the expected numbers in the tests are worked out from. Times are Tokyo wall-clock.

Patients (gender, media) and their visits:
  P1 (female, ホームページ)  Sep 10 10:00 A 保険; Oct 5, 12, 19 (Mondays) 10:00 A 保険
  P2 (male, 紹介)           Jul 3 16:00 B 骨盤矯正; Oct 8 16:00 B 骨盤矯正 (指名)
  P3 (female, ホームページ)  Oct 20 11:00 B 骨盤矯正 (walk-in); Oct 30 11:00 B 骨盤矯正 (回数券)
  P4 (male, ホームページ)    Oct 31 23:30 A 保険; Nov 20 10:00 A 保険
  P5 (unknown, 紹介)        Oct 1 00:10 EMS, no staff
  P6 (female, no media)    初検日 Oct 2 on the カルテ only; Oct 10 09:00 A 保険
  P7 (female, ホームページ)  Nov 1 00:05 A 保険
Prices: 保険 co-pay ¥500 + claim ¥1,000 (10 hands-on + 10 machine minutes); 骨盤矯正
¥4,400 self-pay (20 + 10); the ticket visit ¥4,000 by 回数券; EMS ¥2,000 self-pay (0 + 20).
Ad spend: ホームページ ¥20,000 in September and ¥30,000 in October.

Bookings (B#: patient, start, made, status):
  B0  P1 Oct 5 10:00, made Sep 28 12:00, completed (the Oct 5 visit)
  B1  P1 Oct 12 10:00, made Oct 5 11:00, completed
  B2  P1 Oct 19 10:00, made Oct 12 10:30, completed
  B3  P1 Oct 26 10:00, made Oct 19 12:00, cancelled Oct 22 09:00 by the patient
  B12 P1 Nov 9 10:00, made Oct 19 12:00, cancelled Nov 1 10:00 by staff
  B4  P3 Oct 30 11:00, made Oct 21 09:00, completed
  B5  P3 Nov 6 11:00, made Oct 25 15:00, no-show
  B6  P2 Oct 8 16:00, made Oct 1 10:00, completed, nominated B
  B7  P2 Oct 15 16:00, made Oct 8 17:00, declined
  B10 P2 Oct 22 10:00, made Oct 15 10:00, no-show
  B8  P4 Nov 20 10:00, made Oct 31 23:45, completed
  B9  P6 Oct 17 09:00, made Oct 10 09:30, cancelled Oct 10 18:00 by the patient
  B11 P5 Oct 9 10:00, made Oct 3 10:00, expired

Calls: C1 missed Oct 14 10:00 from P2's number (P2 then booked B10 on Oct 15);
  C2 abandoned Oct 6 12:00 from an unknown number; C3 callback asked Oct 7 10:00 by P1,
  followed up Oct 7 15:00; C4 request made Oct 9; C5 transferred Oct 9; C6 information
  Oct 10; C7 missed Sep 30 23:50 (September); C8 missed Oct 28 from P6's number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from backend.models import (
    Booking,
    BookingStatus,
    CallLog,
    CallOutcome,
    Clinic,
    Course,
    Gender,
    Media,
    MediaSpend,
    Party,
    Patient,
    PaymentKind,
    Source,
    Staff,
    Visit,
)
from tests.factories import NOW, jst, make_bed, make_clinic, make_course, make_patient, make_staff


@dataclass(frozen=True)
class Ledger:
    """The ids the tests look rows up by."""

    clinic_id: int
    staff_a: int
    staff_b: int
    insurance: int
    pelvis: int
    ems: int
    homepage: int
    referral: int
    patients: dict[str, int]


@dataclass
class _Builder:
    session: Session
    clinic: Clinic
    bed_id: int
    courses: dict[str, Course]
    staff: dict[str, Staff]

    def visit(
        self,
        patient: Patient,
        at: datetime,
        course: str,
        staff: str | None,
        *,
        booking: Booking | None = None,
        ticket: bool = False,
    ) -> None:
        chosen = self.courses[course]
        insurance = chosen.payment_kind == PaymentKind.INSURANCE
        self.session.add(
            Visit(
                clinic_id=self.clinic.id,
                patient_id=patient.id,
                booking_id=booking.id if booking else None,
                staff_id=self.staff[staff].id if staff else None,
                course_id=chosen.id,
                visited_at=at,
                staff_minutes=chosen.staff_minutes,
                machine_minutes=chosen.machine_minutes,
                copay_yen=chosen.price_yen if insurance else 0,
                claim_yen=chosen.insurance_claim_yen if insurance else 0,
                self_pay_yen=0 if insurance or ticket else chosen.price_yen,
                ticket_yen=4000 if ticket else 0,
                created_at=at,
                updated_at=at,
            )
        )

    def booking(
        self,
        patient: Patient,
        starts_at: datetime,
        made: datetime,
        status: BookingStatus,
        *,
        course: str = "保険",
        staff: str = "A",
        nominated: bool = False,
        cancelled_at: datetime | None = None,
        cancelled_by: Party | None = None,
    ) -> Booking:
        chosen = self.courses[course]
        row = Booking(
            clinic_id=self.clinic.id,
            patient_id=patient.id,
            course_id=chosen.id,
            staff_id=self.staff[staff].id,
            nominated=nominated,
            bed_id=self.bed_id,
            starts_at=starts_at,
            staff_ends_at=starts_at + timedelta(minutes=chosen.staff_minutes),
            ends_at=starts_at + timedelta(minutes=chosen.minutes),
            source=Source.LINE,
            status=status,
            cancelled_at=cancelled_at,
            cancelled_by=cancelled_by,
            created_at=made,
            updated_at=cancelled_at or made,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def call(
        self,
        sid: str,
        outcome: CallOutcome,
        at: datetime,
        *,
        number: str = "+819099999999",
        patient: Patient | None = None,
        followed_up_at: datetime | None = None,
    ) -> None:
        self.session.add(
            CallLog(
                clinic_id=self.clinic.id,
                call_sid=sid,
                from_number=number,
                to_number="+81312345678",
                patient_id=patient.id if patient else None,
                outcome=outcome,
                started_at=at,
                followed_up_at=followed_up_at,
            )
        )


def build(session: Session) -> Ledger:
    """Write the clinic described above and return its ids."""
    clinic = make_clinic(session, hours=False)
    builder = _Builder(
        session,
        clinic,
        make_bed(session, clinic).id,
        _courses(session, clinic),
        {
            "A": make_staff(session, clinic, shifts=False, name="山田 太郎"),
            "B": make_staff(session, clinic, shifts=False, name="鈴木 花子"),
        },
    )
    homepage = _media(session, clinic, "ホームページ", 1)
    referral = _media(session, clinic, "紹介", 2)
    session.add_all(
        [
            MediaSpend(
                clinic_id=clinic.id,
                media_id=homepage.id,
                month_on=date(2026, 9, 1),
                amount_yen=20_000,
            ),
            MediaSpend(
                clinic_id=clinic.id,
                media_id=homepage.id,
                month_on=date(2026, 10, 1),
                amount_yen=30_000,
            ),
        ]
    )
    people = _patients(session, clinic, homepage=homepage, referral=referral)
    _history(builder, people)
    _calls(builder, people)
    session.flush()
    return Ledger(
        clinic_id=clinic.id,
        staff_a=builder.staff["A"].id,
        staff_b=builder.staff["B"].id,
        insurance=builder.courses["保険"].id,
        pelvis=builder.courses["骨盤矯正"].id,
        ems=builder.courses["EMS"].id,
        homepage=homepage.id,
        referral=referral.id,
        patients={name: patient.id for name, patient in people.items()},
    )


def _courses(session: Session, clinic: Clinic) -> dict[str, Course]:
    return {
        "保険": make_course(
            session,
            clinic,
            name="保険施術",
            staff_minutes=10,
            machine_minutes=10,
            price_yen=500,
            insurance_claim_yen=1000,
            payment_kind=PaymentKind.INSURANCE,
            sort_order=1,
        ),
        "骨盤矯正": make_course(session, clinic, sort_order=2),
        "EMS": make_course(
            session,
            clinic,
            name="EMS",
            staff_minutes=0,
            machine_minutes=20,
            price_yen=2000,
            sort_order=3,
        ),
    }


def _media(session: Session, clinic: Clinic, name: str, order: int) -> Media:
    media = Media(clinic_id=clinic.id, name=name, sort_order=order)
    session.add(media)
    session.flush()
    return media


def _patients(
    session: Session, clinic: Clinic, *, homepage: Media, referral: Media
) -> dict[str, Patient]:
    specs = {
        "P1": (Gender.FEMALE, homepage, "+819000000001", None),
        "P2": (Gender.MALE, referral, "+819011111111", None),
        "P3": (Gender.FEMALE, homepage, "+819000000003", None),
        "P4": (Gender.MALE, homepage, "+819000000004", None),
        "P5": (Gender.UNKNOWN, referral, "+819000000005", None),
        "P6": (Gender.FEMALE, None, "+819000000006", date(2026, 10, 2)),
        "P7": (Gender.FEMALE, homepage, "+819000000007", None),
    }
    return {
        name: make_patient(
            session,
            clinic,
            name=f"患者 {name}",
            gender=gender,
            media_id=media.id if media else None,
            phone=phone,
            first_visit_on=first_on,
        )
        for name, (gender, media, phone, first_on) in specs.items()
    }


def _history(b: _Builder, p: dict[str, Patient]) -> None:
    done, cancelled = BookingStatus.COMPLETED, BookingStatus.CANCELLED
    b0 = b.booking(p["P1"], jst(2026, 10, 5, 10), jst(2026, 9, 28, 12), done)
    b1 = b.booking(p["P1"], jst(2026, 10, 12, 10), jst(2026, 10, 5, 11), done)
    b2 = b.booking(p["P1"], jst(2026, 10, 19, 10), jst(2026, 10, 12, 10, 30), done)
    b.booking(
        p["P1"], jst(2026, 10, 26, 10), jst(2026, 10, 19, 12), cancelled,
        cancelled_at=jst(2026, 10, 22, 9), cancelled_by=Party.PATIENT,
    )  # fmt: skip
    b.booking(
        p["P1"], jst(2026, 11, 9, 10), jst(2026, 10, 19, 12), cancelled,
        cancelled_at=jst(2026, 11, 1, 10), cancelled_by=Party.STAFF,
    )  # fmt: skip
    b4 = b.booking(p["P3"], jst(2026, 10, 30, 11), jst(2026, 10, 21, 9), done, course="骨盤矯正")
    b.booking(p["P3"], jst(2026, 11, 6, 11), jst(2026, 10, 25, 15), BookingStatus.NO_SHOW)
    b6 = b.booking(
        p["P2"], jst(2026, 10, 8, 16), jst(2026, 10, 1, 10), done,
        course="骨盤矯正", staff="B", nominated=True,
    )  # fmt: skip
    b.booking(p["P2"], jst(2026, 10, 15, 16), jst(2026, 10, 8, 17), BookingStatus.DECLINED)
    b.booking(p["P2"], jst(2026, 10, 22, 10), jst(2026, 10, 15, 10), BookingStatus.NO_SHOW)
    b8 = b.booking(p["P4"], jst(2026, 11, 20, 10), jst(2026, 10, 31, 23, 45), done)
    b.booking(
        p["P6"], jst(2026, 10, 17, 9), jst(2026, 10, 10, 9, 30), cancelled,
        cancelled_at=jst(2026, 10, 10, 18), cancelled_by=Party.PATIENT,
    )  # fmt: skip
    b.booking(p["P5"], jst(2026, 10, 9, 10), jst(2026, 10, 3, 10), BookingStatus.EXPIRED)

    b.visit(p["P1"], jst(2026, 9, 10, 10), "保険", "A")
    b.visit(p["P1"], jst(2026, 10, 5, 10), "保険", "A", booking=b0)
    b.visit(p["P1"], jst(2026, 10, 12, 10), "保険", "A", booking=b1)
    b.visit(p["P1"], jst(2026, 10, 19, 10), "保険", "A", booking=b2)
    b.visit(p["P2"], jst(2026, 7, 3, 16), "骨盤矯正", "B")
    b.visit(p["P2"], jst(2026, 10, 8, 16), "骨盤矯正", "B", booking=b6)
    b.visit(p["P3"], jst(2026, 10, 20, 11), "骨盤矯正", "B")
    b.visit(p["P3"], jst(2026, 10, 30, 11), "骨盤矯正", "B", booking=b4, ticket=True)
    b.visit(p["P4"], jst(2026, 10, 31, 23, 30), "保険", "A")
    b.visit(p["P4"], jst(2026, 11, 20, 10), "保険", "A", booking=b8)
    b.visit(p["P5"], jst(2026, 10, 1, 0, 10), "EMS", None)
    b.visit(p["P6"], jst(2026, 10, 10, 9), "保険", "A")
    b.visit(p["P7"], jst(2026, 11, 1, 0, 5), "保険", "A")


def _calls(b: _Builder, p: dict[str, Patient]) -> None:
    b.call("C1", CallOutcome.MISSED, jst(2026, 10, 14, 10), number="+819011111111")
    b.call("C2", CallOutcome.ABANDONED, jst(2026, 10, 6, 12))
    b.call(
        "C3", CallOutcome.CALLBACK_REQUESTED, jst(2026, 10, 7, 10),
        number="+819000000001", patient=p["P1"], followed_up_at=jst(2026, 10, 7, 15),
    )  # fmt: skip
    b.call("C4", CallOutcome.REQUEST_MADE, jst(2026, 10, 9, 11))
    b.call("C5", CallOutcome.TRANSFERRED, jst(2026, 10, 9, 12))
    b.call("C6", CallOutcome.INFORMATION, jst(2026, 10, 10, 12))
    b.call("C7", CallOutcome.MISSED, jst(2026, 9, 30, 23, 50))
    b.call("C8", CallOutcome.MISSED, jst(2026, 10, 28, 10), number="+819000000006")


__all__ = ["NOW", "Ledger", "build"]
