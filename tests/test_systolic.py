"""Systolic fill/drain (``fanout.systolic``): hand-derived fold counts and SCALE-Sim's figures.

The per-fold form is SCALE-Sim's analytical ``2 S_R + S_C + T - 2`` (Samajdar et al., "A
systematic methodology for characterizing scalability of DNN accelerators using SCALE-Sim",
ISPASS 2020) for WS and IS; SCALE-Sim 3.0.0 gives ``S_R + S_C + T - 2`` for OS (its runs in
``loopnest.validation.scalesim.RUNS``, e.g. OS 16x32, M=96 N=64 K=100: 6 x 2 folds of 16 + 32 +
100 - 2 = 146 cycles, 1,752, and SCALE-Sim prints 1,751).
"""

import json

import pytest
from typer.testing import CliRunner

from loopnest.arch.spec import Fanout
from loopnest.cli import app
from loopnest.mapping.mapping import MappingError
from loopnest.model import evaluate
from loopnest.validation import scalesim
from loopnest.workload.layers import fc
from model_helpers import arch, mapping, spec_error


@pytest.mark.parametrize("dataflow, per_fold", [("ws", 2 * 4 + 3 - 2), ("is", 2 * 4 + 3 - 2), ("os", 4 + 3 - 2),
                                                (None, 0)])
def test_fill_drain_per_fold(dataflow, per_fold):
    # 4 rows (S_R = x), 3 columns (S_C = y)
    assert Fanout(x=4, y=3, systolic=dataflow).fill_drain_cycles == per_fold


GEMM = fc("g", C=8, M=6, N=5)  # 240 MACs


def _cycles(systolic, *levels):
    a = arch("DRAM", "Buf", "PE", fanout=Fanout(x=4, y=3, reduction=True, systolic=systolic))
    return evaluate(GEMM, a, mapping(*levels)).to_dict()


def test_each_fold_adds_fill_and_drain():
    # WS: C on the 4 rows, M on the 3 columns; folds C 8/4 = 2 x M 6/3 = 2 = 4, each streaming
    # N = 5 through the array: 4 x 5 = 20 compute steps, plus 4 folds x (2*4 + 3 - 2 = 9) = 56
    ws = ({}, {"t": {"C": 2, "M": 2}, "x": {"C": 4}, "y": {"M": 3}}, {"t": {"N": 5}})
    plain, systolic = _cycles(None, *ws), _cycles("ws", *ws)
    assert (plain["cycles"], plain["fill_drain_cycles"]) == (20, 0)  # no systolic fanout: unchanged
    assert (systolic["cycles"], systolic["fill_drain_cycles"], systolic["compute_cycles"]) == (56, 36, 20)
    # a fold loop at the outermost level is a fold too: the same 4 folds
    assert _cycles("ws", {"t": {"C": 2}}, {"t": {"M": 2}, "x": {"C": 4}, "y": {"M": 3}}, {"t": {"N": 5}})["cycles"] == 56
    # streaming N outside the array makes every step a fold: 20 folds x (1 + 9) = 200
    assert _cycles("ws", {}, {"t": {"C": 2, "M": 2, "N": 5}, "x": {"C": 4}, "y": {"M": 3}}, {})["cycles"] == 200
    # OS pays x + y - 2 = 5 per fold: 20 + 4 x 5
    assert _cycles("os", *ws)["cycles"] == 40


