"""Japanese names with kana and romaji, and addresses in one ward, for demo カルテ.

Tables are written compactly as "漢字:カナ:romaji" words and parsed once at import. Earlier
entries are drawn more often, so the common surnames (佐藤, 鈴木, 高橋) dominate as they do
in a real patient list.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Name:
    """One part of a name in kanji, katakana and romaji (for e-mail addresses)."""

    kanji: str
    kana: str
    romaji: str


@dataclass(frozen=True)
class Town:
    """A 町名 of the ward with its postal code and how many 丁目 it has."""

    name: str
    postal_code: str
    chome: int


def _parse(table: str) -> tuple[Name, ...]:
    return tuple(Name(*word.split(":")) for word in table.split())


SURNAMES = _parse("""
    佐藤:サトウ:sato 鈴木:スズキ:suzuki 高橋:タカハシ:takahashi 田中:タナカ:tanaka
    伊藤:イトウ:ito 渡辺:ワタナベ:watanabe 山本:ヤマモト:yamamoto 中村:ナカムラ:nakamura
    小林:コバヤシ:kobayashi 加藤:カトウ:kato 吉田:ヨシダ:yoshida 山田:ヤマダ:yamada
    佐々木:ササキ:sasaki 山口:ヤマグチ:yamaguchi 松本:マツモト:matsumoto 井上:イノウエ:inoue
    木村:キムラ:kimura 林:ハヤシ:hayashi 斎藤:サイトウ:saito 清水:シミズ:shimizu
    山崎:ヤマザキ:yamazaki 森:モリ:mori 池田:イケダ:ikeda 橋本:ハシモト:hashimoto
    阿部:アベ:abe 石川:イシカワ:ishikawa 山下:ヤマシタ:yamashita 中島:ナカジマ:nakajima
    石井:イシイ:ishii 小川:オガワ:ogawa 前田:マエダ:maeda 岡田:オカダ:okada
    長谷川:ハセガワ:hasegawa 藤田:フジタ:fujita 後藤:ゴトウ:goto 近藤:コンドウ:kondo
    村上:ムラカミ:murakami 遠藤:エンドウ:endo 青木:アオキ:aoki 坂本:サカモト:sakamoto
    福田:フクダ:fukuda 太田:オオタ:ota 西村:ニシムラ:nishimura 藤井:フジイ:fujii
    金子:カネコ:kaneko 岡本:オカモト:okamoto 藤原:フジワラ:fujiwara 中野:ナカノ:nakano
    三浦:ミウラ:miura 原田:ハラダ:harada 中川:ナカガワ:nakagawa 松田:マツダ:matsuda
    竹内:タケウチ:takeuchi 小野:オノ:ono 田村:タムラ:tamura 中山:ナカヤマ:nakayama
    和田:ワダ:wada 石田:イシダ:ishida 森田:モリタ:morita 上田:ウエダ:ueda
    原:ハラ:hara 柴田:シバタ:shibata 酒井:サカイ:sakai 工藤:クドウ:kudo
    横山:ヨコヤマ:yokoyama 宮崎:ミヤザキ:miyazaki 宮本:ミヤモト:miyamoto 内田:ウチダ:uchida
    高木:タカギ:takagi 安藤:アンドウ:ando 島田:シマダ:shimada 谷口:タニグチ:taniguchi
    大野:オオノ:ono 丸山:マルヤマ:maruyama 今井:イマイ:imai 河野:コウノ:kono
    藤本:フジモト:fujimoto 村田:ムラタ:murata 武田:タケダ:takeda 上野:ウエノ:ueno
    杉山:スギヤマ:sugiyama 増田:マスダ:masuda 小山:コヤマ:koyama 大塚:オオツカ:otsuka
    平野:ヒラノ:hirano 菅原:スガワラ:sugawara 久保:クボ:kubo 松井:マツイ:matsui
    千葉:チバ:chiba 岩崎:イワサキ:iwasaki 桜井:サクライ:sakurai 野口:ノグチ:noguchi
