"""Whole-network mapping and the `loopnest evaluate` main job."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.cli import app
from loopnest.mapping.constraints import parse_constraints
from loopnest.search.network import map_network
from loopnest.search.summary import to_dict
from loopnest.workload.layers import conv2d, fc
from loopnest.workload.network import Network, Node

E = {"read": 1.0, "write": 2.0, "update": 2.0}
runner = CliRunner()


def arch(rf_cap: int = 16) -> Architecture:
    return Architecture(name="tiny", clock_mhz=100, levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj={"read": 50.0, "write": 50.0, "update": 50.0}),
        Storage(name="Buffer", capacity_words=256, energy_pj=E, fanout=Fanout(x=2, y=2, energy_pj=0.5)),
        Storage(name="RF", capacity_words=rf_cap, energy_pj=E),
    ), compute=Compute(energy_pj=1.0))


def net() -> Network:
    """Two layers of one shape (solved once), a different one, and an FC."""
    a = conv2d("a", C=2, M=4, H=4, W=4, R=3, padding=1)
    b = conv2d("b", C=2, M=4, H=4, W=4, R=3, padding=1)
    c = conv2d("c", C=4, M=2, H=4, W=4, R=1)
    d = fc("d", C=8, M=4)
    return Network("toy", 1, (Node("a", a, ("x",)), Node("b", b, ("a",)), Node("c", c, ("b",)), Node("d", d, ("c",))),
                   {"x": (2, 4, 4)})


KEEP = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]},
                          {"level": "RF", "keep": ["inputs", "weights", "outputs"]}])


def test_network_totals_are_sums_and_shapes_are_solved_once():
    res = map_network(net(), arch(), constraints=KEEP, jobs=1)
    assert res.searches == 3  # a and b share one search
    assert [lo.same_as for lo in res.layers] == [None, "a", None, None]
    data = to_dict(res)
    la, lb = data["layers"][0], data["layers"][1]
    assert la["energy_pj"] == lb["energy_pj"] and la["mapping"] == lb["mapping"] and lb["name"] == "b"
    tot = data["totals"]
    assert tot["macs"] == sum(l["macs"] for l in data["layers"]) == 4 * 4 * 4 * 2 * 9 * 2 + 16 * 2 * 4 + 32
    assert tot["energy_pj"] == pytest.approx(sum(l["energy_pj"] for l in data["layers"]))
    for l in data["layers"]:  # each layer's energy is the sum of its levels, networks and MACs
        assert sum(l["energy_by_level_pj"].values()) == pytest.approx(l["energy_pj"])
        assert set(l["accesses_by_level"]) == {"DRAM", "Buffer", "RF"}
        assert l["energy_by_level_pj"]["MAC"] == pytest.approx(l["macs"] * 1.0)
    s = data["sheet"]
    # runtime = cycles / clock: cycles / (100 MHz * 1e3 cycles per ms)
    assert s["runtime_ms"] == pytest.approx(tot["cycles"] / 1e5)
    # power = energy / time: pJ * 1e-12 / (ms * 1e-3) W, in mW
    assert s["power_mW"] == pytest.approx(tot["energy_pj"] * 1e-12 / (s["runtime_ms"] * 1e-3) * 1e3)
    assert s["pes"] == 4 and s["non_zero_macs"] == tot["macs"]


def test_processes_give_the_same_result():
    one = to_dict(map_network(net(), arch(), constraints=KEEP, jobs=1))
    two = to_dict(map_network(net(), arch(), constraints=KEEP, jobs=2))
    assert [l["mapping"] for l in one["layers"]] == [l["mapping"] for l in two["layers"]]
    assert one["totals"]["energy_pj"] == two["totals"]["energy_pj"]


def test_unmappable_layer_is_reported_not_dropped():
    # RF of 2 words with weights, inputs and outputs all kept there: no tile of 3 words fits
    res = map_network(net(), arch(rf_cap=2), constraints=KEEP, jobs=1)
    data = to_dict(res)
    assert {u["name"] for u in data["unmapped"]} == {"a", "b", "c", "d"}
    assert all("RF (2 words)" in u["reason"] for u in data["unmapped"])


def test_cli_json_csv_and_errors():
    r = runner.invoke(app, ["evaluate", "lenet5", "--arch", "simple-ws", "--mode", "heuristic", "--jobs", "1", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert {"model", "arch", "batch", "layers", "totals"} <= set(data)
    assert {"name", "macs", "cycles", "utilization", "energy_pj", "energy_by_level_pj", "accesses_by_level",
            "mapping"} <= set(data["layers"][0])
    assert {"macs", "cycles", "energy_pj", "energy_by_level_pj", "accesses_by_level"} <= set(data["totals"])
    r = runner.invoke(app, ["evaluate", "lenet5", "--arch", "simple-ws", "--mode", "heuristic", "--jobs", "1", "--csv"])
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows[-1]["name"] == "TOTAL" and len(rows) == len(data["layers"]) + 1
    r = runner.invoke(app, ["evaluate", "lenet5", "--arch", "nosuch"])
    assert r.exit_code == 2 and "eyeriss" in r.output  # the valid presets are listed
    r = runner.invoke(app, ["evaluate", "lenet5", "--arch", "eyeriss", "--dataflow", "xs"])
    assert r.exit_code == 2 and "valid: ws, os, is, rs, rs+, nlr, os-a, os-b, os-c, none" in r.output
    r = runner.invoke(app, ["evaluate", "lenet5", "--arch", "eyeriss", "--objective", "speed"])
    assert r.exit_code == 2 and "cannot read 'speed'" in r.output
