"""SVG charts: parsed as XML, their geometry checked against the numbers they draw."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from backend.web import charts

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = [f"{month}月" for month in (12, 1, 2, 3)]


def parse(chart: charts.Chart) -> ET.Element:
    root = ET.fromstring(chart.svg)
    assert root.tag == f"{SVG}svg"
    return root


def every(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [item for item in root.iter(f"{SVG}{tag}") if item.get("class") == css]


def texts(root: ET.Element) -> list[str]:
    return [item.text or "" for item in root.iter(f"{SVG}text")]


def test_a_bar_chart_draws_one_bar_per_label_the_tallest_for_the_largest_value() -> None:
    chart = charts.bar_chart(key="v", title="来院数", labels=MONTHS, values=[120, 480, 95, 300])
    root = parse(chart)
    bars = every(root, "rect", "bar")
    heights = [float(bar.get("height", "0")) for bar in bars]
    assert len(bars) == 4
    assert heights.index(max(heights)) == 1
    assert heights.index(min(heights)) == 2
    # Heights are proportional to the values, all on one baseline.
    assert heights[3] / heights[1] == pytest.approx(300 / 480, rel=0.01)
    bottoms = {round(float(bar.get("y", "0")) + float(bar.get("height", "0")), 1) for bar in bars}
    assert len(bottoms) == 1
    xs = [float(bar.get("x", "0")) for bar in bars]
    assert xs == sorted(xs)
    assert set(MONTHS) <= set(texts(root))


def test_the_svg_is_labelled_for_screen_readers_and_the_numbers_are_in_a_table() -> None:
    chart = charts.bar_chart(key="v", title="来院数", labels=MONTHS, values=[1, 2, 3, 4])
    root = parse(chart)
    assert root.get("role") == "img"
    assert root.get("aria-label") == "来院数"
    assert root.get("aria-labelledby") == "v-title v-desc"
    assert root.find(f"{SVG}title").text == "来院数"  # type: ignore[union-attr]
    assert "12月〜3月" in (root.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
    table = ET.fromstring(chart.table)
    rows = [[cell.text for cell in row] for row in table.iter("tr")][1:]
    assert rows == [["12月", "1"], ["1月", "2"], ["2月", "3"], ["3月", "4"]]
    assert "<details><summary>数値を表で見る</summary>" in chart.html


def test_a_stacked_bar_stacks_the_series_bottom_up_to_their_total() -> None:
    series = [charts.Series("保険", (100.0, 50.0)), charts.Series("自費", (300.0, 0.0))]
    root = parse(
        charts.stacked_bar_chart(key="r", title="売上", labels=["1月", "2月"], series=series)
    )
    stacks = every(root, "g", "stack")
    assert len(stacks) == 2
    first = [rect for rect in stacks[0] if rect.get("class") == "bar"]
    insurance, self_pay = first
    # 自費 sits on top of 保険: its bottom edge is 保険's top edge.
    assert float(self_pay.get("y", "0")) + float(self_pay.get("height", "0")) == pytest.approx(
        float(insurance.get("y", "0")), abs=0.15
    )
    assert float(self_pay.get("height", "0")) == pytest.approx(
        3 * float(insurance.get("height", "0")), rel=0.01
    )
    assert {"保険", "自費"} <= set(texts(root))  # the legend


def test_a_line_chart_draws_each_series_left_to_right_with_a_dashed_guide() -> None:
    chart = charts.line_chart(
        key="f",
        title="来院頻度",
        labels=MONTHS,
        series=[
            charts.Series("来院頻度", (3.2, 4.5, 3.9, 5.0)),
            charts.Series("前年", (3, 3, 3, 3)),
        ],
        guide=charts.Guide("目安", 4.0),
    )
    root = parse(chart)
    groups = every(root, "g", "series")
    assert [group.get("data-name") for group in groups] == ["来院頻度", "前年"]
    points = [item for item in groups[0] if item.get("class") == "point"]
    xs = [float(point.get("cx", "0")) for point in points]
    ys = [float(point.get("cy", "0")) for point in points]
    assert len(points) == 4
    assert xs == sorted(xs)
    assert ys.index(min(ys)) == 3  # 5.0 is the highest point (SVG y grows downwards)
    guide = every(root, "g", "guide")[0]
    line = guide.find(f"{SVG}line")
    assert line is not None
    assert line.get("stroke-dasharray")
    # The guide sits between 3.9 and 4.5 on screen.
    assert ys[1] < float(line.get("y1", "0")) < ys[2]
    assert "目安 4" in texts(root)


def test_a_donut_splits_the_ring_in_proportion() -> None:
    root = parse(charts.donut_chart(key="g", title="男女比", slices=[("女性", 75), ("男性", 25)]))
    slices = every(root, "circle", "slice")
    lengths = [float(item.get("stroke-dasharray", "0 0").split()[0]) for item in slices]
    assert lengths[0] == pytest.approx(3 * lengths[1], rel=0.001)
    assert any("75（75%）" in text for text in texts(root))


def test_a_heat_map_is_darkest_where_the_value_is_largest() -> None:
    values = [[0, 2, 1], [5, 0, 0]]
    chart = charts.heat_map(
        key="h",
        title="曜日・時間帯",
        rows=["月曜", "火曜"],
        columns=["9時", "10時", "11時"],
        values=values,
    )
    cells = every(parse(chart), "rect", "cell")
    opacities = [float(cell.get("fill-opacity", "0")) for cell in cells]
    assert len(cells) == 6
    assert opacities.index(max(opacities)) == 3  # 火曜 9時
    assert opacities[1] > opacities[2] > opacities[0]


@pytest.mark.parametrize(
    "chart",
    [
        charts.bar_chart(key="a", title="来院数", labels=[], values=[]),
        charts.line_chart(key="b", title="患者数", labels=MONTHS, series=[]),
        charts.donut_chart(key="c", title="媒体", slices=[("チラシ", 0)]),
        charts.heat_map(key="d", title="時間帯", rows=["月曜"], columns=["9時"], values=[[0]]),
    ],
)
def test_no_data_says_so_instead_of_drawing_an_empty_axis(chart: charts.Chart) -> None:
    root = parse(chart)
    assert "データがありません" in texts(root)
    assert not every(root, "rect", "bar")
    assert "データがありません" in chart.table


def test_text_is_escaped() -> None:
    chart = charts.bar_chart(key='x"><script>', title="<b>&", labels=["<i>"], values=[1])
    root = parse(chart)  # still well-formed XML
    assert root.find(f"{SVG}title").text == "<b>&"  # type: ignore[union-attr]
    assert "<script>" not in chart.svg
    assert "<i>" not in chart.table


def test_series_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="3 values for 4 labels"):
        charts.line_chart(
            key="x", title="t", labels=MONTHS, series=[charts.Series("s", (1.0, 2.0, 3.0))]
        )


@pytest.mark.parametrize(
    ("largest", "whole", "top"),
    [
        (0, True, 4),
        (3, True, 4),
        (3, False, 3.2),
        (5, True, 8),
        (5, False, 6),
        (9, True, 12),
        (480, True, 600),
        (2.3, False, 2.4),
        (0.3, False, 0.32),
    ],
)
def test_the_value_axis_ends_on_four_round_steps(largest: float, whole: bool, top: float) -> None:
    from backend.web import chart_parts

    assert chart_parts.nice_ceiling(largest, whole=whole) == pytest.approx(top)


def test_the_figure_has_a_visible_caption() -> None:
    chart = charts.bar_chart(key="v", title="来院数 <月別>", labels=["1月"], values=[3])
    assert chart.html.startswith(
        '<figure class="chart"><figcaption>来院数 &lt;月別&gt;</figcaption>'
    )


def test_a_missing_value_breaks_the_line_and_reads_as_a_dash() -> None:
    chart = charts.line_chart(
        key="r",
        title="2回目リピート率",
        labels=MONTHS,
        series=[charts.Series("率", (50.0, None, 40.0, 60.0))],
        unit="%",
    )
    root = parse(chart)
    group = every(root, "g", "series")[0]
    lines = group.findall(f"{SVG}polyline")
    assert [len(line.get("points", "").split()) for line in lines] == [1, 2]
    assert len([item for item in group if item.get("class") == "point"]) == 3
    assert "<td>—</td>" in chart.table
    assert "<td>50%</td>" in chart.table


def test_large_yen_read_in_man_on_the_axis() -> None:
    chart = charts.bar_chart(key="y", title="売上", labels=["1月"], values=[480_000], unit="円")
    ticks = [item.text for item in parse(chart).iter(f"{SVG}text") if item.get("class") == "tick"]
    assert ticks == ["0円", "15万円", "30万円", "45万円", "60万円"]
    assert "<td>480,000円</td>" in chart.table
