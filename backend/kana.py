"""フリガナ as the カルテ keeps it: full-width katakana, words one ASCII space apart.

Pure text functions, no database. Use it as `from backend import kana` then
`kana.normalize(text)`.
"""

from __future__ import annotations

import unicodedata

# ぁ-ゖ and the iteration marks ゝゞ sit exactly 0x60 below ァ-ヶ and ヽヾ; ー is shared.
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in (*range(0x3041, 0x3097), 0x309D, 0x309E)}
# NFKC turns a typed ゛ or ゜ into a space and a combining mark that joins nothing (ハ゛ would
# become "ハ ゙"); as the combining marks themselves they join the kana before them (バ).
_SPACING_SOUND_MARKS = {0x309B: 0x3099, 0x309C: 0x309A}


def normalize(text: str) -> str:
    """Full-width katakana: NFKC (half-width kana widened), hiragana as katakana, each run of
    whitespace (U+3000 too) as one space, stripped. Kanji and latin letters stay, width-folded."""
    text = unicodedata.normalize("NFKC", text.translate(_SPACING_SOUND_MARKS))
    return " ".join(text.translate(_HIRAGANA_TO_KATAKANA).split())