def test_the_scalesim_suite_is_within_one_cycle():
    runs = scalesim.RUNS + scalesim.CONV_RUNS
    cases = list(scalesim.cases())[:len(runs)]  # the network totals follow (test_whole_networks_against_scalesim)
    assert len(cases) == len(runs) >= 13 and {r.dataflow for r in scalesim.RUNS} == {"ws", "os", "is"}
    for c, run in zip(cases, runs):
        assert c.passed and c.got - c.expected == 1, c  # SCALE-Sim prints one cycle under its folds' sum
    # without the fill/drain, WS 32x32 M=100 N=64 K=96 would be its 3 x 2 folds x 100 streaming steps
    ws = scalesim.RUNS[0]
    assert (ws.dataflow, ws.m, ws.n, ws.k, ws.rows, ws.cols) == ("ws", 100, 64, 96, 32, 32)
    plain = scalesim.systolic_arch(ws)
    plain = plain.model_copy(update={"levels": tuple(
        lv.model_copy(update={"fanout": lv.fanout.model_copy(update={"systolic": None})}) if lv.fanout else lv
        for lv in plain.levels)})
    assert evaluate(fc("g", C=96, M=64, N=100), plain, scalesim.systolic_mapping(ws)).cycles == 600  # SCALE-Sim: 1,163


