"""What staff type into the dashboard's forms, read the way a Japanese keyboard types it."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from backend.api.types import MAX_ID

MAX_ID_DIGITS = len(str(MAX_ID))
# A day as typed: 2026-11-30, 2026/11/30, 2026.11.30 or 2026年11月30日 (a date field posts
# the first).
DAY = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?")


def yen(text: str) -> int | None:
    """An amount in whole yen: digits, full-width or half-width, with or without commas, 円
    or ¥ (「１，５００円」「¥4,400」); None for anything else, a negative amount included."""
    digits = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    digits = digits.removesuffix("円").removeprefix("¥").strip()  # NFKC made ￥ into ¥
    return int(digits) if digits.isascii() and digits.isdigit() else None


def number(text: str) -> int | None:
    """A positive id a form or a path gave (a select's value, /patients/12), or None; 0
    (「指名なし」) is None too, and so is anything past the largest id the API takes."""
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS):
        return None
    found = int(text)
    return found if 1 <= found <= MAX_ID else None


def plain(text: str) -> str:
    """NFKC and stripped: full-width digits are what a Japanese keyboard often types."""
    return unicodedata.normalize("NFKC", text).strip()


def day(text: str) -> date | None:
    """A day in one of `DAY`'s forms (full-width digits too), or None, a day that does not
    exist (2026-02-30) included."""
    found = DAY.fullmatch(plain(text))
    if found is None:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def text(value: str) -> str | None:
    """A text field's value, or None when blank. Browsers send a textarea's line breaks as
    CRLF; the API's rules allow only LF."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value or None
