"""The commented example set-up file `uketsuke clinic init` writes: a typical 整骨院, with
what each key means in Japanese for the clinic's staff."""

from __future__ import annotations

from datetime import date, timedelta


def example(today: date) -> str:
    """The commented example file for a typical 整骨院, its 年末年始 in `today`'s year (the
    days of it still to come: `apply` refuses a past closed day)."""
    year_end = [date(today.year, 12, 29) + timedelta(days=n) for n in range(6)]
    closed = "\n".join(
        f'[[closed_days]]\ndate = {day.isoformat()}\nreason = "年末年始"\n'
        for day in year_end
        if day >= today
    )
    return EXAMPLE.replace("{year}", str(today.year)).replace("{closed_days}", closed)


EXAMPLE = """\
# uketsuke 院の設定ファイル
#
# このファイルを編集して、次のコマンドで反映します:
#     uketsuke clinic apply clinic.toml
# 反映する前にファイル全体を確認し、間違いがあれば場所（例: courses[2].price_yen）を示して
# 何も変更しません。同じファイルを何度反映しても結果は同じです。
# いまの設定は `uketsuke clinic show > clinic.toml` で取り出せます（編集して apply で戻せます）。
#
# - メニュー・スタッフ・ベッド・来院経路は「名前」で照合します。名前を変えると新しく作られ、
#   ファイルから消したものは「使用停止」になります（過去の予約・施術録はそのまま残ります）。
# - 診療時間・スタッフの勤務時間は、このファイルの内容に置き換わります。
# - 休診日は今日以降の分だけがこのファイルの内容に置き換わります。過ぎた休診日は記録として
#   そのまま残ります。今日より前の日付を書くと反映できません（去年のファイルを使うときは、
#   過ぎた日付を消してください。黙って無視すると、書いたつもりの休診日が抜けてしまうため）。
# - スタッフのLINE連携や個別の休みは、反映しても変わりません。
# - 時刻は 24 時間制で "09:00"、時間帯は "09:00-12:00" のように書きます。
# - 曜日: mon 月 / tue 火 / wed 水 / thu 木 / fri 金 / sat 土 / sun 日（書かない曜日は休み）。

[clinic]
name = "さくら通り整骨院"          # 院名（患者さまへのメッセージに使われます）
phone = "03-5487-0000"           # 電話番号
address = "東京都世田谷区太子堂4丁目18-7 さくら通りビル1F"
timezone = "Asia/Tokyo"          # タイムゾーン（日本ならこのまま）
slot_step_minutes = 15           # 予約時間の刻み（分、5〜120）
lead_time_minutes = 60           # 今から何分後以降の予約を受け付けるか
horizon_days = 60                # 何日先まで予約を受け付けるか（1〜400）
cancel_deadline_minutes = 180    # 患者さまが変更・キャンセルできるのは開始の何分前まで
request_hold_minutes = 1440      # 承認待ちの予約リクエストが枠を押さえておく時間（分）
auto_approve = false             # true にするとリクエストをスタッフの承認なしで確定します
holidays_closed = true           # true: 祝日は休診
line_add_url = ""                # LINE 友だち追加 URL（例: "https://lin.ee/abcdefg"）、なければ ""
quiet_start = "21:00"            # この時刻から…
quiet_end = "09:00"              # …この時刻までは、お知らせ（宣伝）のメッセージを送りません
quiet_hours_transactional = false  # true: 予約の確認・リマインドもこの時間帯は送りません
marketing_interval_days = 7      # お知らせを同じ患者さまに送る間隔（日）

# 診療時間。1日にいくつでも時間帯を書けます。
[hours]
mon = ["09:00-12:00", "15:00-20:00"]
tue = ["09:00-12:00", "15:00-20:00"]
wed = ["09:00-12:00", "15:00-20:00"]
thu = ["09:00-12:00", "15:00-20:00"]
fri = ["09:00-12:00", "15:00-20:00"]
sat = ["09:00-14:00"]
sun = []

# 休診日（年末年始・夏季休診・臨時休診）。日付は {year}-12-29 の形で、reason は省略できます。
# 今日以降の日付だけを書きます（過ぎた休診日は記録として残り、このファイルでは変わりません）。
{closed_days}
# メニュー（コース）。この順に患者さまに表示されます。
#   staff_minutes          施術者がつく時間（分）
#   machine_minutes        そのあと物療機器だけを使う時間（分、なければ 0）
#   price_yen              窓口でいただく金額（円）
#   payment                "insurance"（保険）または "self_pay"（自費）
#   insurance_claim_yen    保険者に請求する療養費（円、保険のメニューだけ）
#   revisit_interval_days  次回来院までのおすすめの間隔（日、省略できます）
#   for_first_visit        初めての方向けのメニューなら true
[[courses]]
name = "初診（検査・施術）"
staff_minutes = 30
machine_minutes = 10
price_yen = 1500
payment = "insurance"
insurance_claim_yen = 3300
revisit_interval_days = 2
for_first_visit = true

[[courses]]
name = "保険施術"
staff_minutes = 10
machine_minutes = 10
price_yen = 600
payment = "insurance"
insurance_claim_yen = 1400
revisit_interval_days = 3

[[courses]]
name = "骨盤矯正"
staff_minutes = 30
price_yen = 4400
payment = "self_pay"
revisit_interval_days = 7

[[courses]]
name = "鍼灸"
staff_minutes = 40
price_yen = 5500
payment = "self_pay"
revisit_interval_days = 7

[[courses]]
name = "EMS（楽トレ）"
staff_minutes = 0
machine_minutes = 30
price_yen = 2200
payment = "self_pay"
revisit_interval_days = 7

# スタッフ。role は "owner"（院長・オーナー）、"practitioner"（施術者）、"reception"（受付）。
# [staff.shifts] はすぐ上のスタッフの勤務時間です（書き方は診療時間と同じ）。
# 勤務時間のあるスタッフが予約の担当になります（受付は担当になりません）。
[[staff]]
name = "佐藤 健一"
kana = "サトウ ケンイチ"
role = "owner"

[staff.shifts]
mon = ["09:00-12:00", "15:00-20:00"]
tue = ["09:00-12:00", "15:00-20:00"]
wed = ["09:00-12:00", "15:00-20:00"]
fri = ["09:00-12:00", "15:00-20:00"]
sat = ["09:00-14:00"]

[[staff]]
name = "高橋 美咲"
kana = "タカハシ ミサキ"
role = "practitioner"

[staff.shifts]
mon = ["09:00-12:00", "15:00-20:00"]
tue = ["09:00-12:00", "15:00-20:00"]
thu = ["09:00-12:00", "15:00-20:00"]
fri = ["09:00-12:00", "15:00-20:00"]
sat = ["09:00-14:00"]

[[staff]]
name = "中村 さやか"
kana = "ナカムラ サヤカ"
role = "reception"

# ベッド・施術スペース。capacity は同時に使える人数です。
[[beds]]
name = "ベッド1"
capacity = 1

[[beds]]
name = "ベッド2"
capacity = 1

[[beds]]
name = "ベッド3"
capacity = 1

[[beds]]
name = "物療エリア"
capacity = 3

# 来院経路（どこで当院を知ったか）。この順に表示されます。
[media]
names = [
  "ホームページ",
  "Googleマップ",
  "チラシ",
  "看板",
  "ご紹介",
]
"""
