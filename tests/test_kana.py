"""フリガナ as stored: full-width katakana whatever was typed, in the domain and the migration."""

from __future__ import annotations

from types import ModuleType

import pytest
from alembic.script import ScriptDirectory

from backend import kana, migrate

MIGRATION = "acd78d8fb329"

STORED = [
    ("さとう はなこ", "サトウ ハナコ"),
    ("ｻﾄｳ ﾊﾅｺ", "サトウ ハナコ"),
    ("ﾀﾞﾅｶ ﾊﾟﾝ", "ダナカ パン"),
    ("サトウ ハナコ", "サトウ ハナコ"),
    ("さトウ ﾊなコ", "サトウ ハナコ"),
    ("サトウ　ハナコ", "サトウ ハナコ"),
    ("  さとう 　\t はなこ\n", "サトウ ハナコ"),
    ("さとう　　　はなこ", "サトウ ハナコ"),
    ("", ""),
    ("　 \t", ""),
    ("佐藤 はなこ", "佐藤 ハナコ"),
    ("Ｓｍｉｔｈ じょん", "Smith ジョン"),
    ("smith", "smith"),
    ("らーめん ｺｰﾋｰ", "ラーメン コーヒー"),
    ("ぁぃぅぇぉっゃゅょゎ", "ァィゥェォッャュョヮ"),
    ("ｧｨｩｪｫｯｬｭｮ", "ァィゥェォッャュョ"),
    ("ゔ ゕ ゖ を", "ヴ ヵ ヶ ヲ"),
    ("いすゞ さゝき", "イスヾ サヽキ"),
    ("は゛な ハ゜ン", "バナ パン"),
    ("か\u3099", "ガ"),
    ("やまだ・はなこ", "ヤマダ・ハナコ"),
    ("㌔", "キロ"),
]


@pytest.fixture(scope="module")
def migration() -> ModuleType:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    revision = script.get_revision(MIGRATION)
    assert revision is not None
    return revision.module


@pytest.mark.parametrize(("typed", "stored"), STORED)
def test_kana_is_stored_as_full_width_katakana(typed: str, stored: str) -> None:
    assert kana.normalize(typed) == stored


@pytest.mark.parametrize(("typed", "stored"), STORED)
def test_the_migration_rewrites_kana_by_the_same_rules(
    migration: ModuleType, typed: str, stored: str
) -> None:
    assert migration._normalize(typed) == stored


def test_normalising_twice_changes_nothing() -> None:
    for _, stored in STORED:
        assert kana.normalize(stored) == stored
