"""Two people editing one カルテ at once: the form is merged three ways.

The form carries, besides the version it was opened on, what it showed then (`seen`: the
editable fields as JSON). When the カルテ was saved from another screen meanwhile, the
fields this person changed are laid over the カルテ as it is now. If the other screen
changed none of them, the save goes ahead with both people's changes. Otherwise the form
comes back showing the カルテ as it is now with this person's changes kept, the fields
both changed are marked, and saving again keeps everything the other screen did elsewhere.
Before, the form came back with every field as first opened, so saving it again put back
what the other screen had changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from backend.web.karte_form import EDITABLE, KarteForm

BOTH_CHANGED = "別の画面でもこの項目が変更されました。いま表示しているのはあなたの入力です。"


@dataclass(frozen=True)
class Merged:
    """The form to save or show, and the fields both screens changed."""

    form: KarteForm
    conflicts: frozenset[str]


def merge(posted: KarteForm, latest: KarteForm) -> Merged:
    """`posted` (opened on an older version) over `latest` (the カルテ as it is now)."""
    seen = _seen(posted.seen)
    mine = {name for name in EDITABLE if _changed(seen, name, getattr(posted, name))}
    theirs = {name for name in EDITABLE if _changed(seen, name, getattr(latest, name))}
    kept = {name: getattr(posted, name) for name in mine}
    form = latest.model_copy(
        update=kept | {"csrf": posted.csrf, "name_verified": posted.name_verified}
    )
    return Merged(form=form, conflicts=frozenset(mine & theirs))


def _seen(text: str) -> dict[str, Any] | None:
    """The values the form was opened with; None when it carries none (every field then
    counts as changed on both sides, so nothing is silently overwritten)."""
    try:
        values = json.loads(text)
    except ValueError:
        return None
    return values if isinstance(values, dict) else None


def _changed(seen: dict[str, Any] | None, name: str, value: object) -> bool:
    return seen is None or name not in seen or _plain(seen[name]) != _plain(value)


def _plain(value: object) -> object:
    # Browsers send a textarea's line breaks as CRLF: an untouched note is not a change.
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value
