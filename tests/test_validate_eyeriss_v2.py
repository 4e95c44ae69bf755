"""The eyeriss-v2 suite: seed 001's table of Eyeriss v2's speed-up over Eyeriss v1 at 256, 1024 and
16384 PEs (Sze, 2020 evaluation talk, after Chen et al., JETCAS 2019), as scaling over the 256-PE
column, against the PE-scaling study's array (docs/dse.md) under Eyeriss v2's dataflow, rs+."""

import json

import pytest
from typer.testing import CliRunner

from loopnest.analysis.eyexam import capacity_bound_cycles
from loopnest.cli import app
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.validation import eyeriss_v2
from loopnest.workload import load_network
from loopnest.workload.layer_ref import load_layer


def test_expected_figures_are_the_seeds_table():
    # seed 001 slide 21: AlexNet 17.9x 71.5x 1086.7x; GoogLeNet 10.4x 37.8x 448.8x; MobileNet 15.7x 57.9x 873.0x
    got = {c.name: c for c in eyeriss_v2.cases()}
    want = {"alexnet": (17.9, 71.5, 1086.7), "googlenet": (10.4, 37.8, 448.8), "mobilenet_v1": (15.7, 57.9, 873.0)}
    for net, (s256, s1024, s16k) in want.items():
        assert got[f"{net} 1024 / 256 PEs: speed-up scaling"].expected == pytest.approx(s1024 / s256, rel=1e-15)
        assert got[f"{net} 16384 / 256 PEs: speed-up scaling"].expected == pytest.approx(s16k / s256, rel=1e-15)
    # AlexNet 71.5 / 17.9: 0.05 / 71.5 + 0.05 / 17.9
    assert got["alexnet 1024 / 256 PEs: speed-up scaling"].tolerance == pytest.approx(0.05 / 71.5 + 0.05 / 17.9)
    assert len(got) == 6 and not any(c.exact for c in got.values())


def test_scaled_array_follows_the_sweeps_rule():
    # examples/sweep_pe_scaling.yaml: side x side PEs, 256 16-bit words (512 B) of buffer per PE
    a = eyeriss_v2.scaled_array(32)
    assert a.pes == 1024 and a.levels[1].capacity_words == 1024 * 256 and a.dataflow == "rs"


def test_capacity_bound_of_alexnet_conv3_by_hand():
    # AlexNet CONV3 (M 384, C 256, P = Q = 13, R = S = 3) row stationary on 16 x 16 PEs: X takes 16
    # output channels (M = 2^7 x 3; P = 13 would give 13), Y takes the 3 filter rows times 4 input
    # channels (no divisor of C or M is 5): 16 x 12 = 192 PEs, 149,520,384 / 192 = 778,752 cycles
    # (the exact mapper, objective cycles, found the same: 191 CPU s, too slow for a test)
    a = eyeriss_v2.scaled_array(16)
    layer = load_layer("alexnet:conv3", 1)
    assert capacity_bound_cycles(layer, a, dataflow_constraints("rs", layer, a)) == 149_520_384 / 192


def test_the_suite_maps_with_eyeriss_v2s_dataflow():
    # rs+ fills 16 x 16 PEs on every MobileNet v1 layer (tests/test_dataflow_rs_plus.py, by hand),
    # so the 256-PE point is MACs / 256: 568,740,352 MACs, Howard et al. 2017's "569 million".
    macs = sum(p.macs for p in load_network("mobilenet_v1", batch=1).layers)
    assert round(macs / 1e6) == 569
    assert eyeriss_v2.DATAFLOW == "rs+" and eyeriss_v2.network_cycles("mobilenet_v1", 16) == macs / 256
    # 128 x 128: the heuristic mapper (rs+, objective cycles,energy, seed 0) mapped every layer to
    # its bound, 35,281 cycles in all (42 CPU s: too slow for a test); under rs the sweep's
    # 259,792 (docs/dse.md), rs left unchanged
    assert eyeriss_v2.network_cycles("mobilenet_v1", 128) == 35_281
    assert eyeriss_v2.network_cycles("mobilenet_v1", 128, "rs") == 259_792


def test_cli_suite_shows_each_case_with_its_status():
    out = CliRunner().invoke(app, ["validate", "--json", "--suite", "eyeriss-v2"])
    assert out.exit_code == 0, out.output
    cases = json.loads(out.output)["cases"]
    assert len(cases) == 6 and all(c["status"] in ("within tolerance", "outside tolerance") for c in cases)
    assert all(c["basis"] for c in cases)
