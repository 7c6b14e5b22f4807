"""The demo clinic's fixed setup: opening hours, staff with their shifts, beds and courses."""

from __future__ import annotations

from dataclasses import dataclass

from backend.models import StaffRole

ZONE = "Asia/Tokyo"
MORNING = (9 * 60, 12 * 60)
EVENING = (15 * 60, 20 * 60)
SATURDAY = (9 * 60, 14 * 60)
FULL_DAY = (MORNING, EVENING)
EVENING_ONLY = (EVENING,)
# Mon–Fri 9–12 and 15–20, Sat 9–14; Sunday and public holidays closed.
OPENING: dict[int, tuple[tuple[int, int], ...]] = dict.fromkeys(range(5), FULL_DAY) | {
    5: (SATURDAY,)
}

Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class StaffSpec:
    """A staff member; `retention` scales how often their first-visit patients come back."""

    name: str
    kana: str
    role: StaffRole
    shifts: dict[int, Ranges]
    retention: float = 1.0

    @property
    def treats(self) -> bool:
        """Whether the staff member treats patients (the receptionist does not)."""
        return self.role != StaffRole.RECEPTION


@dataclass(frozen=True)
class BedSpec:
    """A treatment place; `kind` lets courses prefer a bed, the private room or the machines."""

    name: str
    capacity: int
    kind: str


@dataclass(frozen=True)
class CourseSpec:
    """A menu item; `first_price_yen` is the 初回割引 price a first self-pay visit pays."""

    key: str
    name: str
    staff_minutes: int
    machine_minutes: int
    price_yen: int
    revisit_days: int
    beds: tuple[str, ...]
    claim_yen: int = 0
    insurance: bool = False
    for_first_visit: bool = False
    first_price_yen: int | None = None

    @property
    def minutes(self) -> int:
        """Total time on the bed."""
        return self.staff_minutes + self.machine_minutes


STAFF = (
    StaffSpec(
        "佐藤 健一",
        "サトウ ケンイチ",
        StaffRole.OWNER,
        {0: FULL_DAY, 1: FULL_DAY, 2: FULL_DAY, 4: FULL_DAY, 5: (SATURDAY,)},
        retention=0.75,
    ),
    StaffSpec(
        "高橋 美咲",
        "タカハシ ミサキ",
        StaffRole.PRACTITIONER,
        {0: FULL_DAY, 1: FULL_DAY, 3: FULL_DAY, 4: FULL_DAY, 5: (SATURDAY,)},
        retention=0.95,
    ),
    StaffSpec(
        "田中 翔太",
        "タナカ ショウタ",
        StaffRole.PRACTITIONER,
        {0: EVENING_ONLY, 1: FULL_DAY, 2: FULL_DAY, 3: FULL_DAY, 5: (SATURDAY,)},
        retention=1.4,
    ),
    StaffSpec(
        "小林 由衣",
        "コバヤシ ユイ",
        StaffRole.PRACTITIONER,
        {0: EVENING_ONLY, 2: EVENING_ONLY, 3: EVENING_ONLY, 4: EVENING_ONLY, 5: (SATURDAY,)},
        retention=1.15,
    ),
    # The booking engine offers every staff member with a shift for treatments, so the
    # receptionist gets no shift rows.
    StaffSpec("中村 さやか", "ナカムラ サヤカ", StaffRole.RECEPTION, {}),
)
BEDS = (
    BedSpec("ベッド1", 1, "bed"),
    BedSpec("ベッド2", 1, "bed"),
    BedSpec("ベッド3", 1, "bed"),
    BedSpec("ベッド4", 1, "bed"),
    BedSpec("個室（鍼灸）", 1, "room"),
    BedSpec("物療エリア", 3, "machine"),
)
COURSES = (
    CourseSpec(
        "first", "初診（検査・施術）", 30, 10, 1_500, 2, ("bed",),
        claim_yen=3_300, insurance=True, for_first_visit=True,
    ),
    CourseSpec(
        "insurance", "保険施術", 10, 10, 600, 3, ("machine", "bed"),
        claim_yen=1_400, insurance=True,
    ),
    CourseSpec("pelvis", "骨盤矯正", 30, 0, 4_400, 7, ("bed", "room"), first_price_yen=2_980),
    CourseSpec("acupuncture", "鍼灸", 40, 0, 5_500, 7, ("room", "bed"), first_price_yen=3_300),
    CourseSpec(
        "massage", "全身もみほぐし 60分", 60, 0, 6_000, 14, ("bed", "room"),
        first_price_yen=3_980,
    ),
    CourseSpec("ems", "EMS（楽トレ）", 0, 30, 2_200, 7, ("machine",), first_price_yen=1_100),
)  # fmt: skip
