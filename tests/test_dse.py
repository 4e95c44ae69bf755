"""Design-space sweeps (loopnest.dse): spec errors, axis paths, sampling, Pareto fronts against
brute-force dominance, the store's version check, and a sweep killed with SIGKILL and resumed."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import loopnest
from loopnest.dse.pareto import pareto_front, parse_metrics
from loopnest.dse.point import evaluate_point
from loopnest.dse.run import run_sweep, sweep_points
from loopnest.dse.spec import SweepSpecError, apply, load_sweep, points
from loopnest.dse.store import Store, StoreError

# A tiny sweep: a 3-layer CNN on a 2x2 weight-stationary array; the last value is invalid
# (capacity_words must be positive), so every run records one invalid row.
TINY = """\
name: tiny
base: simple-ws
axes:
  - path: levels.GlobalBuffer.capacity_words
    values: [512, 1024, 4096, 0]
  - path: levels.GlobalBuffer.fanout.x
    values: [2]
  - path: levels[1].fanout.y
    values: [2]
workloads: [{model: digits-cnn2}]
mapper: {mode: exact}
"""


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["loopnest", *args], capture_output=True, text=True, env=os.environ.copy())


# --- spec ------------------------------------------------------------------------------------

@pytest.mark.parametrize("edit, expected", [
    (("levels.GlobalBuffer.capacity_words", "levels.GLB.capacity_words"),
     "axes[0].path: 'levels.GLB.capacity_words': no level 'GLB'; levels are DRAM, GlobalBuffer, PEReg"),
    (("levels.GlobalBuffer.capacity_words", "levels.GlobalBuffer.capacity"),
     "axes[0].path: 'levels.GlobalBuffer.capacity': no field 'capacity' here; valid fields: area_um2, block_words, capacity_words, class,"),
    (("levels.GlobalBuffer.fanout.x", "levels.PEReg.partitions.psums"),
     "axes[1].path: 'levels.PEReg.partitions.psums': no key 'psums' in 'partitions'; valid keys: inputs, weights, outputs"),
    (("levels.GlobalBuffer.fanout.x", "clock_mhz.x"), "axes[1].path: 'clock_mhz.x': 'clock_mhz' is a plain field"),
    (("values: [2]\n  - path: levels[1]", "values: []\n  - path: levels[1]"), "axes[1].values: empty axis"),
    (("digits-cnn2", "lenet6"), "workloads[0].model: unknown model 'lenet6'; available: lenet5"),
    (("mode: exact", "mode: fast"), "mapper.mode: Input should be 'exact', 'heuristic' or 'auto'"),
    (("name: tiny", "nam: tiny"), "nam: unknown field"),
    (("base: simple-ws", "base: nowhere"),
     "base: 'nowhere' is no file next to the spec and no preset; presets are dadiannao-like, diannao-like, digital-same-area, edge-npu,"),
    (("path: levels[1].fanout.y", "path: levels.GlobalBuffer.fanout.x"),
     "axes[2].path: 'levels.GlobalBuffer.fanout.x' is swept twice"),
    (("workloads:", "derived: [{path: levels.GlobalBuffer.capacity_words, value: 8}]\nworkloads:"),
     "derived[0].path: 'levels.GlobalBuffer.capacity_words' is already set by an axis"),
    (("workloads:", "derived: [{path: levels.PEReg.capacity, value: 8}]\nworkloads:"),
     "derived[0].path: 'levels.PEReg.capacity': no field 'capacity' here; valid fields: area_um2,"),
    (("workloads:", "derived: [{path: levels.PEReg.capacity_words, value: 'cap / 4'}]\nworkloads:"),
     "derived[0].value: unknown name 'cap'; no names are defined here, only numbers"),
    (("workloads:", "constraints: [{value: '1', min: 3, max: 2}]\nworkloads:"), "constraints[0]: min 3 is above max 2"),
    (("workloads:", "constraints: [{value: '1'}]\nworkloads:"), "constraints[0]: give min, max or both"),
])
def test_spec_errors_name_the_field(tmp_path, edit, expected):
    p = _write(tmp_path, TINY.replace(*edit))
    with pytest.raises(SweepSpecError) as e:
        load_sweep(p)
    assert str(e.value).startswith(f"{p}: ") and expected in str(e.value)


def test_cli_spec_error_is_one_line(tmp_path):
    p = _write(tmp_path, TINY.replace("levels.GlobalBuffer.capacity_words", "levels.GLB.capacity_words"))
    r = _cli("sweep", "run", str(p), "--store", str(tmp_path / "s.sqlite"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "no level 'GLB'" in r.stderr
    assert not (tmp_path / "s.sqlite").exists()  # the spec is checked before the store is made


def test_cli_store_folder_checked_before_the_sweep(tmp_path):
    r = _cli("sweep", "run", str(_write(tmp_path, TINY)), "--store", str(tmp_path / "no" / "s.sqlite"))
    assert r.returncode == 2 and "does not exist" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_apply_paths_by_name_index_and_star(tmp_path):
    spec, base = load_sweep(_write(tmp_path, TINY))
    out = apply(base, {"levels.GlobalBuffer.capacity_words": 7, "levels[2].word_bits": 8, "levels.*.block_words": 2,
                       "compute.operand_bits": 8})
    gb, reg = out["levels"][1], out["levels"][2]
    assert gb["capacity_words"] == 7 and reg["word_bits"] == 8 and gb["word_bits"] == 16
    assert all(lv["block_words"] == 2 for lv in out["levels"]) and out["compute"]["operand_bits"] == 8
    assert base["levels"][1]["capacity_words"] == "128 * 1024 / 2"  # the base is not modified
    out = apply(base, {"levels.PEReg.fanout.x": 3, "levels.PEReg.partitions.weights": 4})  # created where missing
    assert out["levels"][2]["fanout"] == {"x": 3} and out["levels"][2]["partitions"] == {"weights": 4}


def test_grid_and_random_sampling(tmp_path):
    text = TINY.replace("values: [2]\n  - path: levels[1]", "values: [1, 2, 4]\n  - path: levels[1]")
    spec, _ = load_sweep(_write(tmp_path, text))
    grid = points(spec)
    assert len(grid) == 4 * 3 * 1
    assert grid[0] == {"levels.GlobalBuffer.capacity_words": 512, "levels.GlobalBuffer.fanout.x": 1, "levels[1].fanout.y": 2}
    assert grid[1]["levels.GlobalBuffer.fanout.x"] == 2  # the last axis varies fastest... of those with >1 value
    rnd = _write(tmp_path, text + "sampling: {method: random, points: 5, seed: 3}\n", "r.yaml")
    a, b = points(load_sweep(rnd)[0]), points(load_sweep(rnd)[0])
    assert a == b and len(a) == 5 and all(p in grid for p in a)
    assert len({tuple(p.values()) for p in a}) == 5  # distinct
    assert [grid.index(p) for p in a] == sorted(grid.index(p) for p in a)  # in grid order
    many = _write(tmp_path, text + "sampling: {method: random, points: 50}\n", "m.yaml")
    assert points(load_sweep(many)[0]) == grid  # more points than the grid: the whole grid
    with pytest.raises(SweepSpecError, match="sampling.points: random sampling needs"):
        load_sweep(_write(tmp_path, text + "sampling: {method: random}\n", "n.yaml"))


DERIVED = """\
name: derived
base: simple-ws
axes:
  - {path: levels.GlobalBuffer.fanout.x, name: side, values: [2, 4, 8]}
  - {path: levels.PEReg.capacity_words, name: rf, values: [16, "64 / 2"]}
