"""Strides wider than the window (``strided_windows: positions``): a strided or dilated input index
counts the positions read, not their hull, for a 1-wide window (one term) and for wider windows
and dilation (two terms, ``model.positions``). Hand-derived counts; the brute-force simulator
(tests/model_simulator.py, literal sets) as the reference of the rule."""

import itertools
import math

import pytest

from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
from loopnest.workload.layers import conv2d
from loopnest.workload.problem import read_positions
from model_helpers import spec_error
from model_simulator import Simulator
from test_model_simulator import conv1d_problem, divisors, level, model_counts, three_levels
from loopnest.mapping.mapping import LevelMapping
from loopnest.model.positions import TwoTermAxis

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


ALL = frozenset({"inputs", "outputs", "weights"})


def test_a_3_wide_window_at_stride_4_reads_12_of_its_15_hull_positions():
    """conv1d, stride 4, R 3, P 4, C 2 (AlexNet conv1's stride with a 3-wide window): the RF tile
    holds P 4 x R 3, four windows of 3 positions with a gap of 1 between them: 12 positions, hull
    4 * 3 + 3 = 15. DRAM's loop over C refetches the tile per channel: DRAM input reads 2 * 12 = 24
    (hull 2 * 15 = 30)."""
    problem, a = conv1d_problem(P1 | {"C": 2, "P": 4, "R": 3}, 4, 1), three_levels((1, 1), True, True)
    m = Mapping((level(t={"C": 2}), level([]), level(ALL, t={"P": 4, "R": 3})))
    assert model_counts(problem, a, m)["reads"][0, 0] == 30
    got = model_counts(problem, _positions(a), m)
    assert got["reads"][0, 0] == 24 and got["fills"][2, 0] == 24


def test_a_dilated_window_refetches_what_its_gap_dropped():
    """conv1d, stride 1, dilation 2, R 2, P 4; DRAM loops over P, the RF holds one window {p, p + 2}.
    Positions: each step's window shares nothing with the previous one ({1, 3} after {0, 2}): 4
    steps x 2 = 8 reads (position 2 is read at p = 0 and again at p = 2: the RF did not hold it).
    Hull: the window [p, p + 2] (3) then 1 new per step: 3 + 3 = 6."""
    problem, a = conv1d_problem(P1 | {"P": 4, "R": 2}, 1, 2), three_levels((1, 1), True, True)
    m = Mapping((level(t={"P": 4}), level([]), level(ALL, t={"R": 2})))
    assert model_counts(problem, a, m)["reads"][0, 0] == 6
    assert model_counts(problem, _positions(a), m)["reads"][0, 0] == 8


def test_stride_2_dilation_2_reads_every_other_position():
    """conv1d, stride 2, dilation 2, R 2, P 3: inputs 2p + 2r = {0, 2, 4, 6}: 4 positions, hull 7."""
    problem, a = conv1d_problem(P1 | {"P": 3, "R": 2}, 2, 2), three_levels((1, 1), True, True)
    m = Mapping((level(), level([]), level(ALL, t={"P": 3, "R": 2})))
    assert model_counts(problem, a, m)["reads"][0, 0] == 7
    assert model_counts(problem, _positions(a), m)["reads"][0, 0] == 4


def test_a_3x3_filter_at_stride_4_on_a_2d_tile():
    """conv2d 3 x 3 at stride 4 (H = W = 11: P = Q = 3): the whole layer's inputs at the RF are 3 x 3
    windows of 3 x 3 with gaps of 1: (3 * 3) ** 2 = 81 positions per channel, hull 11 ** 2 = 121."""
    layer = conv2d("s4", C=1, M=1, H=11, W=11, R=3, stride=4)
    assert (layer.dims["P"], layer.dims["Q"]) == (3, 3)
    a = three_levels((1, 1), True, True)
    m = Mapping((LevelMapping(), LevelMapping(), LevelMapping(temporal={"P": 3, "Q": 3, "R": 3, "S": 3})))
    assert evaluate(layer, a, m).count("DRAM", "inputs", "reads") == 121
    assert evaluate(layer, _positions(a), m).count("DRAM", "inputs", "reads") == 81


