"""The HTML report in a real browser: headless Debian Chromium driven by Playwright (no browser
download). The page must render with no console error and no network request, and every plot
must show the numbers of the JSON export (trace data and the hover label of a point)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from codesign_helpers import digits_cache  # noqa: F401  (a fixture)

from loopnest.report.html import Section, Table, write_report
from loopnest.report.plots import Chart, Series

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _missing(reason: str):
    """Skip, unless LOOPNEST_REQUIRE_BROWSER=1 (set by .ci/run): then the browser test must run."""
    if os.environ.get("LOOPNEST_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and LOOPNEST_REQUIRE_BROWSER=1")
    pytest.skip(reason)


def open_report(path: Path, user_data: Path, act=None):
    """Open ``path``; return (page state dict, console errors, network requests). ``act(page)``,
    if given, runs once the charts are drawn; what it returns is the state's ``"act"``."""
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        _missing("playwright is not installed (pip install playwright)")
    errors, requests = [], []
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(user_data), executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            def route(r):
                if r.request.url.startswith("file:"):
                    r.continue_()
                else:
                    requests.append(r.request.url)
                    r.abort()
            ctx.route("**/*", route)
            page = ctx.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.resolve().as_uri())
            page.wait_for_function("() => [...document.querySelectorAll('.chart')].every(d => d._fullLayout)", timeout=30000)
            state = page.evaluate(_READ_PAGE)
            if act is not None:
                page.wait_for_timeout(500)  # plotly redraws once more after growing a margin to fit labels
                state["act"] = act(page)
        finally:
            ctx.close()
    return state, errors, requests


# For every chart: its traces as plotted, the SVG marks drawn per trace, and the hover text of
# one point of the first trace (plotly's own hover, triggered programmatically; pies answer
# only to the mouse, so their slice labels are read instead).
_READ_PAGE = """() => {
  const out = {data: window.loopnestData, charts: {}};
  for (const gd of document.querySelectorAll('.chart')) {
    const traces = gd.data.map(t => ({name: t.name, type: t.type, x: t.x, y: t.y, values: t.values, labels: t.labels}));
    const marks = [...gd.querySelectorAll('.trace')].map(t => t.querySelectorAll('.point, .slice').length);
    const lines = [...gd.querySelectorAll('.trace')].map(t => t.querySelectorAll('.js-line').length);
    Plotly.Fx.hover(gd, [{curveNumber: 0, pointNumber: 1}]);
    const hover = [...gd.querySelectorAll('.hoverlayer text')].map(t => t.textContent).join(' | ');
    Plotly.Fx.unhover(gd);
    const slices = [...gd.querySelectorAll('.slicetext')].map(t => t.textContent);
    out.charts[gd.id] = {traces, marks, lines, hover, slices};
  }
  out.tables = [...document.querySelectorAll('table')].map(t => t.innerText);
  return out;
}"""


def sample_charts() -> list[Chart]:
    cats = [("CONV", "WS"), ("CONV", "RS"), ("FC", "WS"), ("FC", "RS")]
    return [
        Chart("bars", "Energy per MAC by level", [Series("DRAM", [40.5, 12.25, 80.0, 61.5]), Series("RF", [3.5, 9.75, 1.0, 2.0])],
              y_label="energy / MAC (normalized: 1 = one MAC)", categories=cats, hover_unit="MAC-equiv."),
        Chart("steps", "Eyexam bounds", [Series("bound", [3000.0, 1200.0, 256.0, 168.0], mode="step")],
              y_label="MACs/cycle", categories=["1 workload", "2 dataflow", "3 array size", "4 array shape"]),
        Chart("roof", "Roofline", [Series("DRAM roof", [4.0, 40.0], x=[1.0, 10.0], mode="line"),
                                   Series("layers", [12.5, 150.0], x=[3.125, 75.5], mode="markers", labels=["conv1", "conv2"])],
              x_label="operational intensity (MACs/word)", y_label="MACs/cycle", log_x=True, log_y=True),
        Chart("pie", "Energy by data type", [Series("seed", [43, 25, 22, 10], mode="pie"), Series("ours", [51.5, 20.25, 18.0, 10.25], mode="pie")],
              categories=["outputs", "inputs", "weights", "computation"], hover_unit="%"),
    ]


