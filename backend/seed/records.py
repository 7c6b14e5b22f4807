"""施術録 text: injuries (負傷日・原因・部位), symptoms, treatment and progress, in Japanese."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from backend.models import Outcome


@dataclass(frozen=True)
class Injury:
    """A kind of injury an insurance case starts with (kept in the 施術録, never in カルテ tags)."""

    part: str
    cause: str
    symptoms: str


INJURIES = (
    Injury("腰部", "自宅で重い荷物を持ち上げた際に捻った", "前屈・起き上がり時の腰部痛"),
    Injury("腰部", "ゴルフのスイング中に痛めた", "体幹回旋時の腰部痛"),
    Injury("背部", "子どもを抱き上げた際に痛めた", "前屈時の背部痛、筋緊張"),
    Injury("頸部", "起床時に首が回らなくなった（寝違え）", "右回旋時の頸部痛"),
    Injury("右肩関節", "テニスのサーブ時に痛めた", "挙上時痛、夜間痛"),
    Injury("左肩関節", "棚の上の物を取ろうとして痛めた", "外転時痛、結帯動作困難"),
    Injury("右足関節", "駅の階段を踏み外して内側に捻った", "歩行時痛、外果周囲の腫脹"),
    Injury("左膝関節", "フットサル中に接触して捻った", "階段昇降時の膝内側の痛み"),
    Injury("右膝関節", "ランニング中に違和感、徐々に悪化", "屈伸時の膝外側の痛み"),
    Injury("左下腿部", "ダッシュの際にふくらはぎを痛めた", "つま先立ち時の痛み、圧痛"),
    Injury("右手関節", "自転車で転倒し手をついた", "背屈時痛、握力低下"),
    Injury("左大腿部", "サッカーのシュート時に太もも裏を痛めた", "伸展時痛"),
)  # fmt: skip
INSURANCE_TREATMENTS = (
    "手技療法、干渉波10分、温罨法",
    "手技療法、低周波10分、冷罨法",
    "手技療法、テーピング固定",
    "手技療法、干渉波10分、ストレッチ指導",
    "手技療法、超音波5分、温罨法",
)
INSURANCE_PROGRESS = (
    ("初検。負傷部位の安静と冷却を指導", "初検。日常生活での注意点を説明"),
    ("疼痛やや軽減", "腫脹軽減、動作時痛残存", "前回より動きやすいとのこと"),
    ("可動域改善", "日常生活動作での痛みは軽度", "圧痛軽減"),
    ("疼痛ほぼ消失、運動時のみ違和感", "経過良好", "可動域ほぼ正常"),
)
CLOSING_PROGRESS = {
    (True, Outcome.CURED): "疼痛消失、日常生活に支障なし。治癒",
    (True, Outcome.TRANSFERRED): "改善が乏しいため整形外科を紹介し転医",
    (False, Outcome.CURED): "目標の状態に達したため終了。セルフケアを継続",
}


@dataclass(frozen=True)
class SelfPayNotes:
    """The 施術録 wording of one self-pay course."""

    symptoms: tuple[str, ...]
    treatment: tuple[str, ...]
    progress: tuple[str, ...]


SELF_PAY = {
    "pelvis": SelfPayNotes(
        ("骨盤周りの違和感、姿勢の崩れ", "産後の骨盤の開き感", "反り腰、腰の重だるさ"),
        ("骨盤矯正、骨格調整", "骨盤矯正、ストレッチ指導", "骨盤矯正、体幹トレーニング指導"),
        ("左右差改善", "姿勢良好", "前回より立ち姿勢が安定", "腰の重さ軽減とのこと"),
    ),
    "acupuncture": SelfPayNotes(
        ("慢性的な肩こり、眼精疲労", "冷え、睡眠の質の低下", "首から背中の張り感"),
        ("鍼（肩井・風池）、温灸", "鍼（腎兪・大腸兪）、低周波鍼通電", "鍼（合谷・足三里）"),
        ("張り感軽減", "よく眠れたとのこと", "肩の可動域改善", "経過良好"),
    ),
    "massage": SelfPayNotes(
        ("全身の疲労感、肩背部の張り", "デスクワークによる首肩の張り", "脚のむくみとだるさ"),
        (
            "全身もみほぐし60分",
            "全身もみほぐし60分（肩背部重点）",
            "全身もみほぐし60分（下肢重点）",
        ),
        ("リラックスできたとのこと", "張り感軽減", "前回より張りが少ない"),
    ),
    "ems": SelfPayNotes(
        ("体幹の筋力低下", "姿勢維持の筋力不足"),
        ("EMS（楽トレ）30分", "EMS（楽トレ）30分、腹部・臀部"),
        ("腹部の引き締まりを実感", "継続中", "姿勢が楽になったとのこと"),
    ),
}


@dataclass(frozen=True)
class Case:
    """One insurance case: what was injured, how and when."""

    injury: Injury
    injured_on: date


def new_case(rng: random.Random, first_visit: date) -> Case:
    """An injury from the last few days before the first visit for it."""
    injured_on = first_visit - timedelta(days=rng.choice((0, 1, 1, 2, 3, 5, 7)))
    return Case(rng.choice(INJURIES), injured_on)


def _stage(number: int) -> int:
    """Which part of a case a visit number falls in: 0 first, 1 early, 2 middle, 3 late."""
    return 0 if number == 1 else 1 if number <= 3 else 2 if number <= 8 else 3


def insurance_record(rng: random.Random, case: Case, number: int) -> dict[str, object]:
    """The 施術録 fields of the `number`-th visit of an insurance case."""
    return {
        "injury_on": case.injured_on,
        "injury_cause": case.injury.cause,
        "injury_part": case.injury.part,
        "symptoms": case.injury.symptoms if number == 1 else None,
        "treatment": rng.choice(INSURANCE_TREATMENTS),
        "progress": rng.choice(INSURANCE_PROGRESS[_stage(number)]),
    }


def self_pay_record(rng: random.Random, course_key: str, number: int) -> dict[str, object]:
    """The 施術録 fields of a self-pay visit: no injury, the reason and how it went."""
    notes = SELF_PAY[course_key]
    return {
        "injury_on": None,
        "injury_cause": None,
        "injury_part": None,
        "symptoms": rng.choice(notes.symptoms) if number == 1 else None,
        "treatment": rng.choice(notes.treatment),
        "progress": "初回。施術内容と通院ペースを説明"
        if number == 1
        else rng.choice(notes.progress),
    }


def closing_progress(outcome: Outcome, *, insurance: bool) -> str | None:
    """The progress note written on the visit that closes a case, if the outcome has one."""
    return CLOSING_PROGRESS.get((insurance, outcome))
