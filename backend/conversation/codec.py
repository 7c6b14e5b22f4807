"""Replies as JSON, so they can wait in the outbox and be rendered by the channel later."""

from __future__ import annotations

from datetime import date
from typing import Any

from backend.conversation.model import Card, Carousel, Choice, DatePick, Reply, Say


def dump(replies: tuple[Reply, ...] | list[Reply]) -> list[dict[str, Any]]:
    """Replies as JSON-ready dicts."""
    return [_dump(reply) for reply in replies]


def load(items: list[dict[str, Any]]) -> tuple[Reply, ...]:
    """Replies back from `dump`'s output."""
    return tuple(_load(item) for item in items)


def _choices(choices: tuple[Choice, ...]) -> list[list[str]]:
    return [[choice.label, choice.value] for choice in choices]


def _dump(reply: Reply) -> dict[str, Any]:
    match reply:
        case Say(text=text, choices=choices, date_pick=pick):
            item: dict[str, Any] = {"type": "say", "text": text, "choices": _choices(choices)}
            if pick is not None:
                item["date_pick"] = [
                    pick.label,
                    pick.value,
                    pick.first.isoformat(),
                    pick.last.isoformat(),
                ]
            return item
        case Card(title=title, rows=rows, choices=choices, note=note):
            return {
                "type": "card",
                "title": title,
                "rows": [list(row) for row in rows],
                "choices": _choices(choices),
                "note": note,
            }
        case Carousel(cards=cards, alt=alt):
            return {"type": "carousel", "cards": [_dump(card) for card in cards], "alt": alt}
    raise TypeError(f"not a reply: {reply!r}")


def _load_choices(items: list[list[str]]) -> tuple[Choice, ...]:
    return tuple(Choice(label, value) for label, value in items)


def _load(item: dict[str, Any]) -> Reply:
    kind = item["type"]
    if kind == "say":
        pick = item.get("date_pick")
        date_pick = (
            DatePick(pick[0], pick[1], date.fromisoformat(pick[2]), date.fromisoformat(pick[3]))
            if pick
            else None
        )
        return Say(item["text"], _load_choices(item["choices"]), date_pick)
    if kind == "card":
        rows = tuple((label, value) for label, value in item["rows"])
        return Card(item["title"], rows, _load_choices(item["choices"]), item.get("note", ""))
    if kind == "carousel":
        cards = tuple(_load(card) for card in item["cards"])
        return Carousel(tuple(card for card in cards if isinstance(card, Card)), item["alt"])
    raise ValueError(f"unknown reply type {kind!r}")