def test_report_renders_in_chromium_and_shows_the_exported_numbers(tmp_path):
    charts = sample_charts()
    result = {"model": "toy", "values": [1, 2, 3], "tricky": "</script><b>not markup</b>"}
    table = Table("ratios </td>", ["dataflow", "energy / MAC"], [["WS", 44.0], ["RS", 22.0]])
    path = write_report(tmp_path / "r.html", "Test report", [Section("all", ["text"], [table], charts)], result)
    state, errors, requests = open_report(path, tmp_path / "profile")
    assert errors == []
    assert requests == []
    # the embedded JSON is the export, intact (the </script> in a string did not break the page)
    assert state["data"]["result"] == result
    assert state["data"]["charts"] == json.loads(json.dumps({c.id: c.to_dict() for c in charts}))
    for c in charts:
        page = state["charts"][c.id]
        assert [t["name"] for t in page["traces"]] == [s.name for s in c.series]
        for s, t, marks, lines in zip(c.series, page["traces"], page["marks"], page["lines"]):
            assert (t["values"] if s.mode == "pie" else t["y"]) == s.y
            if s.x is not None:
                assert t["x"] == s.x
            if s.mode == "line":
                assert lines == 1  # a line, no markers
            else:
                assert marks == len(s.y)  # one bar, point or slice drawn per value
    # hover labels print the numbers (plotly's .4g format)
    assert "12.25" in state["charts"]["bars"]["hover"]
    assert "1200" in state["charts"]["steps"]["hover"]
    assert "40" in state["charts"]["roof"]["hover"] and "10" in state["charts"]["roof"]["hover"]
    assert "43%" in " ".join(state["charts"]["pie"]["slices"]) and "51.5%" in " ".join(state["charts"]["pie"]["slices"])
    assert "44" in state["tables"][0] and "ratios </td>" in state["tables"][0]


# ----- the reports loopnest writes: reading order, sorting, loop nests, labels, the roofline -----

_LAYOUT = """() => {
  const kinds = [...document.querySelectorAll('table, .chart, details')].map(e =>
      e.tagName === 'TABLE' ? (e.classList.contains('sortable') ? 'sortable' : 'table') : e.tagName === 'DETAILS' ? 'details' : 'chart');
  const boxes = {};
  for (const gd of document.querySelectorAll('.chart')) {
    const r = gd.getBoundingClientRect();
    const ticks = [...gd.querySelectorAll('.xtick text')].map(t => t.getBoundingClientRect());
    const legend = gd.querySelector('.legend');
    const l = legend ? legend.getBoundingClientRect() : null;
    boxes[gd.id] = {
      height: r.height, plot_height: gd._fullLayout._size.h,
      clipped: ticks.filter(t => t.left < r.left - 1 || t.right > r.right + 1 || t.bottom > r.bottom + 1 || t.top < r.top - 1).length,
      under_legend: l ? ticks.filter(t => t.left < l.right && t.right > l.left && t.top < l.bottom && t.bottom > l.top).length : 0,
      ticks: ticks.length,
      y_decades: gd._fullLayout.yaxis && gd._fullLayout.yaxis.type === 'log'
                 ? gd._fullLayout.yaxis._vals.filter(v => v.text).map(v => v.x) : null,
      x_decades: gd._fullLayout.xaxis && gd._fullLayout.xaxis.type === 'log'
                 ? gd._fullLayout.xaxis._vals.filter(v => v.text).map(v => v.x) : null,
      roofs: gd.data.filter(t => / roof/.test(t.name)).map(t => ({name: t.name, dash: (t.line || {}).dash || 'solid'})),
    };
  }
  const captions = [...document.querySelectorAll('table caption')].map(c => c.textContent);
  return {kinds, boxes, captions, text: document.body.innerText};
}"""


def _column(page, header: str) -> list[float]:
    return page.evaluate("""h => { const t = document.querySelector('table.sortable');
        const i = [...t.tHead.rows[0].cells].findIndex(c => c.textContent === h);
        return [...t.tBodies[0].rows].map(r => parseFloat(r.cells[i].getAttribute('data-v'))); }""", header)


def _evaluate_page(page) -> dict:
    out = page.evaluate(_LAYOUT)
    th = page.locator("table.sortable th", has_text="cycles").first
    th.click()
    out["ascending"] = _column(page, "cycles")
    th.click()
    out["descending"] = _column(page, "cycles")
    first = page.locator("details").first
    out["closed_text"] = first.inner_text()
    first.locator("summary").click()
    out["open_text"] = first.inner_text()
    return out


def test_evaluate_report_headline_first_sortable_tables_and_loop_nests(tmp_path):
    # issue 11, item 12: headline figures first, charts next, per-layer tables last and sortable;
    # each layer's loop nest (outer -> inner) on demand; area and the benchmarking sheet present
    from typer.testing import CliRunner

    from loopnest.cli import app

    path = tmp_path / "ev.html"
    r = CliRunner().invoke(app, ["evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--report", str(path)])
    assert r.exit_code == 0, r.output
    state, errors, requests = open_report(path, tmp_path / "profile", _evaluate_page)
    assert errors == [] and requests == []
    page, layers = state["act"], state["data"]["result"]["layers"]
    kinds = page["kinds"]
    assert kinds[:2] == ["table", "table"]  # the totals and the benchmarking sheet
    assert kinds.index("chart") < kinds.index("sortable") and "chart" not in kinds[kinds.index("sortable"):]
    assert kinds.count("details") == len(layers) == 5 and kinds[-1] == "details"
    assert page["captions"][0].startswith("Network totals") and "Benchmarking sheet" in page["captions"][1]
    assert "Core area, modeled (mm²)" in page["text"]
    # sorting by cycles: LeNet-5 on eyeriss, five layers; numbers sorted by value, not as text
    cycles = sorted(r["cycles"] for r in layers)
    assert page["ascending"] == cycles and page["descending"] == cycles[::-1]
    # the loop nest: hidden until opened, then outer -> inner from DRAM down to the MAC
    assert "for " not in page["closed_text"] and "outer -> inner" in page["closed_text"]
    nest = page["open_text"]
    assert nest.index("# DRAM keeps") < nest.index("# GlobalBuffer keeps") < nest.index("# RF keeps") < nest.index("MAC: outputs")
    for name, box in page["boxes"].items():
        assert box["clipped"] == 0 and box["under_legend"] == 0, (name, box)


