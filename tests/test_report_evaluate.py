"""The `loopnest evaluate` report, written from its JSON export: opens in Chromium with no
console error and plots the exported per-layer numbers."""

from __future__ import annotations

import json

import pytest
from test_analysis_dataflow import tiny_onnx
from test_report_browser import open_report
from typer.testing import CliRunner

from loopnest.cli import app
from loopnest.report.html import write_evaluate_report


def test_evaluate_report_shows_the_evaluate_json(tmp_path):
    model = tiny_onnx(tmp_path / "tiny.onnx")
    out = CliRunner().invoke(app, ["evaluate", str(model), "--arch", "eyeriss", "--mode", "heuristic", "--jobs", "1", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    path = write_evaluate_report(data, tmp_path / "ev.html")
    state, errors, requests = open_report(path, tmp_path / "profile")
    assert errors == [] and requests == []
    assert state["data"]["result"] == data
    charts = state["charts"]
    util = charts["evaluate-utilization"]["traces"][0]
    assert util["x"] == [r["name"] for r in data["layers"]]
    assert util["y"] == pytest.approx([100 * r["utilization"] for r in data["layers"]])
    by_level = {t["name"]: t["y"] for t in charts["breakdown-by-level"]["traces"]}
    # the axis is in one engineering unit (here nJ: the largest layer costs ~70,000 pJ)
    label = state["data"]["charts"]["breakdown-by-level"]["y_label"]
    scale = {"energy (pJ)": 1.0, "energy (nJ)": 1e3, "energy (µJ)": 1e6}[label]
    for i, r in enumerate(data["layers"]):
        assert {k: v[i] * scale for k, v in by_level.items()} == pytest.approx(r["energy_by_level_pj"])
    # the pie's shares add to 100% and the computation share is the MACs' energy
    pie = charts["breakdown-pie"]["traces"][0]
    assert sum(pie["values"]) == pytest.approx(100)
    mac = sum(r["energy_by_level_pj"]["MAC"] for r in data["layers"])
    assert pie["values"][pie["labels"].index("computation")] == pytest.approx(100 * mac / data["totals"]["energy_pj"])