def test_validate_lists_the_scalesim_suite():
    out = CliRunner().invoke(app, ["validate", "--json", "--suite", "scalesim-systolic"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert len(data["cases"]) == len(scalesim.RUNS + scalesim.CONV_RUNS + scalesim.NETWORKS) + \
        sum(len(layers) for layers, _ in scalesim.LAYER_CYCLES.values()) + 1 and all(c["status"] == "within tolerance" and c["basis"] for c in data["cases"])


def test_a_bad_systolic_value_is_one_clear_line(tmp_path):
    path, msg = spec_error(tmp_path, {"systolic": "rs"})
    assert msg.startswith(f"{path}: ") and "systolic" in msg and "'ws'" in msg and "\n" not in msg, msg



def test_conv_mapping_holds_scalesims_folds():
    # WS, ResNet-50 res2 3x3 (C 64, M 64, 56 x 56) on 32 x 32: SCALE-Sim folds C*R*S = 576 rows into
    # 18 and M into 2: 36 folds of 3,136 pixels; ours: C 2 x R 3 x S 3 x M 2 = 36 folds, the same
    # T, and 36 x (3,136 + 94) = 116,280 (SCALE-Sim: 116,279)
    run = next(r for r in scalesim.CONV_RUNS if (r.dataflow, r.r, r.m) == ("ws", 3, 64))
    m = scalesim.conv_mapping(run)
    assert m.levels[1].temporal == {"C": 2, "R": 3, "S": 3, "M": 2} and m.levels[2].temporal == {"P": 56, "Q": 56}
    assert scalesim.cycles(run) == 36 * (3136 + 2 * 32 + 32 - 2) == 116_280
    with pytest.raises(ValueError, match="does not divide"):  # 14 x 14 = 196 pixels on 32 columns: a partial fold
        scalesim.conv_mapping(scalesim.ConvRun("os", 32, 32, 14, 256, 256, 3, 0))


def test_a_partial_last_fold_takes_a_full_folds_time():
    """SCALE-Sim pads a partial fold to the whole array (scalesim/compute/systolic_compute_ws.py:
    ``row_fold = ceil(Sr / arr_row)``, the missing rows filled with null requests), so it costs a
    full fold. WS GEMM C = 10 on 4 rows: ceil(10 / 4) = 3 row folds (4, 4 and 2 rows), M = 6 on 3
    columns: 2 folds; N = 5 streams: 3 x 2 folds x (5 + 2*4 + 3 - 2 = 14) = 84 cycles."""
    g = fc("g", C=10, M=6, N=5)  # 300 MACs
    a = arch("DRAM", "Buf", "PE", fanout=Fanout(x=4, y=3, reduction=True, systolic="ws"))
    r = evaluate(g, a, mapping({}, {"t": {"C": 3, "M": 2}, "x": {"C": 4}, "y": {"M": 3}}, {"t": {"N": 5}}))
    d = r.to_dict()
    assert (d["cycles"], d["compute_cycles"], d["fill_drain_cycles"]) == (84, 30, 54)
    # the layer's own 300 MACs at the price of a MAC (that of the 240-MAC GEMM above), and its
    # utilization over the 12 PEs
    per_mac = _cycles(None, {}, {"t": {"C": 2, "M": 2}, "x": {"C": 4}, "y": {"M": 3}}, {"t": {"N": 5}})["compute_energy_pj"] / 240
    assert d["macs"] == 300 and d["compute_energy_pj"] == pytest.approx(300 * per_mac)
    assert d["utilization"] == pytest.approx(300 / (84 * 12))
    # without the padding there is no mapping of C = 10 on 4 rows: the old rule rejected this one
    with pytest.raises(MappingError, match="multiply to 16.*outermost loop, 4"):  # 16 - 10 = 6: more than a fold
        evaluate(g, a, mapping({}, {"t": {"C": 4, "M": 2}, "x": {"C": 4}, "y": {"M": 3}}, {"t": {"N": 5}}))
    # not a systolic array: remainder tiles, costed exactly (model/clipped.py): the partial fold
    # runs its own steps only, 3 x 2 x 5 = 30 MAC steps and no fill or drain
    plain = arch("DRAM", "Buf", "PE", fanout=Fanout(x=4, y=3, reduction=True))
    r = evaluate(g, plain, mapping({}, {"t": {"C": 3, "M": 2}, "x": {"C": 4}, "y": {"M": 3}}, {"t": {"N": 5}}))
    assert (r.to_dict()["compute_cycles"], r.utilization) == (30, pytest.approx(300 / (30 * 12)))
    with pytest.raises(MappingError, match="multiply to 8, but the layer has C=10$"):  # short of the size: as before
        evaluate(g, a, mapping({}, {"t": {"C": 2, "M": 2}, "x": {"C": 4}, "y": {"M": 3}}, {"t": {"N": 5}}))


def test_whole_networks_against_scalesim():
    """AlexNet conv1 in SCALE-Sim's WS (its im2col GEMM): window 11 x 11 x 3 = 363 on 32 rows is
    ceil(363 / 32) = 12 row folds, the last of 11 rows; 96 filters 3 column folds; 55 x 55 = 3,025
    pixels stream: 36 x (3,025 + 2*32 + 32 - 2) = 112,284 cycles. The network totals are SCALE-Sim's
    plus one cycle per layer (its total is one under its folds' sum on every layer)."""
    conv1 = scalesim.NETS["AlexNet"][0]
    run = scalesim.im2col(conv1, "ws")
    assert (run.m, run.n, run.k) == (3025, 96, 363)
    assert scalesim.cycles(run) == 36 * (3025 + 94) == 112_284  # SCALE-Sim 3.0.0 printed 112,283
    per_layer = [c for c in scalesim.cases() if "AlexNet Conv" in c.name]
    assert len(per_layer) == 3 * 5 and all(c.got - c.expected == 1 for c in per_layer)
    for df in ("ws", "os", "is"):  # the per-layer runs add up to issue 20's totals
        net = next(n for n in scalesim.NETWORKS if (n.network, n.dataflow) == ("AlexNet", df))
        assert sum(scalesim.LAYER_CYCLES[("AlexNet", df)][0]) == net.cycles
    nets = [c for c in scalesim.cases() if "total" in c.name]
    assert len(nets) == len(scalesim.NETWORKS) == 6
    # ResNet-50 WS, OS and IS per layer (SCALE-Sim's compute system): ours is one cycle over on each of the 54
    resnet = [c for c in scalesim.cases() if "ResNet-50" in c.name and "total" not in c.name]
    assert len(resnet) == 3 * 54 and all(c.got - c.expected == 1 for c in resnet)
    assert sum(scalesim.LAYER_CYCLES[("ResNet-50", "ws")][0]) == 5_753_486  # issue 20's full-run total
    for case, net in zip(nets, scalesim.NETWORKS):
        assert case.got - case.expected == len(scalesim.NETS[net.network]) and case.rel_error < 0.05, case
