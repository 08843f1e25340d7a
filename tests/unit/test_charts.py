"""The SVG charts of printed reports (process/charts.py): well-formed, to scale, escaped."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from process import charts

NS = {"s": "http://www.w3.org/2000/svg"}


def bars(svg: str, colour: str = charts.BLUE) -> list[ET.Element]:
    return [r for r in ET.fromstring(svg).iterfind(".//s:rect", NS) if r.get("fill") == colour]


def texts(svg: str) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iterfind(".//s:text", NS)]


def test_a_bar_chart_draws_one_bar_per_known_value_to_scale():
    svg = charts.bar_chart(["1", "2", "3", "4"], [100.0, 50.0, None, 0.0], title="Tepat waktu",
                           value_labels=["100%", "50%", "—", "0%"])
    root = ET.fromstring(svg)
    assert root.get("width") == "180mm" and root.get("viewBox") == "0 0 180 62"
    assert root.find("s:title", NS).text == "Tepat waktu"
    drawn = bars(svg)
    assert len(drawn) == 3
    heights = [float(b.get("height")) for b in drawn]
    assert heights[0] == pytest.approx(2 * heights[1]) and heights[2] == 0
    # Bars stand on the same base line.
    assert len({round(float(b.get("y")) + float(b.get("height")), 3) for b in drawn}) == 1
    assert {"100%", "50%", "0%", "—", "1", "2", "3", "4"} <= set(texts(svg))


def test_values_beyond_the_axis_are_clipped():
    svg = charts.bar_chart(["a", "b"], [250.0, -5.0], title="t")
    full, empty = [float(b.get("height")) for b in bars(svg)]
    assert full == pytest.approx(62.0 - 5.0 - 8.0) and empty == 0


def test_labels_are_escaped():
    svg = charts.hbar_chart(["<b>Bidang & Co</b>"], [40.0], title='"judul" <x>', value_labels=["40%"])
    root = ET.fromstring(svg)  # well-formed despite the markup in the labels
    assert "<b>Bidang & Co</b>" in texts(svg) and root.find("s:title", NS).text == '"judul" <x>'


def test_a_horizontal_bar_chart_grows_with_its_rows():
    one = ET.fromstring(charts.hbar_chart(["A"], [10.0], title="t"))
    four = ET.fromstring(charts.hbar_chart(["A", "B", "C", "D"], [10.0, 20.0, None, 40.0], title="t"))
    assert float(four.get("height")[:-2]) - float(one.get("height")[:-2]) == pytest.approx(3 * 7.0)
    widths = [float(b.get("width")) for b in bars(ET.tostring(four, encoding="unicode"))]
    assert len(widths) == 3 and widths[2] == pytest.approx(4 * widths[0])


def test_a_trend_chart_has_a_line_through_known_months_and_count_bars():
    svg = charts.trend_chart(["Jan", "Feb", "Mar", "Apr"], [50.0, None, 75.0, 100.0], [4, 0, 10, 3],
                             title="Tren", rate_label="Tepat waktu (%)", count_label="Langkah selesai")
    root = ET.fromstring(svg)
    assert len(root.findall(".//s:circle", NS)) == 3
    # The month without a rate breaks the line: only Mar-Apr is joined.
    [line] = root.findall(".//s:polyline", NS)
    assert len(line.get("points").split()) == 2
    counts = [r for r in bars(svg, charts.GREY) if float(r.get("width")) != 4]
    assert len(counts) == 3
    assert {"Tepat waktu (%)", "Langkah selesai", "Jan", "Apr"} <= set(texts(svg))


def test_an_empty_chart_is_still_a_drawing():
    for svg in (charts.bar_chart([], [], title="t"), charts.hbar_chart([], [], title="t"),
                charts.trend_chart([], [], [], title="t", rate_label="r", count_label="c")):
        assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