def test_two_term_axis_counts_equal_literal_sets():
    """``TwoTermAxis`` against Python sets: the positions of every box and of its shift by every
    step of either term, for the coefficient pairs where one reduced coefficient is 1."""
    for c1, c2 in itertools.product(range(1, 6), repeat=2):
        ax = TwoTermAxis.of(c1, c2)
        assert ax.exact == (1 in (c1 // math.gcd(c1, c2), c2 // math.gcd(c1, c2)))
        if not ax.exact:
            continue
        for t1, t2 in itertools.product(range(1, 6), repeat=2):
            box = {c1 * x + c2 * y for x in range(t1) for y in range(t2)}
            assert ax.count(t1, t2) == len(box)
            for v in {c * k for c in (c1, c2) for k in range(9)}:
                assert ax.new(t1, t2, v) == len({q + v for q in box} - box), (c1, c2, t1, t2, v)


@pytest.mark.parametrize("stride, dilation, R", [(4, 1, 2), (4, 1, 3), (3, 1, 2), (1, 2, 3), (2, 2, 2), (4, 2, 2)])
def test_wide_windows_and_dilation_equal_the_simulators_literal_sets(stride, dilation, R):
    """Every mapping of a conv1d (P 4, C 2, the given window) over DRAM -> GLB (2 PEs, multicast
    and reduction) -> RF, in three loop orders and three GLB keeps: with ``positions`` the model's
    reads, fills and updates equal the simulator's literal sets wherever the simulator flags
    nothing but gaps."""
    problem = conv1d_problem(P1 | {"C": 2, "P": 4, "R": R}, stride, dilation)
    a = _positions(three_levels((2, 1), True, True))
    checked = 0
    for pd, px, rd, rx, cd in itertools.product(divisors(4), (1, 2), divisors(R), (1, 2), (1, 2)):
        if px * rx > 2 or 4 % (pd * px) or R % (rd * rx):
            continue
        x = {d: f for d, f in (("P", px), ("R", rx)) if f > 1}
        for keep, order in itertools.product((["inputs"], ["inputs", "outputs"], []), (("P", "R", "C"), ("R", "P", "C"), ("C", "R", "P"))):
            m = Mapping((LevelMapping({"P": pd, "R": rd, "C": cd}, order), level(keep, x=x),
                         LevelMapping({"P": 4 // (pd * px), "R": R // (rd * rx), "C": 2 // cd}, order[::-1], keep=ALL)))
            sim = Simulator(problem, a, m, split_outer=True)
            if {h[0] for h in sim.hazards} - {"gappy"}:
                continue
            got = model_counts(problem, a, m)
            for f in ("reads", "fills", "updates"):
                assert (getattr(sim, f) == got[f]).all(), (f, m)
            checked += 1
    assert checked >= 100


def test_neither_coefficient_dividing_keeps_the_hull():
    """Stride 2 with dilation 3 (no reduced coefficient is 1): the hull is kept, as documented."""
    problem, a = conv1d_problem(P1 | {"P": 2, "R": 2}, 2, 3), three_levels((1, 1), True, True)
    m = Mapping((level(), level([]), level(ALL, t={"P": 2, "R": 2})))
    assert model_counts(problem, _positions(a), m)["reads"][0, 0] == model_counts(problem, a, m)["reads"][0, 0] == 6


@pytest.mark.parametrize("stride, dilation", [(4, 1), (1, 2)])
def test_the_exact_search_finds_the_brute_force_best_with_wide_windows(stride, dilation):
    """The mapspace prunes and bounds on unit coefficients (a relaxation of the positions the
    model counts): the exact search's best equals the best over every mapping."""
    from loopnest.search.mapper import search_layer
    from test_search import brute_force

    problem = conv1d_problem(P1 | {"C": 2, "P": 4, "R": 2}, stride, dilation)
    a = _positions(three_levels((2, 1), True, True))
    a = a.model_copy(update={"levels": a.levels[:2] + (a.levels[2].model_copy(update={"capacity_words": 6}),)})
    best = search_layer(problem, a)
    assert best.mode == "exact" and (best.result.energy_pj,) == pytest.approx(brute_force(problem, a))


def test_positions_int32_blocks_match_int64(monkeypatch):
    """ResNet-50 conv1 (7 x 7 at stride 2: a two-term axis counted by positions) on eyeriss, random
    mappings: the int32 blocks give the int64 counts (the positions never exceed the hull the int32
    proof bounds)."""
    import numpy as np

    from loopnest.arch import load_arch
    from loopnest.model import limits as model_limits
    from loopnest.model.costs import evaluate_batch
    from loopnest.workload import load_network
    from test_model_int32 import _random_batch

    a = _positions(load_arch("eyeriss"))
    problem = next(p for p in load_network("resnet50").layers if p.name == "conv1")
    batch = _random_batch(problem, a, 2000, seed=3)
    fast = evaluate_batch(problem, a, batch)
    monkeypatch.setattr(model_limits, "_fits", lambda *args: False)
    wide = evaluate_batch(problem, a, batch)
    for f in ("reads", "fills", "updates", "network", "tiles"):
        assert np.array_equal(getattr(fast.counts, f), getattr(wide.counts, f)), f