""")

# Given names by gender and by birth era: names go in and out of fashion, so a 75-year-old
# 陽菜 or a 20-year-old 和子 would look wrong to anyone who works a front desk.
FEMALE_NAMES = {
    "older": _parse("""
        和子:カズコ:kazuko 洋子:ヨウコ:yoko 幸子:サチコ:sachiko 節子:セツコ:setsuko
        恵子:ケイコ:keiko 京子:キョウコ:kyoko 久美子:クミコ:kumiko 美智子:ミチコ:michiko
        悦子:エツコ:etsuko 順子:ジュンコ:junko 信子:ノブコ:nobuko 明美:アケミ:akemi
        良子:ヨシコ:yoshiko 文子:フミコ:fumiko 和代:カズヨ:kazuyo 弘子:ヒロコ:hiroko
    """),
    "middle": _parse("""
        由美子:ユミコ:yumiko 真由美:マユミ:mayumi 恵美:エミ:emi 智子:トモコ:tomoko
        裕子:ユウコ:yuko 直美:ナオミ:naomi 陽子:ヨウコ:yoko 美穂:ミホ:miho
        香織:カオリ:kaori 愛:アイ:ai 恵:メグミ:megumi 麻衣:マイ:mai
        千尋:チヒロ:chihiro 亜希子:アキコ:akiko 奈緒子:ナオコ:naoko 沙織:サオリ:saori
    """),
    "younger": _parse("""
        美咲:ミサキ:misaki 彩花:アヤカ:ayaka 結衣:ユイ:yui 陽菜:ヒナ:hina
        葵:アオイ:aoi さくら:サクラ:sakura 七海:ナナミ:nanami 美月:ミヅキ:mizuki
        遥:ハルカ:haruka 菜々子:ナナコ:nanako 真央:マオ:mao 優花:ユウカ:yuka
        莉子:リコ:riko 芽衣:メイ:mei 彩乃:アヤノ:ayano 楓:カエデ:kaede
    """),
}
MALE_NAMES = {
    "older": _parse("""
        茂:シゲル:shigeru 博:ヒロシ:hiroshi 勝:マサル:masaru 清:キヨシ:kiyoshi
        進:ススム:susumu 稔:ミノル:minoru 正:タダシ:tadashi 和夫:カズオ:kazuo
        昭:アキラ:akira 隆:タカシ:takashi 修:オサム:osamu 健二:ケンジ:kenji
        幸雄:ユキオ:yukio 武:タケシ:takeshi 義男:ヨシオ:yoshio 孝:タカシ:takashi
    """),
    "middle": _parse("""
        誠:マコト:makoto 大輔:ダイスケ:daisuke 健一:ケンイチ:kenichi 浩:ヒロシ:hiroshi
        直樹:ナオキ:naoki 哲也:テツヤ:tetsuya 剛:ツヨシ:tsuyoshi 和也:カズヤ:kazuya
        拓也:タクヤ:takuya 達也:タツヤ:tatsuya 健太:ケンタ:kenta 慎一:シンイチ:shinichi
        秀樹:ヒデキ:hideki 聡:サトシ:satoshi 亮:リョウ:ryo 雅之:マサユキ:masayuki
    """),
    "younger": _parse("""
        翔太:ショウタ:shota 大翔:ヒロト:hiroto 蓮:レン:ren 悠斗:ユウト:yuto
        陽翔:ハルト:haruto 颯太:ソウタ:sota 翔:ショウ:sho 拓海:タクミ:takumi
        大輝:ダイキ:daiki 湊:ミナト:minato 陸:リク:riku 海斗:カイト:kaito
        健太郎:ケンタロウ:kentaro 航:ワタル:wataru 駿:シュン:shun 悠真:ユウマ:yuma
    """),
}

WARD = "東京都世田谷区"
TOWNS = (
    Town("太子堂", "154-0004", 5),
    Town("三軒茶屋", "154-0024", 2),
    Town("下馬", "154-0002", 6),
    Town("上馬", "154-0011", 5),
    Town("野沢", "154-0003", 4),
    Town("駒沢", "154-0012", 5),
    Town("若林", "154-0023", 5),
    Town("池尻", "154-0001", 4),
    Town("弦巻", "154-0016", 5),
    Town("世田谷", "154-0017", 4),
    Town("三宿", "154-0005", 2),
    Town("代沢", "155-0032", 5),
)
# Patients come mostly from the blocks around the clinic (太子堂, 三軒茶屋), fewer from afar.
TOWN_WEIGHTS = (10, 8, 6, 5, 4, 3, 4, 3, 2, 2, 2, 2)
BUILDINGS = (
    "コーポさくら",
    "メゾン太子堂",
    "パークハイツ三軒茶屋",
    "グランシティ世田谷",
    "ハイツ緑が丘",
    "レジデンス茶沢通り",
    "サンライズ下馬",
    "ルミエール駒沢",
)
# Domains reserved for documentation (RFC 2606): demo data must never reach a real inbox.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


def era(birth_year: int) -> str:
    """The naming era a birth year belongs to."""
    if birth_year < 1960:
        return "older"
    return "middle" if birth_year < 1985 else "younger"


def pick(rng: random.Random, names: tuple[Name, ...]) -> Name:
    """Draw a name, favouring those listed first (the common ones)."""
    weights = [1 / (rank + 6) for rank in range(len(names))]
    return rng.choices(names, weights)[0]


def given_names(female: bool, birth_year: int) -> tuple[Name, ...]:
    """The given names that suit a gender and birth year."""
    table = FEMALE_NAMES if female else MALE_NAMES
    return table[era(birth_year)]


def address(rng: random.Random) -> tuple[str, str]:
    """A postal code and street address in the ward; some are flats with a room number."""
    town = rng.choices(TOWNS, TOWN_WEIGHTS)[0]
    chome = rng.randint(1, town.chome)
    street = f"{WARD}{town.name}{chome}丁目{rng.randint(1, 30)}-{rng.randint(1, 20)}"
    if rng.random() < 0.45:
        room = f"{rng.randint(1, 5)}0{rng.randint(1, 6)}"
        street = f"{street} {rng.choice(BUILDINGS)}{room}"
    return town.postal_code, street


def mobile_phone(rng: random.Random) -> str:
    """A Japanese mobile number in E.164 (090, 080 and 070 become +8190, +8180, +8170)."""
    prefix = rng.choices(("90", "80", "70"), (5, 4, 1))[0]
    return f"+81{prefix}{rng.randint(1000, 9999)}{rng.randint(0, 9999):04d}"


def landline(rng: random.Random) -> str:
    """A Tokyo (03) landline in E.164."""
    return f"+813{rng.randint(3000, 6999)}{rng.randint(0, 9999):04d}"


def email(rng: random.Random, surname: Name, given: Name, birth_year: int) -> str:
    """A plausible personal e-mail address on a reserved example domain."""
    styles = (
        f"{given.romaji}.{surname.romaji}",
        f"{surname.romaji}.{given.romaji}{birth_year % 100:02d}",
        f"{given.romaji}{rng.randint(1, 999)}",
        f"{surname.romaji[:4]}{given.romaji[0]}{rng.randint(10, 99)}",
    )
    return f"{rng.choice(styles)}@{rng.choice(EMAIL_DOMAINS)}"
