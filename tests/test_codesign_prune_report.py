"""Energy-aware against magnitude pruning at equal accuracy (the matching rule on a hand-made
sweep), and the HTML reports of `codesign prune`, `prune-compare` and `netadapt`: self-contained,
the JSON export embedded, the charts showing the exported numbers."""

import json
import re

import pytest
from codesign_helpers import digits_cache  # noqa: F401  (a fixture)

from loopnest.codesign.prune_compare import match


def _p(acc: float, energy: float, budget=None) -> dict:
    return {"accuracy_test": acc, "energy_pj": energy, "budget_points": budget}


def test_match_takes_each_methods_lowest_energy_at_or_above_the_target_accuracy():
    """Unpruned 98 % at 100 pJ. Magnitude: 97.6 % / 80 pJ (budget 1), 96 % / 50 pJ (budget 3).
    Energy-aware: 97.05 % / 60 pJ (1), 95.1 % / 30 pJ (3). Drop 0.5 (>= 97.5 %): magnitude 80,
    energy-aware only the unpruned 100 -> ratio 0.8. Drop 1 (>= 97 %): 80 and 60 -> 4/3.
    Drop 3 (>= 95 %): 50 and 30 -> 5/3. Drop 0: both the unpruned network, ratio 1."""
    unpruned = _p(0.98, 100.0)
    points = {"magnitude": [_p(0.976, 80.0, 1), _p(0.96, 50.0, 3)], "energy": [_p(0.9705, 60.0, 1), _p(0.951, 30.0, 3)]}
    rows = match(unpruned, points, [0.0, 0.5, 1.0, 3.0])
    assert [(r["magnitude"]["energy_pj"], r["energy"]["energy_pj"]) for r in rows] == [(100, 100), (80, 100), (80, 60), (50, 30)]
    assert [r["energy_ratio"] for r in rows] == pytest.approx([1.0, 0.8, 4 / 3, 5 / 3])
    assert rows[2]["energy"]["budget_points"] == 1 and rows[1]["energy"]["budget_points"] is None  # None: unpruned
    assert rows[3]["magnitude"]["energy_reduction"] == pytest.approx(2.0)


def _embedded(path) -> dict:
    page = path.read_text()
    assert "<link" not in page and not re.search(r"<script[^>]*\bsrc=", page)  # self-contained
    blob = re.search(r'<script id="loopnest-data" type="application/json">(.*?)</script>', page, re.DOTALL).group(1)
    return json.loads(blob)


def _run(*args):
    from typer.testing import CliRunner

    from loopnest.cli import app

    return CliRunner().invoke(app, ["codesign", *args])


def test_prune_report_embeds_the_export_and_charts_its_per_layer_energy(digits_cache, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("plotly")
    path = tmp_path / "prune.html"
    args = ("prune", "digits-cnn2", "--arch", "eyeriss", "--method", "magnitude", "--finetune-epochs", "0", "--jobs", "1")
    r = _run(*args, "--report", str(path), "--json")
    assert r.exit_code == 0, r.output
    out, data = json.loads(r.stdout), _embedded(path)
    assert data["result"] == out
    bars = data["charts"]["prune-layer-energy"]["series"]
    assert [s["name"] for s in bars] == ["before", "after"]
    assert bars[1]["y"] == [lo["energy_pj"] for lo in out["final"]["layers"]]
    assert bars[0]["y"] == [lo["energy_pj"] for lo in out["start"]["layers"]]
    by_level = data["charts"]["prune-energy-by-level"]["series"]
    for i, lo in enumerate(out["final"]["layers"]):  # the stacked parts add up to each layer's energy
        assert sum(s["y"][i] for s in by_level) == pytest.approx(lo["energy_pj"])
    bad = _run(*args, "--report", str(tmp_path / "prune.txt"))
    assert bad.exit_code != 0 and "--report" in bad.output and len(bad.output.strip().splitlines()) == 1


def test_netadapt_report_shows_the_trace(digits_cache, monkeypatch, tmp_path):
    """The mapper replaced by cycles = energy = MACs, as in test_codesign_pruning's CLI test."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("plotly")
    from loopnest.codesign import netadapt

    monkeypatch.setattr(netadapt.LookupTable, "_search", lambda self, problem: (float(problem.macs), float(problem.macs)))
    monkeypatch.setattr(netadapt, "_SHARED", {})
    monkeypatch.setattr(netadapt.LookupTable, "save", lambda self: None)
    monkeypatch.setattr(netadapt, "_read_entries", lambda path: {})  # no table another test saved (real searches)
    path = tmp_path / "na.html"
    r = _run("netadapt", "digits-cnn2", "--budget", "latency=0.5x", "--step", "0.3", "--long-epochs", "0",
             "--report", str(path), "--json")
    assert r.exit_code == 0, r.output
    out, data = json.loads(r.stdout), _embedded(path)
    assert data["result"] == out and out["trace"]
    (line, final) = data["charts"]["netadapt-trace"]["series"]
    assert line["x"] == [out["start"]["cycles"], *(it["cycles"] for it in out["trace"])]
    assert final["y"] == [100 * out["final"]["accuracy_test"]]


def test_prune_compare_report_puts_both_methods_on_the_same_axes(digits_cache, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("plotly")
    path = tmp_path / "cmp.html"
    r = _run("prune-compare", "digits-cnn2", "--arch", "eyeriss", "--budgets", "0", "--targets", "1",
             "--finetune-epochs", "0", "--report", str(path), "--json")
    assert r.exit_code == 0, r.output
    out, data = json.loads(r.stdout), _embedded(path)
    assert data["result"] == out
    series = {s["name"]: s for s in data["charts"]["prune-compare"]["series"]}
    for method, name in (("magnitude", "magnitude (one global threshold)"), ("energy", "energy-aware (layers by energy)")):
        assert series[name]["x"] == [p["energy_pj"] for p in out["points"][method]]
        assert series[name]["y"] == [100 * p["accuracy_test"] for p in out["points"][method]]
    assert series["unpruned"]["x"] == [out["unpruned"]["energy_pj"]]
    # eyeriss exploits no zero weights: every point costs what the unpruned network costs
    assert {p["energy_pj"] for pts in out["points"].values() for p in pts} == {out["unpruned"]["energy_pj"]}
    assert out["matched"][0]["energy_ratio"] == 1.0


@pytest.mark.parametrize("args, message", [
    (("--budgets", "1,x"), "--budgets: comma-separated accuracy points >= 0, got 'x'"),
    (("--budgets", "-1"), "--budgets: comma-separated accuracy points >= 0, got '-1'"),
    (("--targets", "nan"), "--targets: comma-separated accuracy points >= 0, got 'nan'"),
    (("--budgets", " "), "--budgets: at least one accuracy-drop budget (points), got ' '")])
def test_prune_compare_bad_input_one_line(digits_cache, args, message):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    r = _run("prune-compare", "digits-cnn2", "--arch", "eyeriss", *args)
    assert r.exit_code != 0 and message in r.output and len(r.output.strip().splitlines()) == 1, r.output
