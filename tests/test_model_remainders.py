"""Remainder tiles (imperfect factorization, model/clipped.py) against the brute-force simulator
(tests/model_simulator.py cuts every tile at the dimension's size and idles empty chunks): exact
reads, fills and updates, MAC steps and active instances on random small layers whose factors
multiply past their sizes (ceil tiles), on DRAM -> GLB (X x Y fanout) -> RF with and without a
fanout DRAM -> GLBs; the rule (every outer factor needed) and the refusals."""

from __future__ import annotations

import itertools
from math import ceil, prod

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from model_simulator import Simulator, nest_of
from test_model_simulator import (FAST, MAX_MACS, assert_same, conv1d_problem, conv2d_problem, depthwise1d_problem,
                                  known_disagreement, model_counts, three_levels)

from model_helpers import arch, conv1d, mapping

from loopnest.arch.spec import Fanout
from loopnest.mapping.mapping import LevelMapping, Mapping, MappingBatch, MappingError, validate_structure
from loopnest.model import evaluate, evaluate_batch
from loopnest.model.clipped import RemainderError
from loopnest.workload.problem import ROLES, Problem, Tensor


@st.composite
def remainder_cases(draw, dram_fanout: bool = False):
    """A random small layer and a random mapping with ceil factors: from the innermost loop out,
    each factor at most ceil(size / chunk inside it), the outermost (DRAM temporal) exactly that."""
    family = draw(st.sampled_from(("conv1d", "conv2d", "depthwise1d")))
    if family == "depthwise1d":
        sizes = {d: draw(st.integers(1, 7)) for d in ("N", "M", "P", "R")}
        problem = depthwise1d_problem(sizes, draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    elif family == "conv1d":
        sizes = {d: draw(st.integers(1, 7)) for d in ("N", "M", "C", "P", "R")}
        problem = conv1d_problem(sizes, draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    else:
        sizes = {d: draw(st.integers(1, 4)) for d in ("M", "C", "P", "Q", "R", "S")}
        problem = conv2d_problem(sizes, (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                                 (draw(st.integers(1, 2)), draw(st.integers(1, 2))))
    assume(problem.macs <= MAX_MACS)
    dims = problem.dim_names
    slots = [{} for _ in range(7)]  # DRAM t, x, y, GLB t, x, y, RF t
    inner_out = (6, 5, 4, 3) + ((2, 1) if dram_fanout else ())
    for d, n in problem.dims.items():
        chunk = 1
        for s in inner_out:
            slots[s][d] = draw(st.integers(1, ceil(n / chunk)))
            chunk *= slots[s][d]
        slots[0][d] = ceil(n / chunk)
    assume(any(prod(s.get(d, 1) for s in slots) > n for d, n in problem.dims.items()))
    orders = [tuple(draw(st.permutations(dims))) for _ in range(3)]
    keep_glb, keep_rf = (frozenset(draw(st.sets(st.sampled_from(ROLES)))) for _ in range(2))
    m = Mapping((LevelMapping(slots[0], orders[0], slots[1], slots[2]),
                 LevelMapping(slots[3], orders[1], slots[4], slots[5], keep_glb),
                 LevelMapping(slots[6], orders[2], keep=keep_rf)))
    extent = lambda s: prod(s.values())
    a = three_levels((extent(slots[4]), extent(slots[5])), draw(st.booleans()), draw(st.booleans()),
                     (extent(slots[1]), extent(slots[2])), draw(st.booleans()), draw(st.booleans()))
    validate_structure(m, problem, a)
    return problem, a, m


@settings(max_examples=300, **FAST)
@given(remainder_cases())
def test_remainder_tiles_equal_the_simulator(case):
    problem, a, m = case
    sim = Simulator(problem, a, m)
    assume(not known_disagreement(problem, sim))
    assert_same(sim, model_counts(problem, a, m), case)


@settings(max_examples=300, **FAST)
@given(remainder_cases(dram_fanout=True))
def test_remainder_tiles_equal_the_simulator_under_its_documented_conventions(case):
    problem, a, m = case
    sim = Simulator(problem, a, m, halo=True, split_outer=True)
    assume(not known_disagreement(problem, sim))
    assert_same(sim, model_counts(problem, a, m), case)


def brute_steps_and_active(problem, a, m) -> tuple[int, list[int]]:
    """MAC steps (temporal index tuples where some instance has work) and, per level, the instances
    with work (index tuples of the fanouts above it), by enumerating every point of the nest."""
    loops = nest_of(problem, m)
    weight = [prod(q.bound for q in loops[i + 1:] if q.dim == lp.dim) for i, lp in enumerate(loops)]
    sizes = [problem.dims[d] for d in problem.dim_names]
    steps, active = set(), [set() for _ in a.levels]
    for idx in itertools.product(*[range(lp.bound) for lp in loops]):
        v = [0] * len(sizes)
        for i, lp in zip(idx, loops):
            v[lp.dim] += i * weight[loops.index(lp)]
        if any(x >= n for x, n in zip(v, sizes)):
            continue
        steps.add(tuple(i for i, lp in zip(idx, loops) if not lp.spatial))
        for l in range(len(a.levels)):
            active[l].add(tuple(i for i, lp in zip(idx, loops) if lp.spatial and lp.level < l))
    return len(steps), [len(s) for s in active]


@settings(max_examples=150, **FAST)
@given(remainder_cases(dram_fanout=True))
def test_remainder_steps_and_active_instances_equal_the_enumeration(case):
    # cycles are the slowest instance's MAC steps: a step runs where any instance has work
    problem, a, m = case
    c = evaluate_batch(problem, a, MappingBatch.from_mappings([m], problem, a)).counts
    steps, active = brute_steps_and_active(problem, a, m)
    assert (int(c.compute_cycles[0]), c.active[0].tolist()) == (steps, active)


def test_a_13_wide_layer_on_7_columns_in_two_passes_counted_by_hand():
    # Conv1D P = 13, R = 3 (Timeloop's tutorial layer): P as 2 passes of 7 columns (14, padded by
    # 1), the second pass on 6 columns; GLB bypassed, RF keeps all. By hand:
    # - MAC steps: 2 passes x R 3 = 6; utilization 39 MACs / (6 steps x 7 PEs) = 39/42;
    # - inputs from DRAM, multicast to the 7 windows (window_union): pass 1 reads h = 0..8 (9),
    #   pass 2 h = 7..14 (8: every active column's window is new, 7 > 3): 17; RF fills 3 per active
    #   column per pass, 7 x 3 + 6 x 3 = 39;
    # - weights: no R loop above the RFs, fetched once: 3 reads (multicast), 7 columns x 3 fills
    #   (the 7th column works in pass 1);
    # - outputs: each column writes its one output per pass, 7 + 6 = 13 updates at DRAM, no read
    #   back; 39 MAC updates at the RF, 39 - 13 = 26 read-modify-write reads.
    problem = conv1d(R=3, P=13)
    a = arch("DRAM", "GLB", "RF", fanout=Fanout(x=7, y=1))
    m = mapping({"t": {"P": 2}}, {"x": {"P": 7}, "keep": []}, {"t": {"R": 3}})
    r = evaluate(problem, a, m)
    c = r.costs.counts
    assert (int(c.compute_cycles[0]), r.utilization) == (6, pytest.approx(39 / 42))
    col = {role: ROLES.index(role) for role in ROLES}
    assert (c.reads[0, 0, col["inputs"]], c.fills[0, 2, col["inputs"]]) == (17, 39)
    assert (c.reads[0, 0, col["weights"]], c.fills[0, 2, col["weights"]]) == (3, 21)
    assert (c.updates[0, 0, col["outputs"]], c.reads[0, 0, col["outputs"]]) == (13, 0)
    assert (c.updates[0, 2, col["outputs"]], c.reads[0, 2, col["outputs"]]) == (39, 26)
    assert c.active[0].tolist() == [1, 1, 7]


def test_the_remainder_rule_and_its_refusals():
    problem = conv1d(R=3, P=13)
    a = arch("DRAM", "GLB", "RF", fanout=Fanout(x=7, y=1))
    # 3 x 7 = 21 pads 13 by 8 >= 7: the outermost loop's third iteration would be empty
    with pytest.raises(MappingError, match="factors of P multiply to 21.*outermost loop, 7"):
        evaluate(problem, a, mapping({"t": {"P": 3}}, {"x": {"P": 7}, "keep": []}, {"t": {"R": 3}}))
    with pytest.raises(MappingError, match="factors of P multiply to 7, but the layer has P=13$"):
        evaluate(problem, a, mapping({}, {"x": {"P": 7}, "keep": []}, {"t": {"R": 3}}))
    # outputs with a window (a transposed convolution): refused in one line
    t = Problem("tconv", "conv", {"P": 5, "R": 3}, (
        Tensor("W", "weights", ({"R": 1},), static=True), Tensor("I", "inputs", ({"P": 1},)),
        Tensor("O", "outputs", ({"P": 1, "R": 1},))))
    with pytest.raises(RemainderError, match="remainder tiles .* not modeled with outputs with a sliding window"):
        evaluate(t, a, mapping({"t": {"P": 2}}, {"x": {"P": 3}, "keep": []}, {"t": {"R": 3}}))
