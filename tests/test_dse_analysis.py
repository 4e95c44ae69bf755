"""Sweep analysis and output: sensitivity (hand-derived cases), CSV/Parquet/DataFrame export, and
the `loopnest sweep report` dashboard opened in Chromium (Pareto scatter hover, per-axis plots, table)."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_report_browser import open_report

from loopnest.dse.analysis import front_rows, sensitivity
from loopnest.dse.point import canonical
from loopnest.dse.store import COLUMNS, Store

# A synthetic 3 x 2 grid (no mapper: the analysis and the outputs are what is tested):
# energy = a * e(b), cycles = 1200 / a * c(b), area = 10 * a, with e(b) = 1 or 3, c(b) = 1 or 2.
A = [1, 2, 4]
B = {"small": (1.0, 1.0), "2 * 8": (3.0, 2.0)}  # a string axis value, as an expression would be written


def _row(i: int, a: int, b: str, model: str = "toy") -> dict:
    e, c = B[b]
    energy, cycles = a * e, 1200 / a * c
    return {"key": f"{model}-{i}", "point": i, "params": canonical({"levels.GB.capacity_words": a, "levels.GB.mode": b}),
            "model": model, "batch": 1, "status": "ok", "reason": None, "energy_pj": energy, "cycles": cycles,
            "area_um2": 10.0 * a, "edp": energy * cycles, "utilization": 0.5, "energy_units": "pJ",
            "energy_by_level": canonical({"DRAM": energy * 0.75, "MAC": energy * 0.25}), "layers": 3,
            "element_ops_energy_pj": 0.0, "element_ops_cycles": 0.0}


def _store(tmp_path: Path) -> Path:
    db = tmp_path / "s.sqlite"
    with Store(db) as st:
        i = 0
        for a in A:
            for b in B:
                st.add(_row(i, a, b))
                i += 1
        bad = {c: None for c in COLUMNS} | {"key": "bad", "point": i, "params": canonical({"levels.GB.capacity_words": 0}),
                                           "model": "toy", "batch": 1, "status": "invalid", "reason": "capacity_words must be > 0"}
        st.add(bad)
    return db


def test_sensitivity_hand_cases(tmp_path):
    with Store(_store(tmp_path)) as st:
        rows = st.rows()
    sens = {(s["axis"], s["metric"]): s for s in sensitivity(rows, ["energy_pj", "cycles", "area_um2"])}
    # energy = a * e(b): per a, the geometric mean over b is a * sqrt(1 * 3): max/min = 4 / 1
    s = sens[("levels.GB.capacity_words", "energy_pj")]
    assert s["ratio"] == pytest.approx(4.0, rel=1e-12) and (s["lowest_at"], s["highest_at"]) == (1, 4)
    # per b, the geometric mean over a is e(b) * (1*2*4)^(1/3): max/min = 3 / 1; cycles: 2 / 1
    assert sens[("levels.GB.mode", "energy_pj")]["ratio"] == pytest.approx(3.0, rel=1e-12)
    assert sens[("levels.GB.mode", "energy_pj")]["highest_at"] == "2 * 8"
    assert sens[("levels.GB.mode", "cycles")]["ratio"] == pytest.approx(2.0, rel=1e-12)
    assert sens[("levels.GB.capacity_words", "cycles")]["lowest_at"] == 4
    # area does not depend on b: ratio exactly 1
    assert sens[("levels.GB.mode", "area_um2")]["ratio"] == pytest.approx(1.0, rel=1e-12)
    # the invalid row (capacity 0) is not a value of the axis
    assert len(sensitivity(rows, ["energy_pj"])) == 2


def _brute(points: list[tuple]) -> list[int]:
    return [i for i, p in enumerate(points)
            if not any(all(q[k] <= p[k] for k in range(len(p))) and q != p and any(q[k] < p[k] for k in range(len(p)))
                       for q in points)]


def test_front_rows_per_workload_is_the_brute_force_front():
    rng = np.random.default_rng(7)
    rows = [{"key": str(i), "model": m, "batch": 1, "status": "ok", "energy_pj": float(rng.integers(1, 9)),
             "cycles": float(rng.integers(1, 9)), "area_um2": float(rng.integers(1, 9))}
            for i, m in enumerate(["a", "b"] * 30)]
    for metrics in (["energy_pj", "cycles"], ["energy_pj", "cycles", "area_um2"]):
        got = {r["key"] for r in front_rows(rows, metrics)}
        want = set()
        for m in ("a", "b"):
            group = [r for r in rows if r["model"] == m]
            want |= {group[i]["key"] for i in _brute([tuple(r[k] for k in metrics) for r in group])}
        assert got == want


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["loopnest", *args], capture_output=True, text=True, env=os.environ.copy(), timeout=300)


def test_export_csv_parquet_and_dataframe(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from loopnest.dse.export import to_dataframe

    db = _store(tmp_path)
    df = to_dataframe(db)
    assert len(df) == 7 and {"param:levels.GB.capacity_words", "param:levels.GB.mode", "energy.DRAM"} <= set(df.columns)
    ok = df[df.status == "ok"].sort_values("point")
    assert ok["energy_pj"].tolist() == [a * B[b][0] for a in A for b in B]
    r = _cli("sweep", "export", str(db), "-o", str(tmp_path / "s.parquet"))
    assert r.returncode == 0, r.stderr
    back = pd.read_parquet(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    r = _cli("sweep", "export", str(db), "-o", str(tmp_path / "f.csv"), "--pareto", "energy,latency")
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "f.csv") as fh:
        lines = list(csv.DictReader(fh))
    # energy = a * e, cycles = 1200 c / a: with b = small every a trades energy for latency; b = "2 * 8" is
    # dominated at every a (3x the energy and 2x the cycles of the same a with b = small)
    assert sorted(int(line["param:levels.GB.capacity_words"]) for line in lines) == A
    assert {line["param:levels.GB.mode"] for line in lines} == {"small"}


@pytest.mark.parametrize("args, expected", [
    (("-o", "x.txt"), "-o: x.txt: an export is written as .csv or .parquet, not '.txt'"),
    (("-o", "x.csv", "--pareto", "energy"), "--pareto: 'energy': give two or three distinct metrics"),
])
def test_export_errors_are_one_line(tmp_path, args, expected):
    db = _store(tmp_path)
    r = subprocess.run(["loopnest", "sweep", "export", str(db), *args], capture_output=True, text=True,
                       env=os.environ.copy(), cwd=tmp_path, timeout=300)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and expected in r.stderr


def test_dashboard_in_chromium(tmp_path):
    db = _store(tmp_path)
    out = tmp_path / "dash.html"
    r = _cli("sweep", "report", str(db), "-o", str(out))
    assert r.returncode == 0, r.stderr
    state, errors, requests = open_report(out, tmp_path / "profile")
    assert errors == [] and requests == []
    data = state["data"]["result"]
    assert sorted(data["front"]) == ["toy-0", "toy-2", "toy-4"]  # b = small at a = 1, 2, 4 (see the export test)
    scatter = state["charts"]["pareto-w0"]
    designs, front = scatter["traces"]
    assert (designs["name"], front["name"]) == ("designs", "Pareto front")
    assert front["x"] == [1.0, 2.0, 4.0] and front["y"] == [1200.0, 600.0, 300.0]  # energy pJ, cycles
    assert sorted(zip(designs["x"], designs["y"])) == [(3.0, 2400.0), (6.0, 1200.0), (12.0, 600.0)]
    assert scatter["marks"] == [3, 3]
    # hovering a point shows the design's axis values (the first trace's second point: a = 2, b = "2 * 8")
    assert "levels.GB.capacity_words = 2" in scatter["hover"] and "levels.GB.mode = 2 * 8" in scatter["hover"]
    # per-axis plot: energy's geometric mean over b at a = 1, 2, 4 is a * sqrt(3)
    axis = state["charts"]["axis-w0-0-energy_pj"]["traces"][0]
    assert axis["x"] == [1.0, 2.0, 4.0]
    assert axis["y"] == pytest.approx([a * math.sqrt(3) for a in A], rel=1e-12)
    assert state["charts"]["axis-w0-1-cycles"]["traces"][0]["x"] == ["small", "2 * 8"]  # a string axis: bars
    tables = " ".join(state["tables"])
    assert "capacity_words must be > 0" in tables and "invalid" in tables  # the invalid row is listed
    assert "sensitivity of each metric to each axis" in tables
    assert json.loads(json.dumps(data["rows"]))[0]["params"]  # rows embedded with their axis values


def test_show_plot_writes_the_dashboard_charts(tmp_path):
    db = _store(tmp_path)
    r = _cli("sweep", "show", str(db), "--plot", str(tmp_path / "s.png"))
    assert r.returncode == 0, r.stderr
    # the Pareto scatter, then per axis (a: numeric, b: a string axis) the energy and latency plots
    names = ["s.png", "s-axis-w0-0-energy_pj.png", "s-axis-w0-0-cycles.png", "s-axis-w0-1-energy_pj.png",
             "s-axis-w0-1-cycles.png"]
    assert sorted(p.name for p in tmp_path.glob("s*.png")) == sorted(names)
    assert all((tmp_path / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)
    bad = _cli("sweep", "show", str(db), "--plot", str(tmp_path / "s.txt"))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "--plot:" in bad.stderr


def test_per_axis_plots_use_log_axes_over_8x_spans():
    from loopnest.report.dse import sweep_charts

    def charts(a_values):
        rows = [r | {"params": json.loads(r["params"])} for r in (_row(i, a, "small") for i, a in enumerate(a_values))]
        return {c.id: c for c in sweep_charts(rows, ["energy_pj", "cycles"])}

    small = charts(A)
    # a in 1..4 (4x), energy = a in 1..4, cycles = 1200 / a in 300..1200: linear axes
    assert not small["axis-w0-0-energy_pj"].log_x and not small["axis-w0-0-energy_pj"].log_y
    wide = charts([1, 8])
    # a in {1, 8}: energy 1..8 and cycles 150..1200 span 8x: log axes
    assert wide["axis-w0-0-energy_pj"].log_x and wide["axis-w0-0-energy_pj"].log_y and wide["axis-w0-0-cycles"].log_y
