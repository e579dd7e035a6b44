"""The report's SVG charts and page: well-formed, escaped, numbers traceable, written atomically."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from jingzhun.report import Report, bar_chart, line_chart, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("low, high, first, last", [(0, 1, 0, 1), (0, 97, 0, 100), (0, 105, 0, 150), (-3.2, 7.9, -5, 10),
                                                    (1990, 2260, 1900, 2300), (5, 5, 5, 6)])
def test_ticks_are_round_and_cover_the_range(low, high, first, last):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    assert ticks[0] == pytest.approx(first) and ticks[-1] == pytest.approx(last)
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0]) and 3 <= len(ticks) <= 12


def test_line_chart_is_valid_svg_with_its_numbers():
    svg = line_chart({"actual": ([1, 2, 3], [1.0, 4.0, 9.0]), "expected <&>": ([1, 2, 3], [1.5, float("nan"), 8.0])},
                     title="A & B", x_label="week", y_label="purchases")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title").text == "A & B"
    lines = root.findall(f".//{SVG}polyline")
    assert [p.get("data-name") for p in lines] == ["actual", "expected <&>"]
    assert lines[0].get("data-values") == "1,4,9"
    assert lines[1].get("data-values") == "1.5,8"  # the NaN point is skipped
    with pytest.raises(ValueError, match="no finite points"):
        line_chart({"x": ([1], [float("nan")])}, title="empty")


def test_bar_chart_draws_one_bar_per_value_including_negatives():
    svg = bar_chart(["a", "b", "c"], {"lift": [1.5, -0.5, 0.0], "base": [1.0, 1.0, None]}, title="bars")
    bars = ET.fromstring(svg).findall(f".//{SVG}rect[@class='bar']")
    assert len(bars) == 5
    assert {(b.get("data-category"), b.get("data-name"), float(b.get("data-value"))) for b in bars} >= {
        ("b", "lift", -0.5), ("a", "base", 1.0)}
    assert all(float(b.get("height")) >= 0 for b in bars)


def test_report_writes_html_and_its_json_twin(tmp_path):
    report = Report("Test <report>", subtitle="as of 2024")
    s = report.section("Numbers")
    s.paragraph("<script>alert(1)</script>")
    s.table(pd.DataFrame({"name": ["x", "y"], "value": [1.23456, np.nan], "n": [1000, 2]}))
    s.chart(line_chart({"a": ([0, 1], [0, 1])}, title="line"))
    report.data["numbers"] = pd.DataFrame({"value": [1.5, np.nan]})
    html_path, json_path = report.write(tmp_path / "out" / "r")
    html = html_path.read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to fetch
    assert html.count("<svg") == 1 and "1,000" in html
    twin = json.loads(json_path.read_text())
    assert twin["title"] == "Test <report>" and twin["numbers"] == [{"value": 1.5}, {"value": None}]
    assert not list((tmp_path / "out").glob(".*tmp"))