def test_roofline_report_is_tall_with_decade_ticks_and_both_coinciding_roofs(tmp_path):
    # eyeriss: DRAM's and the global buffer's read and write ports all move 4 words/cycle (the
    # preset's bandwidths), so their roofs coincide; before, the buffer's dashes hid the DRAM roof and the plot was ~250 px high
    from typer.testing import CliRunner

    from loopnest.cli import app

    path = tmp_path / "rf.html"
    r = CliRunner().invoke(app, ["roofline", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--report", str(path)])
    assert r.exit_code == 0, r.output
    state, errors, _ = open_report(path, tmp_path / "profile", lambda page: page.evaluate(_LAYOUT))
    assert errors == []
    page = state["act"]
    roof = page["boxes"]["roofline"]
    assert roof["height"] >= 600 and roof["plot_height"] >= 350, roof
    for ticks in (roof["y_decades"], roof["x_decades"]):  # log10 of each labelled tick: decades only (before: 4, 5, ... 9 too)
        assert ticks and all(abs(t - round(t)) < 1e-9 for t in ticks), ticks
    names = {x["name"].split(" roof")[0]: x for x in roof["roofs"]}
    # one roof per port (issue 20): all four ports move 4 words/cycle, each roof names the others
    ports = ["DRAM read", "DRAM write", "GlobalBuffer read", "GlobalBuffer write"]
    assert sorted(n for n in names if n != "compute") == ports
    for p in ports:
        assert all(f"{o}" in names[p]["name"].split("= ", 1)[1] for o in ports if o != p), names[p]["name"]
    assert len({names[p]["dash"] for p in ports}) == len(ports)
    kinds = page["kinds"]
    assert kinds.index("sortable") > max(i for i, k in enumerate(kinds) if k == "chart")
    for name, box in page["boxes"].items():
        assert box["clipped"] == 0 and box["under_legend"] == 0, (name, box)


def test_long_layer_names_are_neither_clipped_nor_under_the_legend(tmp_path):
    # ResNet-50-like: 54 layers with long names and a five-level legend; before, the legend sat
    # under the plot (y = -0.25) on top of the turned labels, and the bottom margin was fixed
    names = [f"layer{i // 12 + 1}.{i % 12}.downsample.conv{i % 3 + 1}" for i in range(54)]
    chart = Chart("long", "Energy per layer by level",
                  [Series(lv, [float(i % 7 + 1) for i in range(54)]) for lv in ("DRAM", "GlobalBuffer", "GlobalBuffer.network", "RF", "MAC")],
                  y_label="energy (µJ)", categories=names)
    path = write_report(tmp_path / "long.html", "Long names", [Section("all", [], [], [chart])], {})
    state, errors, _ = open_report(path, tmp_path / "profile", lambda page: page.evaluate(_LAYOUT))
    assert errors == []
    box = state["act"]["boxes"]["long"]
    assert box["ticks"] == 54 and box["clipped"] == 0 and box["under_legend"] == 0, box


def test_prune_report_in_chromium_headline_first_and_the_exported_energies(tmp_path, digits_cache):  # noqa: F811
    # issue 14: the pruning report opens offline with no error; the before/after table comes first,
    # charts next, the sortable per-layer and per-step tables last; the bars are the export's numbers
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from typer.testing import CliRunner

    from loopnest.cli import app

    path = tmp_path / "prune.html"
    r = CliRunner().invoke(app, ["codesign", "prune", "digits-cnn2", "--arch", "eyeriss", "--method", "magnitude",
                                 "--finetune-epochs", "0", "--jobs", "1", "--report", str(path)])
    assert r.exit_code == 0, r.output
    state, errors, requests = open_report(path, tmp_path / "profile", lambda page: page.evaluate(_LAYOUT))
    assert errors == [] and requests == []
    kinds, result = state["act"]["kinds"], state["data"]["result"]
    assert kinds == ["table", "chart", "chart", "chart", "sortable", "sortable"]
    assert state["act"]["captions"][0].startswith("before and after")
    (before, after) = state["charts"]["prune-layer-energy"]["traces"]
    assert after["y"] == [lo["energy_pj"] for lo in result["final"]["layers"]]
    assert after["x"] == [lo["name"] for lo in result["final"]["layers"]]
    for box in state["act"]["boxes"].values():
        assert box["clipped"] == 0 and box["under_legend"] == 0, box
