"""Long runs: Ctrl-C (SIGINT) and SIGTERM stop `evaluate` at once with one line and 128 + the
signal, no worker process left behind and every finished layer kept; a per-layer timeout keeps
the best mapping found so far; results do not depend on the run or on --jobs (timing apart)."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from loopnest.arch import load_arch
from loopnest.cli import app
from loopnest.search import mapper
from loopnest.search.mapper import search_layer
from loopnest.search.network import Interrupted, map_network
from loopnest.search.summary import to_dict
from loopnest.search.tilings import OutOfTime
from loopnest.workload import load_network

from fuzz_inputs import alive, children

LOOPNEST = [sys.executable, "-c", "from loopnest.cli import main; main()"]


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_search_stops_at_once_without_orphans(sig, code):
    """Before: SIGTERM left both workers running as orphans; SIGINT to the main process alone did
    not stop the run within 120 s (21.9: it waited for every queued layer shape)."""
    proc = subprocess.Popen(LOOPNEST + ["evaluate", "resnet50", "--arch", "simba-like", "--jobs", "2", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = children(proc.pid)
        assert len(workers) >= 2, "the workers did not start"
        time.sleep(2.0)  # mid-search: the first shapes are being searched
        proc.send_signal(sig)  # to the main process alone (its own session: no terminal group signal)
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=30)
        seconds = time.monotonic() - t0
        time.sleep(0.5)
        left = [w for w in workers if alive(w)]
    finally:
        try:  # whatever the outcome, nothing of this run survives the test (the old code left orphans)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    assert proc.returncode == code, err[-500:]
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: interrupted by {signal.Signals(sig).name}: "), err
    assert "layer shapes searched" in lines[0]
    assert seconds < 10, seconds
    assert not left, "worker processes were left running"
    if out:  # the finished layers, as JSON, with the others named as pending
        data = json.loads(out)
        assert data["pending"] and len(data["layers"]) + len(data["unmapped"]) + len(data["pending"]) == 54


def tiny_net():
    return load_network("alexnet")


@pytest.mark.parametrize("jobs", [1, 2])
def test_interrupt_keeps_every_finished_layer(jobs):
    """A KeyboardInterrupt after the second finished shape: Interrupted carries exactly the
    finished layers (equal to a full run's), names the others pending, and no worker is left."""
    arch = load_arch("simple-ws")
    net = tiny_net()
    full = {r["name"]: r for r in to_dict(map_network(net, arch, mode="heuristic", jobs=1))["layers"]}

    def tick(done, total, name):
        if done == 2:
            raise KeyboardInterrupt

    before = set(multiprocessing.active_children())  # children of earlier tests may still be exiting
    with pytest.raises(Interrupted) as info:
        map_network(net, arch, mode="heuristic", jobs=jobs, progress=tick)
    part = info.value.partial
    assert info.value.signum == signal.SIGINT and part.searches == 2 and part.shapes_total > 2
    data = to_dict(part)
    assert data["pending"] and len(data["layers"]) + len(data["pending"]) == len(net.layers)
    for row in data["layers"]:
        assert row["mapping"] == full[row["name"]]["mapping"] and row["energy_pj"] == full[row["name"]]["energy_pj"]
    assert set(multiprocessing.active_children()) - before == set()  # none of this run's workers is left


def test_layer_timeout_keeps_the_best_found_so_far(monkeypatch):
    """The timeout fires once a first mapping is found (patched clock, so the test does not depend
    on the machine's speed): the result is that mapping, marked timed out, never better than the
    exact optimum."""
    arch = load_arch("simple-ws")
    layer = load_network("lenet5").layers[3]  # fc2: exact in about 0.5 s
    exact = search_layer(layer, arch, mode="exact")

    def clock(self):
        if self.best_row is not None:
            raise OutOfTime

    monkeypatch.setattr(mapper._Search, "clock", clock)
    cut = search_layer(layer, arch, mode="exact", timeout_s=5.0)
    assert cut.timed_out and cut.result is not None and "layer timeout of 5 s" in cut.notes[-1]
    assert cut.result.energy_pj >= exact.result.energy_pj


def test_layer_timeout_waits_for_a_first_mapping():
    """A timeout shorter than the time to the first mapping still reports a mapping (not nothing)."""
    arch = load_arch("simple-ws")
    cut = search_layer(load_network("lenet5").layers[3], arch, mode="exact", timeout_s=1e-9)
    assert cut.timed_out and cut.result is not None


def test_cli_layer_timeout_reports_every_layer():
    r = CliRunner().invoke(app, ["evaluate", "lenet5", "--arch", "simple-ws", "--jobs", "1", "--json",
                                 "--layer-timeout", "30"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert all("timed_out" in row["search"] for row in data["layers"]) and not data["pending"]


def without_timing(stdout: str) -> str:
    data = json.loads(stdout)
    data.pop("timing")
    return json.dumps(data, indent=1)


def test_results_are_identical_across_runs_and_jobs():
    """Two runs, and --jobs 1 vs --jobs 2: the same JSON byte for byte once the timing block is dropped
    (before: per-layer and total seconds, and the process count, were spread through it)."""
    args = ["evaluate", "lenet5", "--arch", "simple-ws", "--mode", "heuristic", "--json"]
    runs = [CliRunner().invoke(app, args + ["--jobs", j]) for j in ("1", "1", "2")]
    assert all(r.exit_code == 0 for r in runs), [r.output[-300:] for r in runs]
    texts = [without_timing(r.stdout) for r in runs]
    assert texts[0] == texts[1] == texts[2]
    timing = json.loads(runs[2].stdout)["timing"]
    assert timing["jobs"] == 2 and set(timing) == {"seconds", "jobs", "layers"}
