"""Report building blocks without a browser: static plot export, HTML self-containment, checks."""

from __future__ import annotations

import json
import re

import pytest
from test_report_browser import sample_charts

from loopnest.report.html import Section, Table, fmt, render_html
from loopnest.report.plots import Chart, Series, plotly_figure, save_static


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_every_chart_kind_exports_a_static_file(tmp_path, suffix):
    for c in sample_charts():
        out = save_static(c, tmp_path / f"{c.id}{suffix}")
        data = out.read_bytes()
        if suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            assert b"<svg" in data[:2000]
        assert len(data) > 5000  # a drawn figure, not an empty canvas


def test_static_export_rejects_other_formats(tmp_path):
    with pytest.raises(ValueError, match=r"\.png, \.svg"):
        save_static(sample_charts()[0], tmp_path / "x.jpg")


def test_chart_checks_lengths():
    with pytest.raises(ValueError, match="3 values for 2 categories"):
        Chart("c", "t", [Series("s", [1, 2, 3])], categories=["a", "b"])
    with pytest.raises(ValueError, match="2 x values but 1 y values"):
        Series("s", [1], x=[1, 2], mode="line")


def test_html_is_self_contained_and_embeds_the_export():
    charts = sample_charts()
    page = render_html("t", [Section("s", ["p"], [Table("c", ["a"], [[1]])], charts)], {"k": "</script>"})
    assert "<link" not in page and not re.search(r"<script[^>]*\bsrc=", page)  # nothing fetched
    assert "https://cdn" not in page.split("<script>", 1)[0]
    blob = re.search(r'<script id="loopnest-data" type="application/json">(.*?)</script>', page, re.DOTALL).group(1)
    data = json.loads(blob)
    assert data["result"] == {"k": "</script>"}
    assert data["charts"]["bars"]["series"][0]["y"] == [40.5, 12.25, 80.0, 61.5]


def test_duplicate_chart_ids_are_refused():
    c = sample_charts()[0]
    with pytest.raises(RuntimeError, match="unique"):
        render_html("t", [Section("s", charts=[c, c])], {})


def test_grouped_bars_use_a_two_level_axis():
    fig = plotly_figure(sample_charts()[0])
    assert fig["data"][0]["x"] == [["CONV", "CONV", "FC", "FC"], ["WS", "RS", "WS", "RS"]]
    assert fig["layout"]["barmode"] == "stack"


def test_cell_format():
    assert fmt(1234567) == "1,234,567"
    assert fmt(0.000123456) == "0.0001235"
    assert fmt(2.5) == "2.5"
    assert fmt(123456.7) == "123,457"
    assert fmt(14590.2) == "14,590"
    assert fmt(None) == ""
