"""How times, prices and courses are written for patients and staff (Japanese)."""

from __future__ import annotations

from datetime import date, datetime

import phonenumbers

WEEKDAYS = "月火水木金土日"


def day(value: date) -> str:
    """「12月3日(木)」."""
    return f"{value.month}月{value.day}日({WEEKDAYS[value.weekday()]})"


def clock(value: datetime) -> str:
    """「10:00」 in the zone `value` carries."""
    return f"{value.hour}:{value.minute:02d}"


def moment(value: datetime) -> str:
    """「12月3日(木) 10:00」 in the zone `value` carries."""
    return f"{day(value.date())} {clock(value)}"


def yen(amount: int) -> str:
    """「4,400円」."""
    return f"{amount:,}円"


def minutes(length: int) -> str:
    """「30分」, 「1時間」, 「1時間30分」."""
    hours, rest = divmod(length, 60)
    if not hours:
        return f"{rest}分"
    return f"{hours}時間{rest}分" if rest else f"{hours}時間"


def phone(number: str | None) -> str:
    """A number as people in Japan write and dial it (「090-1234-5678」, 「03-1234-5678」);
    "" for none, the text as given when it is not a phone number."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "JP")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
