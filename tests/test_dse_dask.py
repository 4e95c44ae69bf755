"""The Dask distributed executor: a sweep on a LocalCluster the test starts (no external service)
gives the local executor's rows bit for bit, and a worker killed mid-point loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loopnest.dse.point import evaluate_point
from loopnest.dse.run import run_sweep
from loopnest.dse.spec import load_sweep
from loopnest.dse.store import Store
from test_dse import TINY, _rows  # the same tiny sweep as the local executor's tests

distributed = pytest.importorskip("distributed", reason="the dse extra (dask[distributed]) is not installed")


@pytest.fixture
def sweep(tmp_path):
    """The spec file, and the store of an uninterrupted run on the local executor (this process)."""
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(TINY)
    spec, base = load_sweep(spec_path)
    ref = tmp_path / "ref.sqlite"
    with Store(ref) as st:
        run_sweep(spec, base, st, jobs=1)
    return spec_path, ref


def test_cli_dask_localcluster_equals_local(sweep, tmp_path):
    spec_path, ref = sweep
    db = tmp_path / "dask.sqlite"
    r = subprocess.run(["loopnest", "sweep", "run", str(spec_path), "--store", str(db), "--executor", "dask",
                        "--jobs", "2"], capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert r.returncode == 0, r.stderr
    assert "0 already stored, 4 computed (1 invalid)" in " ".join(r.stderr.split())
    assert _rows(db) == _rows(ref)  # every column, floats compared exactly


def _die_once(point):
    """``evaluate_point``, except that the first call (across all workers) kills its worker process."""
    marker = Path(os.environ["LOOPNEST_TEST_DIE_ONCE"])
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return evaluate_point(point)
    os._exit(1)  # the worker dies holding this point in flight


def test_scheduler_address_and_a_dead_worker(sweep, tmp_path, monkeypatch):
    """A cluster started by the test, reached by its tcp:// address; its first task kills its worker:
    the point is run again elsewhere and the store still equals the local run."""
    import cloudpickle

    spec_path, ref = sweep
    marker = tmp_path / "died"
    monkeypatch.setenv("LOOPNEST_TEST_DIE_ONCE", str(marker))  # before the workers start: they inherit it
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need not import this test file
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            spec, base = load_sweep(spec_path)
            db = tmp_path / "dask.sqlite"
            with Store(db) as st:
                run = run_sweep(spec, base, st, jobs=2, executor="dask", scheduler=cluster.scheduler_address,
                                evaluate=_die_once)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert marker.exists()  # a worker did die
    assert (run.total, run.computed, run.invalid) == (4, 4, 1)
    assert _rows(db) == _rows(ref)


def test_unreachable_scheduler_is_one_line(tmp_path):
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(TINY)
    r = subprocess.run(["loopnest", "sweep", "run", str(spec_path), "--store", str(tmp_path / "x.sqlite"),
                        "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"],
                       capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "cannot connect to a Dask scheduler" in r.stderr
