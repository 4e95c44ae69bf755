"""Sampling method optuna (model-based search): proposals are a function of the spec and earlier
results, so a search is repeatable, resumes from its store after an interruption with the same
final rows, and evaluates the requested number of distinct points admitted by the constraints."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from loopnest.dse.point import METRICS, Point, canonical
from loopnest.dse.run import run_sweep
from loopnest.dse.spec import load_sweep
from loopnest.dse.store import Store

pytest.importorskip("optuna", reason="the optuna extra is not installed")

SPEC = """\
name: opt
base: simple-ws
axes:
  - {path: levels.GlobalBuffer.capacity_words, name: cap, values: [256, 512, 1024, 2048, 4096, 8192, 16384, 32768]}
  - {path: levels.GlobalBuffer.fanout.x, name: x, values: [1, 2, 4, 8, 16]}
constraints:
  - {value: "cap / x", min: 64}
workloads: [{model: digits-cnn2}, {model: digits-cnn4}]
sampling: {method: optuna, points: 9, seed: 5, batch: 2}
"""


def fake_evaluate(point: Point) -> dict:
    """A row whose energy is a smooth function of the axis values (no mapper: the search is tested)."""
    p = dict(point.params)
    cap, x = p["levels.GlobalBuffer.capacity_words"], p["levels.GlobalBuffer.fanout.x"]
    energy = (cap / 2048 + 2048 / cap) * (1 + abs(x - 4)) * (2 if point.model == "digits-cnn4" else 1)
    row = {"key": point.key, "point": point.index, "params": canonical(p), "model": point.model, "batch": point.batch,
           "status": "ok", "reason": None, **{m: 1.0 for m in METRICS}, "energy_units": "pJ", "energy_by_level": None,
           "layers": 2, "element_ops_energy_pj": 0.0, "element_ops_cycles": 0.0}
    row["energy_pj"] = energy
    if cap == 256:  # an invalid architecture, told to the optimizer as a failed trial
        row.update(status="invalid", reason="too small", energy_pj=None)
    return row


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return sorted(c.execute("SELECT * FROM results").fetchall())


def _run(spec_path: Path, db: Path, evaluate=fake_evaluate):
    spec, base = load_sweep(spec_path)
    with Store(db) as st:
        return run_sweep(spec, base, st, evaluate=evaluate)


def test_search_is_repeatable_and_resumes(tmp_path):
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(SPEC)
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    run = _run(spec_path, a)
    assert (run.architectures, run.total, run.computed) == (9, 18, 18)
    _run(spec_path, b)
    assert _rows(a) == _rows(b)  # the same proposals, the same rows
    rows = Store(a).rows()
    for r in rows:  # every point is admitted by the constraint cap / x >= 64
        assert r["params"]["levels.GlobalBuffer.capacity_words"] / r["params"]["levels.GlobalBuffer.fanout.x"] >= 64
    assert len({canonical(r["params"]) for r in rows}) == 9

    # interrupted after 7 rows (as by Ctrl-C), then run again: only the missing rows are computed
    calls = []

    def dies(point: Point) -> dict:
        if len(calls) == 7:
            raise KeyboardInterrupt
        calls.append(point)
        return fake_evaluate(point)

    c = tmp_path / "c.sqlite"
    with pytest.raises(KeyboardInterrupt):
        _run(spec_path, c, dies)
    assert len(_rows(c)) == 7
    again = _run(spec_path, c)
    assert (again.stored, again.computed) == (7, 11)
    assert _rows(c) == _rows(a)


def test_cli_optuna_on_the_mapper(tmp_path):
    """A real (tiny) search through the CLI: 2 of 3 architectures on the 3-layer CNN."""
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(SPEC.replace("[256, 512, 1024, 2048, 4096, 8192, 16384, 32768]", "[512, 1024, 4096]")
                         .replace("[1, 2, 4, 8, 16]", "[2]").replace("{model: digits-cnn2}, {model: digits-cnn4}",
                                                                       "{model: digits-cnn2}")
                         .replace("points: 9, seed: 5, batch: 2", "points: 2, seed: 1") + "mapper: {mode: exact}\n")
    r = subprocess.run(["loopnest", "sweep", "run", str(spec_path), "--store", str(tmp_path / "o.sqlite")],
                       capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert r.returncode == 0, r.stderr
    assert "2 points (2 architectures x 1 workloads); 0 already stored, 2 computed (0 invalid)" in " ".join(r.stderr.split())
