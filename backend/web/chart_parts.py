"""What every chart shares: the accessible SVG frame, the value axis, the legend, the
table of the same numbers, and escaping. Pure functions returning markup strings."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# A viewBox about as wide as the chart is shown, so 12px text reads as about 12px.
WIDTH = 480
HEIGHT = 270
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 20, 54  # room for the value axis, month labels, legend
EMPTY = "データがありません"
# Colour-blind-safe (Okabe–Ito); charts never rely on colour alone: the table says it all.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


@dataclass(frozen=True)
class Series:
    """One named run of numbers, one per label; None where there is no number (a rate
    with nothing to divide by): no point on a line, no bar, "—" in the table."""

    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Chart:
    """A chart: its title, its SVG, and a table of the same numbers for people who read,
    not look."""

    title: str
    svg: str
    table: str

    @property
    def html(self) -> str:
        """The figure: a visible caption, the SVG, then the table folded under it."""
        return (
            f'<figure class="chart"><figcaption>{esc(self.title)}</figcaption>{self.svg}'
            f"<details><summary>数値を表で見る</summary>{self.table}</details></figure>"
        )


def esc(text: object) -> str:
    """Text safe in SVG/HTML content and attribute values."""
    return html.escape(str(text), quote=True)


def number(value: float | None) -> str:
    """A number as staff read it: thousands separated, at most two decimals; "—" for none."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0")


def frame(key: str, title: str, desc: str, body: str) -> str:
    """The <svg> root: scalable, labelled by its <title> and <desc>."""
    ident = esc(key)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="{esc(title)}" '
        f'aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{esc(title)}</title>'
        f'<desc id="{ident}-desc">{esc(desc)}</desc>{body}</svg>'
    )


def empty(key: str, title: str) -> Chart:
    """The chart for no data: says so plainly instead of drawing an empty axis."""
    text = (
        f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">{EMPTY}</text>'
    )
    return Chart(title, frame(key, title, EMPTY, text), f"<p>{EMPTY}</p>")


def nice_ceiling(value: float, *, whole: bool = False) -> float:
    """The top of a value axis with four round steps (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k
    each) reaching at least `value`, whole steps only for counts; 4 for nothing."""
    if value <= 0:
        return 4.0
    power = 10.0 ** math.floor(math.log10(value / 4))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        size = step * power
        if whole and not round(size, 9).is_integer():
            continue  # "1.5回" on the axis of a count reads as a mistake
        if 4 * size >= value:
            return 4 * size
    return 40.0 * power  # pragma: no cover - the loop always returns


def is_whole(values: Iterable[float]) -> bool:
    """Whether every value is a whole number (a count, not a ratio)."""
    return all(float(value).is_integer() for value in values)


def plot_box() -> tuple[float, float, float, float]:
    """The plotting area: left, top, width, height."""
    return LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


def value_axis(top_value: float, unit: str) -> str:
    """Horizontal grid lines with their values, zero at the bottom."""
    left, top, width, height = plot_box()
    parts = []
    for index in range(5):
        value = top_value * index / 4
        y = top + height - height * index / 4
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{esc(tick(value, unit, top_value))}</text>"
        )
    return "".join(parts)


def tick(value: float, unit: str, top_value: float) -> str:
    """An axis label short enough for the margin: yen from ¥10,000 up in 万円."""
    if unit == "円" and top_value >= 10_000 and value:
        return f"{number(round(value / 10_000, 2))}万円"
    return f"{number(value)}{unit}"


def y_of(value: float, top_value: float) -> float:
    """The y coordinate of `value` on an axis running from 0 to `top_value`."""
    _left, top, _width, height = plot_box()
    return top + height - height * max(value, 0) / top_value


def labels_under(labels: Sequence[str], centres: Sequence[float]) -> str:
    """Category labels under the plotting area."""
    _left, top, _width, height = plot_box()
    y = top + height + 16
    return "".join(
        f'<text class="label" x="{x:.1f}" y="{y}" text-anchor="middle">{esc(label)}</text>'
        for label, x in zip(labels, centres, strict=True)
    )


def legend(names: Sequence[str]) -> str:
    """Coloured keys along the bottom edge."""
    parts = []
    x = float(LEFT)
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<g class="legend-item"><rect x="{x:.1f}" y="{HEIGHT - 16}" width="12" height="12" '
            f'fill="{colour}"/><text x="{x + 16:.1f}" y="{HEIGHT - 6}">{esc(name)}</text></g>'
        )
        x += 28 + 14 * len(name)
    return "".join(parts)


def table(corner: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> str:
    """The numbers as an HTML table: one row per label, one column per series."""
    head = "".join(f'<th scope="col">{esc(item.name)}</th>' for item in series)
    rows = "".join(
        f'<tr><th scope="row">{esc(label)}</th>'
        + "".join(f"<td>{_cell(item.values[index], unit)}</td>" for item in series)
        + "</tr>"
        for index, label in enumerate(labels)
    )
    return (
        f'<table class="chart-table"><thead><tr><th scope="col">{esc(corner)}</th>{head}</tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )


def has_data(labels: Sequence[str], series: Sequence[Series]) -> bool:
    """Whether there is anything to draw: labels, and at least one value in some series."""
    return bool(labels) and any(value is not None for item in series for value in item.values)


def check_lengths(labels: Sequence[str], series: Sequence[Series]) -> None:
    """Refuse series whose length differs from the labels: a chart would silently lie."""
    for item in series:
        if len(item.values) != len(labels):
            raise ValueError(
                f"series {item.name!r} has {len(item.values)} values for {len(labels)} labels"
            )


def _cell(value: float | None, unit: str) -> str:
    return esc(number(value)) + ("" if value is None else esc(unit))
