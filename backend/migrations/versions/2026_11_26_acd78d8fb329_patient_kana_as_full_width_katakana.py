"""patient kana as full-width katakana

Rewrites every patient's フリガナ the way backend.kana.normalize now stores it: NFKC
(half-width kana widened), hiragana as katakana, whitespace runs as one space, blank as
NULL. Downgrade does nothing: the spelling as typed is not kept, so it cannot be restored.

Revision ID: acd78d8fb329
Revises: e4f6a8b0c2d1
Create Date: 2026-11-26 18:35:00.000000
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "acd78d8fb329"
down_revision: str | None = "e4f6a8b0c2d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
KANA_LENGTH = 100

# A copy of backend.kana.normalize as it was when this ran: the application's may change.
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in (*range(0x3041, 0x3097), 0x309D, 0x309E)}
_SPACING_SOUND_MARKS = {0x309B: 0x3099, 0x309C: 0x309A}

_patient = sa.table("patient", sa.column("id", sa.Integer), sa.column("kana", sa.String))


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.translate(_SPACING_SOUND_MARKS))
    return " ".join(text.translate(_HIRAGANA_TO_KATAKANA).split())


def _rewritten(kana: str) -> str | None:
    reading = _normalize(kana)
    # A reading NFKC lengthened past the column (㌔ is キロ) keeps its old spelling.
    return kana if len(reading) > KANA_LENGTH else reading or None


def upgrade() -> None:
    connection = op.get_bind()
    select = (
        sa.select(_patient.c.id, _patient.c.kana)
        .where(_patient.c.kana.is_not(None), _patient.c.id > sa.bindparam("after"))
        .order_by(_patient.c.id)
        .limit(BATCH)
    )
    update = (
        sa.update(_patient)
        .where(_patient.c.id == sa.bindparam("row_id"))
        .values(kana=sa.bindparam("reading"))
    )
    after = 0
    while rows := connection.execute(select, {"after": after}).all():
        changes = [
            {"row_id": row.id, "reading": reading}
            for row in rows
            if (reading := _rewritten(row.kana)) != row.kana
        ]
        if changes:
            connection.execute(update, changes)
        after = rows[-1].id


def downgrade() -> None:
    pass  # the original spelling is not kept: nothing to restore
