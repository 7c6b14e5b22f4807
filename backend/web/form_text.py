"""What staff type into the dashboard's forms, read the way a Japanese keyboard types it."""

from __future__ import annotations

import unicodedata


def yen(text: str) -> int | None:
    """An amount in whole yen: digits, full-width or half-width, with or without commas, 円
    or ¥ (「１，５００円」「¥4,400」); None for anything else, a negative amount included."""
    digits = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    digits = digits.removesuffix("円").removeprefix("¥").strip()  # NFKC made ￥ into ¥
    return int(digits) if digits.isascii() and digits.isdigit() else None


def number(text: str) -> int | None:
    """A positive id a form posted (a select's value), or None; 0 (「指名なし」) is None too.
    Nine digits at most: an id past 64 bits would overflow the database driver."""
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        return None
    return int(text) or None
