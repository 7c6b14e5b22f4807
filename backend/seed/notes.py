"""What staff learn in conversation (家族構成・職業・趣味・好きなもの・前回の会話), by life stage.

None of these phrases mention symptoms or treatment: the カルテ's patient fields are read at
the front desk and feed campaigns, so health data stays in the 施術録 (visits).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

STUDENT_JOBS = ("高校生", "大学生", "専門学校生", "大学生（体育会陸上部）", "高校生（吹奏楽部）")
WORKING_JOBS = (
    "会社員（営業）",
    "会社員（IT、在宅勤務が多い）",
    "看護師（夜勤あり）",
    "保育士",
    "美容師",
    "事務職",
    "配送ドライバー",
    "建設業",
    "介護職",
    "小学校教諭",
    "薬局勤務",
    "デザイナー",
    "飲食店経営",
    "公務員（区役所）",
    "エンジニア",
    "パート（スーパー）",
    "主婦",
    "自営業（カフェ）",
    "銀行員",
    "タクシー運転手",
)
SENIOR_JOBS = (
    "年金生活",
    "元教員、自治会の役員",
    "シルバー人材センターで勤務",
    "週3回パート",
    "自営業（酒店）",
    "主婦",
)
# Jobs whose hours keep a patient to evenings and Saturdays.
DESK_JOBS = frozenset((*WORKING_JOBS[:2], *WORKING_JOBS[5:8], *WORKING_JOBS[13:15], "銀行員"))

YOUNG_FAMILIES = ("両親と弟の4人家族", "実家暮らし", "一人暮らし（進学で上京）", "両親と祖母と同居")
ADULT_FAMILIES = (
    "一人暮らし",
    "夫婦二人暮らし",
    "夫と小学生の娘2人",
    "妻と保育園児の息子",
    "共働き、子ども3人",
    "妻と高校生の娘",
    "実家で両親と同居",
    "猫と二人暮らし",
    "夫と中学生の息子",
)
YOUNG_MOTHER_FAMILIES = ("夫と0歳の娘", "夫と1歳の息子", "第二子が生後6か月", "夫と2歳の双子")
SENIOR_FAMILIES = (
    "夫と二人暮らし",
    "妻と二人暮らし",
    "一人暮らし、長男が週末に来る",
    "孫が3人、近所に長女一家",
    "妻と愛犬と暮らす",
    "長男夫婦と同居",
)
HOBBIES = (
    "ゴルフ",
    "ランニング（フルマラソン完走）",
    "ヨガ",
    "テニス",
    "家庭菜園",
    "釣り",
    "カメラ",
    "ピアノ",
    "登山",
    "サッカー観戦（FC東京）",
    "野球観戦（ヤクルト）",
    "料理",
    "読書",
    "旅行",
    "韓国ドラマ",
    "ゲーム",
    "手芸",
    "社交ダンス",
    "カラオケ",
    "水泳",
    "ボルダリング",
    "キャンプ",
    "書道",
    "フットサル",
)
SPORTS = frozenset(
    ("ゴルフ", "ランニング（フルマラソン完走）", "テニス", "登山", "水泳", "ボルダリング")
).union(("フットサル", "社交ダンス", "ヨガ"))
LIKES = (
    "甘いもの（特にどら焼き）",
    "コーヒー",
    "ラーメン",
    "猫",
    "犬（トイプードルを飼っている）",
    "日本酒",
    "温泉",
    "お寿司",
    "チョコレート",
    "韓国料理",
    "パン屋めぐり",
    "宝塚",
    "落語",
    "相撲観戦",
    "抹茶スイーツ",
    "ビール",
)
CONVERSATIONS = (
    "週末に家族で箱根へ旅行予定",
    "お子さんの受験が無事終わったとのこと",
    "新しい部署に異動して忙しい",
    "マラソン大会に向けて練習中",
    "お孫さんの運動会を見に行った",
    "駅前の新しいパン屋がおいしいと",
    "在宅勤務が増えたとのこと",
    "愛犬の散歩が日課",
    "来月から仕事が繁忙期",
    "ゴルフのスコアが100を切った",
    "引っ越しを検討中",
    "家庭菜園でトマトがたくさん採れた",
    "年末は帰省する予定",
    "子どもの習い事の送迎で忙しい",
    "三茶の夏祭りに行った",
    "資格試験の勉強中",
    "キャンプ道具を新調した",
    "職場の健康診断が終わったと",
)


@dataclass(frozen=True)
class Notes:
    """The conversation notes of one カルテ; None where staff have not learnt it yet."""

    family: str | None
    job: str | None
    hobbies: str | None
    likes: str | None


def job_for(rng: random.Random, age: int) -> str:
    """A job that fits the age."""
    if age < 23:
        return rng.choice(STUDENT_JOBS)
    if age >= 66:
        return rng.choice(SENIOR_JOBS)
    return rng.choice(WORKING_JOBS)


def family_for(rng: random.Random, age: int, female: bool) -> str:
    """A household that fits the age (young mothers get a baby: 産後 patients)."""
    if age < 23:
        return rng.choice(YOUNG_FAMILIES)
    if age >= 66:
        return rng.choice(SENIOR_FAMILIES)
    if female and age <= 40 and rng.random() < 0.3:
        return rng.choice(YOUNG_MOTHER_FAMILIES)
    return rng.choice(ADULT_FAMILIES)


def hobbies_for(rng: random.Random) -> str:
    """One or two hobbies."""
    return "、".join(rng.sample(HOBBIES, rng.choice((1, 1, 2))))


def notes_for(rng: random.Random, *, job: str, family: str, hobbies: str, detail: float) -> Notes:
    """Conversation notes; `detail` (0..1) is how much staff have written down so far."""

    def maybe(value: str) -> str | None:
        return value if rng.random() < detail else None

    return Notes(
        family=maybe(family),
        job=maybe(job),
        hobbies=maybe(hobbies),
        likes=maybe(rng.choice(LIKES)),
    )


def conversation(rng: random.Random) -> str:
    """What was talked about at the last visit."""
    return rng.choice(CONVERSATIONS)


def is_young_mother(family: str) -> bool:
    """Whether the household has a baby (the 産後 segment)."""
    return family in YOUNG_MOTHER_FAMILIES


def plays_sport(hobbies: str) -> bool:
    """Whether any hobby is a sport (the スポーツ segment)."""
    return any(part in SPORTS for part in hobbies.split("、"))
