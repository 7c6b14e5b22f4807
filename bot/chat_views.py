"""LINE message objects as the chat simulator shows them: text bubbles and cards with their
buttons and quick replies, and the event that tapping one sends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot import richmenu
from bot.chat_wire import Event, message_event, postback_event


@dataclass(frozen=True)
class Tap:
    """A button or quick reply: its label and LINE action object."""

    label: str
    action: dict[str, Any]


@dataclass
class View:
    """One message as the simulator shows it: a text bubble or a card, with its buttons."""

    kind: str
    lines: list[str] = field(default_factory=list)
    taps: list[Tap] = field(default_factory=list)


def views(message: dict[str, Any]) -> list[View]:
    """What a LINE message object shows; quick replies belong to the last view."""
    kind = message.get("type")
    if kind == "text":
        found = [View("text", [str(message.get("text", ""))])]
    elif kind == "flex":
        found = _flex(message.get("contents", {}))
    elif kind == "template":
        found = [_template(message.get("template", {}))]
    else:
        found = [View("text", [f"[{kind}]"])]
    items = (message.get("quickReply") or {}).get("items", [])
    found[-1].taps.extend(_tap(item.get("action", {})) for item in items)
    return found


def _tap(action: dict[str, Any]) -> Tap:
    return Tap(str(action.get("label") or action.get("text") or action.get("data", "")), action)


def _flex(contents: dict[str, Any]) -> list[View]:
    bubbles = contents.get("contents", []) if contents.get("type") == "carousel" else [contents]
    cards = []
    for bubble in bubbles:
        card = View("card")
        for part in ("header", "hero", "body", "footer"):
            if part in bubble:
                _walk(bubble[part], card)
        cards.append(card)
    return cards or [View("card")]


def _walk(node: dict[str, Any], card: View) -> None:
    """Collect a Flex component's text lines and buttons; a row's texts share a line."""
    kind = node.get("type")
    children = node.get("contents", []) if kind == "box" else []
    if kind == "text":
        spans = "".join(span.get("text", "") for span in node.get("contents", []))
        card.lines.append(str(node.get("text") or spans))
    elif kind == "button":
        card.taps.append(_tap(node.get("action", {})))
    elif _is_row(node, children):
        card.lines.append("  ".join(str(child.get("text", "")) for child in children))
        return
    for child in children:
        _walk(child, card)
    if kind == "box" and "action" in node:
        card.taps.append(_tap(node["action"]))


def _is_row(node: dict[str, Any], children: list[dict[str, Any]]) -> bool:
    horizontal = node.get("layout") in ("horizontal", "baseline")
    return bool(children) and horizontal and all(child.get("type") == "text" for child in children)


def _template(template: dict[str, Any]) -> View:
    lines = [str(template[key]) for key in ("title", "text") if template.get(key)]
    return View("card", lines, [_tap(action) for action in template.get("actions", [])])


def tap_event(
    tap: Tap, source: dict[str, str], *, now_ms: int, answer: str | None = None
) -> Event | None:
    """The event tapping `tap` sends (a picker needs its `answer`); None for a link."""
    action = tap.action
    kind = action.get("type")
    if kind == "postback":
        return postback_event(str(action["data"]), source, now_ms=now_ms)
    if kind == "datetimepicker":
        # The bot only asks for dates (mode "date"), answered as params.date.
        params = {"date": answer or ""}
        return postback_event(str(action["data"]), source, now_ms=now_ms, params=params)
    if kind == "message":
        return message_event(str(action.get("text", tap.label)), source, now_ms=now_ms)
    return None


def picked_date(action: dict[str, Any], typed: str) -> str | None:
    """`typed` as an ISO date inside the picker's range, or None."""
    try:
        day = date.fromisoformat(typed.strip())
    except ValueError:
        return None
    first, last = action.get("min"), action.get("max")
    if (first and day < date.fromisoformat(first)) or (last and day > date.fromisoformat(last)):
        return None
    return day.isoformat()


def menu_taps() -> list[Tap]:
    """The rich menu's four areas as taps (typed as m1 … m4)."""
    return [
        Tap(tile.label, richmenu.menu_request()["areas"][n]["action"])
        for n, tile in enumerate(richmenu.TILES)
    ]
