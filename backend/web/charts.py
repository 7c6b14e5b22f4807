"""Server-side SVG charts for the dashboard: line, bar, stacked bar, donut and a weekday ×
hour heat map. Pure functions: numbers in, a `Chart` (SVG plus a table of the same numbers)
out; every text escaped; no data gives a chart that says 「データがありません」.

Use it as `from backend.web import charts` then `charts.line_chart(...)`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from backend.web import chart_parts as parts
from backend.web.chart_parts import Chart, Series, esc, number

__all__ = ["Chart", "Guide", "Series", "bar_chart", "donut_chart", "heat_map", "line_chart"]

HEAT_COLOUR = "#0072B2"


@dataclass(frozen=True)
class Guide:
    """A dashed reference line, e.g. 来院頻度 4.0."""

    label: str
    value: float


def line_chart(
    *,
    key: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    guide: Guide | None = None,
    unit: str = "",
    label_every: int = 1,
) -> Chart:
    """Several series over the same labels (months), with an optional dashed guide; with
    many labels, only every `label_every`-th one (counted back from the last) is written
    under the axis (the table has them all)."""
    parts.check_lengths(labels, series)
    if not parts.has_data(labels, series):
        return parts.empty(key, title)
    top_value = parts.nice_ceiling(
        max([*_all(series), guide.value if guide else 0]), whole=parts.is_whole(_all(series))
    )
    centres = _centres(len(labels))
    shown = [
        label if (len(labels) - 1 - index) % label_every == 0 else ""
        for index, label in enumerate(labels)
    ]
    body = [parts.value_axis(top_value, unit), parts.labels_under(shown, centres)]
    if guide is not None:
        body.append(_guide(guide, top_value, unit))
    for index, item in enumerate(series):
        body.append(_line(index, item, centres, top_value))
    body.append(parts.legend([item.name for item in series]))
    desc = f"{labels[0]}〜{labels[-1]}の" + "、".join(item.name for item in series)
    return Chart(
        title, parts.frame(key, title, desc, "".join(body)), parts.table("月", labels, series, unit)
    )


def bar_chart(
    *, key: str, title: str, labels: Sequence[str], values: Sequence[float], unit: str = ""
) -> Chart:
    """One bar per label."""
    return stacked_bar_chart(
        key=key, title=title, labels=labels, series=[Series(title, tuple(values))], unit=unit
    )


def stacked_bar_chart(
    *, key: str, title: str, labels: Sequence[str], series: Sequence[Series], unit: str = ""
) -> Chart:
    """One bar per label, the series stacked bottom-up in order (a single series is a plain
    bar chart)."""
    parts.check_lengths(labels, series)
    if not parts.has_data(labels, series):
        return parts.empty(key, title)
    totals = [sum(item.values[index] or 0 for item in series) for index in range(len(labels))]
    top_value = parts.nice_ceiling(max(totals), whole=parts.is_whole(totals))
    centres = _centres(len(labels))
    body = [parts.value_axis(top_value, unit), parts.labels_under(labels, centres)]
    width = _band(len(labels)) * 0.6
    for index, centre in enumerate(centres):
        body.append(
            _stack(
                index,
                labels[index],
                series=series,
                centre=centre,
                width=width,
                top_value=top_value,
                unit=unit,
            )
        )
    if len(series) > 1:
        body.append(parts.legend([item.name for item in series]))
    desc = f"{labels[0]}〜{labels[-1]}の{title}"
    return Chart(
        title, parts.frame(key, title, desc, "".join(body)), parts.table("", labels, series, unit)
    )


def donut_chart(
    *, key: str, title: str, slices: Sequence[tuple[str, float]], unit: str = ""
) -> Chart:
    """Shares of a whole as a ring, largest share first as given; zero slices drawn as
    nothing but kept in the table."""
    total = sum(max(value, 0) for _name, value in slices)
    if total <= 0:
        return parts.empty(key, title)
    radius, cx, cy = 80.0, 120.0, parts.HEIGHT / 2
    circumference = 2 * math.pi * radius
    body, offset = [], 0.0
    for index, (name, value) in enumerate(slices):
        length = circumference * max(value, 0) / total
        body.append(
            f'<circle class="slice" data-value="{value}" cx="{cx}" cy="{cy}" r="{radius}" '
            f'fill="none" stroke="{parts.PALETTE[index % len(parts.PALETTE)]}" stroke-width="36" '
            f'stroke-dasharray="{length:.3f} {circumference - length:.3f}" '
            f'stroke-dashoffset="{-offset:.3f}" transform="rotate(-90 {cx} {cy})">'
            f"<title>{esc(name)} {esc(number(value))}{esc(unit)}</title></circle>"
        )
        offset += length
    body.append(_donut_legend(slices, total))
    names = [name for name, _value in slices]
    series = [Series(title, tuple(value for _name, value in slices))]
    svg = parts.frame(key, title, "、".join(names) + "の割合", "".join(body))
    return Chart(title, svg, parts.table("", names, series, unit))


def heat_map(
    *,
    key: str,
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float]],
    unit: str = "",
) -> Chart:
    """A grid (weekday rows × hour columns): the darker the cell, the larger the value."""
    if len(values) != len(rows) or any(len(row) != len(columns) for row in values):
        raise ValueError("the grid must have one row per row label and one value per column")
    largest = max((value for row in values for value in row), default=0)
    if not rows or not columns or largest <= 0:
        return parts.empty(key, title)
    left, top, width, height = parts.plot_box()
    cell_w, cell_h = width / len(columns), height / len(rows)
    body = []
    for r, label in enumerate(rows):
        y = top + r * cell_h
        body.append(
            f'<text class="label" x="{left - 6}" y="{y + cell_h / 2 + 4:.1f}" '
            f'text-anchor="end">{esc(label)}</text>'
        )
        for c, value in enumerate(values[r]):
            body.append(
                _cell(
                    (left + c * cell_w, y, cell_w, cell_h),
                    value,
                    share=max(value, 0) / largest,
                    title=f"{label} {columns[c]} {number(value)}{unit}",
                )
            )
    body.append(
        parts.labels_under(columns, [left + (c + 0.5) * cell_w for c in range(len(columns))])
    )
    series = [Series(column, tuple(row[c] for row in values)) for c, column in enumerate(columns)]
    return Chart(
        title,
        parts.frame(key, title, f"{title}（濃いほど多い）", "".join(body)),
        parts.table("", rows, series, unit),
    )


def _all(series: Sequence[Series]) -> list[float]:
    return [value for item in series for value in item.values if value is not None]


def _band(count: int) -> float:
    return parts.plot_box()[2] / count


def _centres(count: int) -> list[float]:
    left = parts.plot_box()[0]
    return [left + _band(count) * (index + 0.5) for index in range(count)]


def _guide(guide: Guide, top_value: float, unit: str) -> str:
    left, _top, width, _height = parts.plot_box()
    y = parts.y_of(guide.value, top_value)
    return (
        f'<g class="guide"><line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" '
        f'stroke-dasharray="6 4"/><text x="{left + width}" y="{y - 4:.1f}" text-anchor="end">'
        f"{esc(guide.label)} {esc(number(guide.value))}{esc(unit)}</text></g>"
    )


def _line(index: int, item: Series, centres: Sequence[float], top_value: float) -> str:
    """The series as polylines broken where a value is missing, with a dot per value."""
    colour = parts.PALETTE[index % len(parts.PALETTE)]
    runs: list[list[tuple[float, float, float]]] = [[]]
    for x, value in zip(centres, item.values, strict=True):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((x, parts.y_of(value, top_value), value))
    lines = "".join(
        f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y, _value in run)}" '
        f'fill="none" stroke="{colour}" stroke-width="2.5"/>'
        for run in runs
        if run
    )
    dots = "".join(
        f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}" '
        f'data-value="{value}"><title>{esc(item.name)} {esc(number(value))}</title></circle>'
        for run in runs
        for x, y, value in run
    )
    return f'<g class="series" data-name="{esc(item.name)}">{lines}{dots}</g>'


def _stack(
    index: int,
    label: str,
    *,
    series: Sequence[Series],
    centre: float,
    width: float,
    top_value: float,
    unit: str,
) -> str:
    rects, below = [], 0.0
    for number_in_stack, item in enumerate(series):
        value = max(item.values[index] or 0, 0)
        y_top, y_bottom = parts.y_of(below + value, top_value), parts.y_of(below, top_value)
        colour = parts.PALETTE[number_in_stack % len(parts.PALETTE)]
        rects.append(
            f'<rect class="bar" data-value="{value}" x="{centre - width / 2:.1f}" '
            f'y="{y_top:.1f}" width="{width:.1f}" height="{y_bottom - y_top:.1f}" fill="{colour}">'
            f"<title>{esc(label)} {esc(item.name)} {esc(number(value))}{esc(unit)}</title></rect>"
        )
        below += value
    return f'<g class="stack" data-label="{esc(label)}">{"".join(rects)}</g>'


def _cell(box: tuple[float, float, float, float], value: float, *, share: float, title: str) -> str:
    x, y, w, h = box
    return (
        f'<rect class="cell" data-value="{value}" x="{x:.1f}" y="{y:.1f}" width="{w - 1:.1f}" '
        f'height="{h - 1:.1f}" fill="{HEAT_COLOUR}" fill-opacity="{0.06 + 0.94 * share:.3f}">'
        f"<title>{esc(title)}</title></rect>"
    )


def _donut_legend(slices: Sequence[tuple[str, float]], total: float) -> str:
    rows = []
    for index, (name, value) in enumerate(slices):
        y = 60 + index * 24
        share = 100 * max(value, 0) / total
        rows.append(
            f'<g class="legend-item"><rect x="240" y="{y - 11}" width="14" height="14" '
            f'fill="{parts.PALETTE[index % len(parts.PALETTE)]}"/>'
            f'<text x="260" y="{y}">{esc(name)} {esc(number(value))}（{share:.0f}%）</text></g>'
        )
    return "".join(rows)