derived:
  - {path: levels.GlobalBuffer.fanout.y, value: side}
  - {path: levels.GlobalBuffer.capacity_words, value: "side * side * rf"}
constraints:
  - {value: "side * rf", min: 64, max: 200}
workloads: [{model: digits-cnn2}]
"""


def test_derived_values_and_constraints(tmp_path):
    spec, base = load_sweep(_write(tmp_path, DERIVED))
    # side * rf over the grid: 32 64 | 64 128 | 128 256; within [64, 200]: (2, 32), (4, 16), (4, 32), (8, 16)
    got = [(p["levels.GlobalBuffer.fanout.x"], p["levels.PEReg.capacity_words"], p["levels.GlobalBuffer.fanout.y"],
            p["levels.GlobalBuffer.capacity_words"]) for p in points(spec, base)]
    assert got == [(2, "64 / 2", 2, 128), (4, 16, 4, 256), (4, "64 / 2", 4, 512), (8, 16, 8, 1024)]
    arch = apply(base, points(spec, base)[0])
    assert arch["levels"][1]["fanout"]["y"] == 2 and arch["levels"][1]["capacity_words"] == 128


def test_area_constraint_uses_the_arch_area_model(tmp_path):
    """An equal-area style constraint: kept are exactly the points whose architecture's own area
    (parse_arch, the arch area model) is within the bounds."""
    from loopnest.arch.loader import parse_arch

    text = DERIVED.replace('{value: "side * rf", min: 64, max: 200}', "{value: area_um2, max: 5.0e4}")
    spec, base = load_sweep(_write(tmp_path, text))
    kept = points(spec, base)
    free = points(load_sweep(_write(tmp_path, text.replace("constraints:\n  - {value: area_um2, max: 5.0e4}\n", ""), "f.yaml"))[0], base)
    areas = [parse_arch(apply(base, p), source="t").total_area_um2 for p in free]
    assert kept == [p for p, a in zip(free, areas) if a <= 5.0e4]
    assert 0 < len(kept) < len(free)  # the bound cuts the grid


def test_unsatisfiable_constraint_is_one_line(tmp_path):
    p = _write(tmp_path, DERIVED.replace("min: 64, max: 200", "min: 300"))
    r = _cli("sweep", "run", str(p), "--store", str(tmp_path / "s.sqlite"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert ("constraints: no point of the 6-point grid satisfies them all; over the grid constraints[0] 'side * rf' "
            "is 32 to 256, allowed [300, inf]") in " ".join(r.stderr.split())


# --- Pareto ----------------------------------------------------------------------------------

def _brute_front(v: np.ndarray) -> list[int]:
    """By the definition: i is kept unless some j is <= in every metric and < in one."""
    return [i for i in range(len(v))
            if not any(np.all(v[j] <= v[i]) and np.any(v[j] < v[i]) for j in range(len(v)) if j != i)]


@pytest.mark.parametrize("k", [2, 3])
def test_pareto_matches_brute_force(k):
    rng = np.random.default_rng(16 + k)
    for trial in range(40):
        n = int(rng.integers(1, 60))
        v = rng.integers(0, 6, size=(n, k)).astype(float) if trial % 2 else rng.random((n, k))  # ties and not
        assert pareto_front(v).tolist() == _brute_front(v)


def test_pareto_hand_case():
    # (1,4) (2,2) (4,1) trade off; (3,3) is dominated by (2,2); the duplicate (2,2) stays
    v = np.array([[1, 4], [3, 3], [2, 2], [4, 1], [2, 2]], dtype=float)
    assert pareto_front(v).tolist() == [0, 2, 3, 4]
    assert parse_metrics("energy, latency") == ["energy_pj", "cycles"]
    with pytest.raises(ValueError, match="two or three distinct metrics"):
        parse_metrics("energy")


# --- store -----------------------------------------------------------------------------------

def test_version_mismatch_is_refused(tmp_path):
    db = tmp_path / "s.sqlite"
    Store(db).close()
    with sqlite3.connect(db) as c:
        c.execute("UPDATE meta SET value='0.0.1' WHERE key='loopnest_version'")
    with pytest.raises(StoreError, match=f"written by loopnest 0.0.1, this is loopnest {loopnest.__version__}"):
        Store(db)
    r = _cli("sweep", "show", str(db))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "never mixed" in r.stderr


def test_not_a_store(tmp_path):
    bad = _write(tmp_path, "hello", "x.sqlite")
    with pytest.raises(StoreError, match="not a loopnest sweep store"):
        Store(bad)
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_key_covers_the_version(tmp_path, monkeypatch):
    spec, base = load_sweep(_write(tmp_path, TINY))
    p = sweep_points(spec, base)[0]
    k = p.key
    assert len({q.key for q in sweep_points(spec, base)}) == 4
    monkeypatch.setattr(loopnest, "__version__", "9.9.9")
    assert p.key != k


def test_mapper_remainder_folds_reach_the_mapper_and_the_key(tmp_path, monkeypatch):
    """``mapper: {remainder_folds: true}`` (sweep specs: the mapper's settings are the spec's) goes
    into each point, its key (only when on: the keys of the points without it are the ones stored
    before it existed) and ``map_network``."""
    import loopnest.search.network

    off = sweep_points(*load_sweep(_write(tmp_path, TINY)))
    on = sweep_points(*load_sweep(_write(tmp_path, TINY.replace("mapper: {mode: exact}", "mapper: {mode: exact, remainder_folds: true}"))))
    assert [p.remainder_folds for p in off] == [False] * 4 and [p.remainder_folds for p in on] == [True] * 4
    assert off[0].key == replace(on[0], remainder_folds=False).key != on[0].key
    seen = []

    class Reached(Exception):
        pass

    def spy(*args, **kwargs):
        seen.append(kwargs.get("remainder_folds"))
        raise Reached

    monkeypatch.setattr(loopnest.search.network, "map_network", spy)  # evaluate_point imports it when it runs
    for p in (on[0], off[0]):
        with pytest.raises(Reached):
            evaluate_point(p)
    assert seen == [True, False]


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return sorted(c.execute("SELECT * FROM results").fetchall())


def _count(db: Path) -> int:
    """Rows stored so far (0 before the store or its tables exist)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as c:
            return c.execute("SELECT count(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # tables not made yet
        return 0


def test_sigkill_resume_gives_the_uninterrupted_rows(tmp_path):
    spec_path = _write(tmp_path, TINY)
    ref = tmp_path / "ref.sqlite"
    spec, base = load_sweep(spec_path)
    with Store(ref) as st:
        run = run_sweep(spec, base, st, jobs=1)
    assert (run.total, run.computed, run.invalid) == (4, 4, 1)
    invalid = [r for r in Store(ref).rows() if r["status"] == "invalid"]
    assert invalid[0]["params"]["levels.GlobalBuffer.capacity_words"] == 0
    assert "capacity_words" in invalid[0]["reason"] and invalid[0]["energy_pj"] is None

    # killed with SIGKILL three times, each at a random moment (once a random number of rows is
    # stored, plus a random delay), restarted each time; then finished
    db = tmp_path / "killed.sqlite"
    rng = np.random.default_rng(1616)
    interrupted = []
    for target in sorted(rng.integers(0, 4, size=3).tolist()):
        proc = subprocess.Popen(["loopnest", "sweep", "run", str(spec_path), "--store", str(db)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        delay = float(rng.uniform(0, 0.4))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and _count(db) < target:
            time.sleep(0.02)
        time.sleep(delay)
        running = proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        n = _count(db)
        if running and n < 4:
            interrupted.append(n)
    assert interrupted, "every sweep ended before it could be killed"
    assert _count(db) == len(_rows(db)) == len({row[0] for row in _rows(db)})  # whole rows, no duplicates
    r = _cli("sweep", "run", str(spec_path), "--store", str(db), "--jobs", "2")  # resumed on a process pool
    assert r.returncode == 0, r.stderr
    assert f"{n} already stored, {4 - n} computed" in " ".join(r.stderr.split())
    # same rows, no duplicates (key is the primary key), the same numbers from either executor
    assert _rows(db) == _rows(ref)

    # show: the Pareto front of the stored rows is the brute-force one; CSV and JSON carry the axes
    r = _cli("sweep", "show", str(db), "--pareto", "energy,area", "--json")
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)["rows"]
    ok = [row for row in Store(db).rows() if row["status"] == "ok"]
    v = np.array([[row["energy_pj"], row["area_um2"]] for row in ok])
    assert [row["key"] for row in shown] == [ok[i]["key"] for i in _brute_front(v)]
    # --csv prints CSV to stdout like every other command's --csv (issue 11, item 13)
    r = _cli("sweep", "show", str(db), "--pareto", "energy,area", "--csv")
    assert r.returncode == 0, r.stderr
    lines = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [line["key"] for line in lines] == [row["key"] for row in shown]
    assert "param:levels.GlobalBuffer.capacity_words" in lines[0] and "energy.DRAM" in lines[0]


def test_a_layer_that_fits_nowhere_is_an_invalid_row(tmp_path):
    # row stationary spreads the filter rows R over the array's y: conv1's R = 3 exceeds y = 2
    text = TINY.replace("[512, 1024, 4096, 0]", "[512]").replace("mode: exact", "mode: exact, dataflow: rs")
    spec, base = load_sweep(_write(tmp_path, text))
    row = evaluate_point(sweep_points(spec, base)[0])
    assert row["status"] == "invalid" and row["energy_pj"] is None and row["area_um2"] > 0
    assert row["reason"].startswith("layer conv1: no valid mapping: dimension R=3 cannot be split")


def test_point_row_matches_network_totals(tmp_path):
    """A point's numbers are the network mapper's totals on the same architecture, with the
    non-MAC operators (ReLU, pooling: model.elementwise) added to the MAC layers'."""
    from loopnest.arch import load_arch
    from loopnest.model.elementwise import evaluate_element_op
    from loopnest.search.network import map_network
    from loopnest.workload import load_network

    spec, base = load_sweep(_write(tmp_path, TINY.replace("[512, 1024, 4096, 0]", "[65536]").replace("[2]", "[16]")))
    row = evaluate_point(sweep_points(spec, base)[0])
    arch = load_arch("simple-ws")  # 128 KB = 65536 words, 16 x 16: the preset itself
    net = map_network(load_network("digits-cnn2"), arch, "ws", None, "energy", "exact", 0, jobs=1)
    ops = [evaluate_element_op(op, arch) for op in net.ops]
    mac_cycles = sum(lo.result.cycles for lo in net.layers)
    energy = sum(lo.result.energy_pj for lo in net.layers) + sum(c.energy_pj for c in ops)
    cycles = mac_cycles + sum(c.cycles for c in ops)
    assert ops and row["status"] == "ok" and row["energy_pj"] == pytest.approx(energy, rel=1e-12)
    assert row["cycles"] == cycles and row["edp"] == pytest.approx(energy * cycles, rel=1e-12)
    assert row["area_um2"] == pytest.approx(arch.total_area_um2, rel=1e-12)
    macs = sum(lo.result.macs for lo in net.layers)
    assert row["utilization"] == pytest.approx(macs / (mac_cycles * 256), rel=1e-12)  # the MAC layers', as evaluate


# The shipped seed-study specs (docs/dse.md): each loads, its axis paths exist in its base, and it has the
# points its comment states (GLB: 7 sizes x 2 networks; RF: 6 sizes; RF2: 2 x 3 sizes and its one-level
# baseline 3 sizes; PE: 3 arrays x 3 networks).
@pytest.mark.parametrize("name, n", [("sweep_glb_size", 14), ("sweep_rf_size", 6), ("sweep_rf2", 6), ("sweep_rf2_base", 3),
                                     ("sweep_pe_scaling", 9)])
def test_shipped_seed_study_specs_load(name, n):
    spec, base = load_sweep(Path(__file__).resolve().parents[1] / "examples" / f"{name}.yaml")
    assert len(sweep_points(spec, base)) == n


def test_rf2_baseline_is_the_rf2_design_less_its_second_level():
    """docs/dse.md compares sweep_rf2.yaml's rows with sweep_rf2_base.yaml's: for each RF size the same
    architecture but the RF2 level, the same table, workload and mapper settings."""
    ex = Path(__file__).resolve().parents[1] / "examples"
    two, one = sweep_points(*load_sweep(ex / "sweep_rf2.yaml")), sweep_points(*load_sweep(ex / "sweep_rf2_base.yaml"))
    settings = {(p.table, p.model, p.batch, p.mode, p.objective, p.dataflow, p.seed) for p in [*two, *one]}
    assert len(settings) == 1

    def strip(arch: dict) -> dict:
        return {k: v for k, v in arch.items() if k not in ("name", "description")}

    base = {json.loads(p.arch)["levels"][-1]["capacity_words"]: strip(json.loads(p.arch)) for p in one}
    for p in two:
        arch = strip(json.loads(p.arch))
        arch["levels"] = [lv for lv in arch["levels"] if lv["name"] != "RF2"]
        assert arch == base[arch["levels"][-1]["capacity_words"]]
    assert sorted(base) == [8, 16, 32]


def test_show_takes_one_output_format(tmp_path):
    r = _cli("sweep", "show", str(tmp_path / "none.sqlite"), "--json", "--csv")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "error: --json and --csv: choose one output format"


@pytest.mark.parametrize("window", [1, 2, 4])
def test_windowed_yields_every_point_once(window):
    """More points than the window: each point's row comes back exactly once (a window filled
    with ``zip(iterator, range(window))`` pulled one point too many from the iterator and
    dropped it: a sweep of 14 points on 2 jobs stored 13 and reported 14 computed)."""
    from concurrent.futures import Future

    from loopnest.dse.run import windowed

    def submit(p):
        fut = Future()
        fut.set_result(p * 10)
        return fut

    rows = list(windowed(list(range(10)), window, submit, lambda pending: (set(pending), set())))
    assert sorted(rows) == [10 * p for p in range(10)]


def test_a_sweep_on_two_jobs_stores_every_point(tmp_path):
    """The end-to-end symptom: more points than the local pool's window (2 x jobs), every row stored."""
    spec, base = load_sweep(_write(tmp_path, TINY.replace("[512, 1024, 4096, 0]", "[256, 512, 1024, 2048, 4096, 0]")))
    with Store(tmp_path / "s.sqlite") as st:
        run = run_sweep(spec, base, st, jobs=2)
        assert len(st.rows()) == run.computed == 6


def test_point_totals_include_shift_copies_as_evaluate(tmp_path, monkeypatch):
    """A sweep point on a network with a shift records evaluate's totals with the non-MAC
    operators (search.summary "with_element_ops"), not the MAC layers' alone: the shift's copy
    (model.elementwise) is in energy, cycles, edp and the per-level energies."""
    from loopnest.arch import load_arch
    from loopnest.search.network import map_network
    from loopnest.search.summary import to_dict
    from loopnest.workload import load_network, zoo
    from loopnest.workload.builder import Builder

    def tiny_shift(batch=1):
        b = Builder("tiny-shift", {"input": (8, 6, 6)})
        b.conv("conv2", b.shift("shift", b.conv("conv1", "input", 8, 1), 3), 8, 1)
        return b.build(batch)

    monkeypatch.setitem(zoo.MODELS, "tiny-shift", (tiny_shift, "a 1x1 conv, a 3x3 shift, a 1x1 conv"))
    text = TINY.replace("[512, 1024, 4096, 0]", "[65536]").replace("[2]", "[16]").replace("digits-cnn2", "tiny-shift")
    spec, base = load_sweep(_write(tmp_path, text))
    row = evaluate_point(sweep_points(spec, base)[0])
    net = map_network(load_network("tiny-shift"), load_arch("simple-ws"), "ws", None, "energy", "exact", 0, jobs=1)
    tot = to_dict(net)["totals"]
    ops, both = tot["element_ops"], tot["with_element_ops"]
    assert ops["count"] == 1 and ops["copied_elements"] == 8 * 6 * 6 and ops["energy_pj"] > 0 and ops["cycles"] > 0
    assert row["status"] == "ok"
    assert row["energy_pj"] == pytest.approx(both["energy_pj"], rel=1e-12) and row["cycles"] == both["cycles"]
    assert row["energy_pj"] == pytest.approx(tot["energy_pj"] + ops["energy_pj"], rel=1e-12)  # more than the MAC layers'
    assert (row["element_ops_energy_pj"], row["element_ops_cycles"]) == (pytest.approx(ops["energy_pj"]), ops["cycles"])
    assert row["edp"] == pytest.approx(both["energy_pj"] * both["cycles"], rel=1e-12)
    assert sum(json.loads(row["energy_by_level"]).values()) == pytest.approx(row["energy_pj"], rel=1e-12)
