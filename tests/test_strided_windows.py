"""Strides wider than the window (``strided_windows: positions``): a one-term strided input index
counts the positions read, not their hull. Hand-derived counts; the brute-force simulator
(tests/model_simulator.py, literal sets) as the reference of the rule."""

import itertools

import pytest

from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
from loopnest.workload.layers import conv2d
from loopnest.workload.problem import read_positions
from model_helpers import spec_error
from model_simulator import Simulator
from test_model_simulator import conv1d_problem, level, model_counts, three_levels

P1 = {"N": 1, "M": 1, "C": 1}


def _positions(a):
    return a.model_copy(update={"strided_windows": "positions"})


def test_a_1x1_stride_2_conv_reads_a_quarter_of_its_hull():
    """ResNet-50's 1x1 stride-2 shape in small: 8 x 8 inputs, 4 x 4 outputs. The filter reads rows
    and columns 0, 2, 4, 6: 16 inputs; the hull of those is 7 x 7 = 49 (issue 20: "about 4x")."""
    layer = conv2d("s2", C=1, M=1, H=8, W=8, R=1, stride=2)
    assert (layer.dims["P"], layer.dims["Q"]) == (4, 4)
    a = three_levels((1, 1), True, True)
    m = Mapping((LevelMapping(), LevelMapping(), LevelMapping(temporal={"P": 4, "Q": 4}, keep=frozenset({"inputs"}))))
    assert evaluate(layer, a, m).count("DRAM", "inputs", "reads") == 49  # the default: Timeloop's hull
    assert evaluate(layer, _positions(a), m).count("DRAM", "inputs", "reads") == 16
    # a stride-1 layer, or a window wider than its stride, is unchanged
    assert read_positions(conv2d("s1", C=1, M=1, H=8, W=8, R=3)) == conv2d("s1", C=1, M=1, H=8, W=8, R=3)
    assert read_positions(conv2d("s2r3", C=1, M=1, H=9, W=9, R=3, stride=2)).tensor("inputs").indices == \
        conv2d("s2r3", C=1, M=1, H=9, W=9, R=3, stride=2).tensor("inputs").indices


@pytest.mark.parametrize("mapping, brief, hull", [
    # test_model_simulator's HAND_CASES "stride-gap-multicast-to-macs": 2 MACs (GLB fanout P2,
    # multicast), stride 2: the MACs read inputs 0 and 2, so DRAM delivers 2 words (hull: 3)
    (Mapping((level(), level([], x={"P": 2}), level([]))), 2, 3),
    # "stride-gap-multicast-to-rfs": RF p holds inputs (c, 2p), c in 0..1; the union over p is 4 (hull: 6)
    (Mapping((level(), level([], x={"P": 2}), level(["inputs"], t={"C": 2}))), 4, 6),
])
def test_the_simulators_stride_gap_cases_come_out_as_the_brief_counts_them(mapping, brief, hull):
    sizes = P1 | {"P": 2, "R": 1} | ({"C": 2} if mapping.levels[2].temporal else {})
    problem, a = conv1d_problem(sizes, 2, 1), three_levels((2, 1), True, False)
    assert model_counts(problem, a, mapping)["reads"][0, 0] == hull
    assert model_counts(problem, _positions(a), mapping)["reads"][0, 0] == brief


def test_positions_equal_the_simulators_literal_sets():
    """Every mapping of a stride-3, 1-wide conv1d (P 6, C 2) over DRAM -> GLB (2 PEs, multicast) ->
    RF: with ``positions`` the model's reads, fills and updates equal the simulator's literal
    sets (its gaps are not counted) wherever the simulator flags nothing but the gaps."""
    problem, a = conv1d_problem(P1 | {"C": 2, "P": 6, "R": 1}, 3, 1), _positions(three_levels((2, 1), True, True))
    checked = 0
    for pd, px, pr in itertools.product((1, 3), (1, 2), (1, 2, 3, 6)):
        if pd * px * pr != 6:
            continue
        for cd, keep in itertools.product((1, 2), (["inputs"], ["inputs", "outputs"], [])):
            m = Mapping((level(t={"P": pd, "C": cd}), level(keep, x={"P": px}) if px > 1 else level(keep),
                         level(["inputs", "outputs", "weights"], t={"P": pr, "C": 2 // cd})))
            sim = Simulator(problem, a, m, split_outer=True)
            if {h[0] for h in sim.hazards} - {"gappy"}:
                continue
            got = model_counts(problem, a, m)
            for f in ("reads", "fills", "updates"):
                assert (getattr(sim, f) == got[f]).all(), (f, m)
            checked += 1
    assert checked >= 6


def test_a_bad_strided_windows_value_is_one_clear_line(tmp_path):
    path, msg = spec_error(tmp_path, strided_windows="gaps")
    assert msg.startswith(f"{path}: ") and "strided_windows" in msg and "'hull'" in msg and "\n" not in msg, msg


def test_the_mapper_searches_the_positions_it_costs():
    """The mapspace prunes and bounds on the same tile sizes the model counts: the best mapping's
    cost, re-evaluated, is the searched one."""
    from loopnest.search.mapper import search_layer

    layer = conv2d("s2", C=2, M=2, H=8, W=8, R=1, stride=2)
    a = _positions(three_levels((2, 1), True, True))
    best = search_layer(layer, a)
    r = evaluate(layer, a, best.mapping)
    assert best.mode == "exact" and r.energy_pj == pytest.approx(best.result.energy_pj)
    # counting fewer inputs never makes the best mapping dearer than the hull's best
    assert best.result.energy_pj <= search_layer(layer, three_levels((2, 1), True, True)).result.energy_pj
