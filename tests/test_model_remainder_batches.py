"""Remainder tiles in batches: model/clipped.py works on whole blocks (per-block caches, digit
tables, sliding windows costed on the subset of mappings whose innermost relevant loop slides),
so every mapping of a mixed batch (different loop orders, bypass, factors, some without any
remainder) must get the counts the brute-force simulator (tests/model_simulator.py) gives it
alone; tests/test_model_remainders.py checks one mapping per batch."""

from __future__ import annotations

from math import ceil, prod

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from model_simulator import Simulator
from test_model_remainders import brute_steps_and_active, remainder_cases
from test_model_simulator import FAST, assert_same, conv2d_problem, known_disagreement, three_levels

from loopnest.mapping.mapping import LevelMapping, Mapping, MappingBatch, validate_structure
from loopnest.model import evaluate_batch
from loopnest.workload.problem import ROLES


@st.composite
def ceil_mapping(draw, problem, dram_fanout: bool) -> Mapping:
    """Another mapping of the layer with ceil factors (remainder_cases' rule: from the innermost
    slot out, each factor at most ceil(size / chunk inside it), the outermost exactly that)."""
    slots = [{} for _ in range(7)]  # DRAM t, x, y, GLB t, x, y, RF t
    for d, n in problem.dims.items():
        chunk = 1
        for s in (6, 5, 4, 3) + ((2, 1) if dram_fanout else ()):
            slots[s][d] = draw(st.integers(1, ceil(n / chunk)))
            chunk *= slots[s][d]
        slots[0][d] = ceil(n / chunk)
    dims = problem.dim_names
    orders = [tuple(draw(st.permutations(dims))) for _ in range(3)]
    keep_glb, keep_rf = (frozenset(draw(st.sets(st.sampled_from(ROLES)))) for _ in range(2))
    return Mapping((LevelMapping(slots[0], orders[0], slots[1], slots[2]),
                    LevelMapping(slots[3], orders[1], slots[4], slots[5], keep_glb),
                    LevelMapping(slots[6], orders[2], keep=keep_rf)))


@st.composite
def remainder_batches(draw):
    """A remainder case (layer, architecture, mapping) and 2 to 5 more mappings of the layer."""
    dram_fanout = draw(st.booleans())
    problem, a, m = draw(remainder_cases(dram_fanout=dram_fanout))
    mappings = [m, *draw(st.lists(ceil_mapping(problem, dram_fanout), min_size=2, max_size=5))]
    # the fanouts of remainder_cases' architecture, wide enough for every mapping
    extent = lambda lm: (prod(lm.spatial_x.values()), prod(lm.spatial_y.values()))
    fan = [[max(e) for e in zip(*(extent(x.levels[l]) for x in mappings))] for l in (1, 0)]
    flags = [(f.multicast, f.reduction) if f is not None else (True, True) for f in (a.levels[1].fanout, a.levels[0].fanout)]
    a = three_levels(tuple(fan[0]), *flags[0], tuple(fan[1]), *flags[1])
    for x in mappings:
        validate_structure(x, problem, a)
    order = draw(st.permutations(range(len(mappings))))
    return problem, a, [mappings[i] for i in order], dram_fanout


@settings(max_examples=40, **FAST)
@given(remainder_batches())
def test_every_mapping_of_a_mixed_remainder_batch_equals_the_simulator(case):
    problem, a, mappings, dram_fanout = case
    sims = [Simulator(problem, a, m, halo=dram_fanout, split_outer=dram_fanout) for m in mappings]
    assume(not any(known_disagreement(problem, s) for s in sims))
    c = evaluate_batch(problem, a, MappingBatch.from_mappings(mappings, problem, a)).counts
    for i, (m, sim) in enumerate(zip(mappings, sims)):
        assert_same(sim, {f: getattr(c, f)[i] for f in ("reads", "fills", "updates")}, (problem, a, m))
        steps, active = brute_steps_and_active(problem, a, m)
        assert (int(c.compute_cycles[i]), c.active[i].tolist()) == (steps, active), i


def seeded_mappings(problem, rng: np.random.Generator, count: int, dram_fanout: bool) -> list[Mapping]:
    """``count`` mappings of ceil_mapping's rule drawn with a seeded generator (random factors,
    loop orders and bypass)."""
    out = []
    for _ in range(count):
        slots = [{} for _ in range(7)]  # DRAM t, x, y, GLB t, x, y, RF t
        for d, n in problem.dims.items():
            chunk = 1
            for s in (6, 5, 4, 3) + ((2, 1) if dram_fanout else ()):
                slots[s][d] = int(rng.integers(1, ceil(n / chunk) + 1))
                chunk *= slots[s][d]
            slots[0][d] = ceil(n / chunk)
        orders = [tuple(rng.permutation(problem.dim_names).tolist()) for _ in range(3)]
        keep_glb, keep_rf = (frozenset(r for r in ROLES if rng.random() < 0.6) for _ in range(2))
        out.append(Mapping((LevelMapping(slots[0], orders[0], slots[1], slots[2]),
                            LevelMapping(slots[3], orders[1], slots[4], slots[5], keep_glb),
                            LevelMapping(slots[6], orders[2], keep=keep_rf))))
    return out


@pytest.mark.parametrize("multicast, dram_fanout", [(True, False), (False, True)])
def test_a_seeded_batch_of_windowed_remainder_mappings_equals_the_simulator(multicast, dram_fanout):
    # one block of 100 mappings of a small 2-D convolution (windows on both axes, sizes that few
    # factors divide): many innermost loops slide, on each window dimension, in one batch (the
    # simulator's known disagreements, mostly multicast windows, are left out: about half)
    problem = conv2d_problem({"M": 2, "C": 2, "P": 5, "Q": 4, "R": 3, "S": 2}, (1, 1), (1, 1))
    mappings = seeded_mappings(problem, np.random.default_rng(7), 100, dram_fanout)
    extent = lambda lm: (prod(lm.spatial_x.values()), prod(lm.spatial_y.values()))
    fan = [tuple(max(e) for e in zip(*(extent(x.levels[l]) for x in mappings))) for l in (1, 0)]
    a = three_levels(fan[0], multicast, True, fan[1], multicast, True)
    c = evaluate_batch(problem, a, MappingBatch.from_mappings(mappings, problem, a)).counts
    checked = 0
    for i, m in enumerate(mappings):
        sim = Simulator(problem, a, m, halo=dram_fanout, split_outer=dram_fanout)
        if known_disagreement(problem, sim):
            continue
        assert_same(sim, {f: getattr(c, f)[i] for f in ("reads", "fills", "updates")}, (problem, a, m))
        checked += 1
    assert checked >= 40
