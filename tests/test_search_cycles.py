"""The cycles floor from level 0's read bandwidth: the level-0 reads of the tensors level 1 keeps
(``outer_costs``, exact per outer choice) plus those of the operands bypassing level 1, each
element once (``bounds.bypass_read_words``), over level 0's read bandwidth. Checked below the
model's cycles of every completion, tight on a bandwidth-bound FC layer (so a floor 1 % higher
fails), and the exact search with it against the brute force for cycles and EDP, the energy
tie-break of the cycles objective included."""

from __future__ import annotations


import numpy as np
import pytest
from test_search import arch3, brute_force, found, rests  # noqa: F401 (rests: both exact paths, a fixture)
from test_search_bounds import every_order

from loopnest.arch import load_arch
from loopnest.arch.spec import Fanout
from loopnest.mapping.constraints import parse_constraints
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate_batch
from loopnest.search.layer_search import LayerSearch
from loopnest.search.mapper import EXACT, _Search
from loopnest.search.objective import Objective
from loopnest.workload.layers import fc


def least_cycles(space: Mapspace, f: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per tiling (factors over the slots): the model's least cycles over every combination of
    the levels' loop-order classes (the bandwidth cycles depend on the orders)."""
    return np.array([evaluate_batch(space.problem, space.arch, b).cycles.min() for b in every_order(space, f, keep)])


@pytest.mark.parametrize("bits", [16, 8])
def test_bandwidth_cycles_floor_never_exceeds_the_model(bits):
    """Eyeriss (the global buffer keeps inputs and outputs: weights stream from DRAM), FC C=16
    M=8 N=4: every mapping reads the 128 weights and the 64 inputs from DRAM at least once, 4
    words per cycle, so at least (128 + 64) / 4 = 48 cycles, against 512 MACs / 168 PEs = 4
    compute cycles. At 8 bits two values share a 16-bit word ("bit" packing at DRAM): 24 cycles.
    The floor of each outer choice is at most the model's least cycles (over every loop order)
    of sampled completions, and equal on some of them."""
    problem, arch = fc("f", C=16, M=8, N=4, bits=bits), load_arch("eyeriss")
    space = Mapspace(problem, arch)
    state = _Search(space, Objective.parse("cycles"), EXACT, 0, (4, 1000, 1000), LayerSearch(problem, "cycles", EXACT))
    rng = np.random.default_rng(0)
    tight, least, checked = 0.0, np.inf, 0
    for keep in space.keep_configs:
        outer, projs = space.outer(keep)
        rest = space.rests(keep)
        if len(outer) == 0 or len(rest) == 0:
            continue
        floor = state.outer_cycles_floor(state.outer_costs(outer, projs, keep)[2])
        least = min(least, floor.min())
        f0 = np.stack([projs[d][outer[:, d]] for d in range(space.D)], axis=2)
        box1 = space.sizes // f0.prod(axis=1)
        prods = rest.prod(axis=1)
        oi, ri = np.nonzero((box1[:, None, :] % prods[None] == 0).all(axis=2))
        pick = rng.choice(len(oi), min(len(oi), 12), replace=False)
        oi, ri = oi[pick], ri[pick]
        f = np.concatenate([f0[oi], (box1[oi] // prods[ri])[:, None], rest[ri]], axis=1)
        cycles = least_cycles(space, f, keep)
        ok = np.isfinite(cycles)  # capacity-valid completions only
        assert np.all(floor[oi][ok] <= cycles[ok])
        if ok.any():
            tight = max(tight, (floor[oi][ok] / cycles[ok]).max())
        checked += int(ok.sum())
    assert checked > 50
    assert least == (48.0 if bits == 16 else 24.0)
    assert tight == 1.0


BYPASS = parse_constraints([{"level": "Buffer", "keep": ["inputs", "outputs"]}, {"level": "RF", "keep": ["weights"]}])


@pytest.mark.parametrize("objective", ["cycles", "edp"])
@pytest.mark.parametrize("bits", [16, 8])
def test_exact_equals_brute_force_weights_bypass_bandwidth_bound(objective, bits, rests):
    """The weights bypass the buffer and the DRAM read bandwidth binds: the search's best equals
    the brute force's, and for the cycles objective so does its energy among the mappings of
    fewest cycles (the tie-break the floor prunes by once it is reached)."""
    p = fc("f", C=4, M=4, N=2, bits=bits)
    arch = arch3(Fanout(x=2, y=1, energy_pj=0.3, multicast=True), cap=12, rf_cap=4, bw=bits / 16)  # 8 bits: 2 per word
    keys, r = found(p, arch, BYPASS, objective)
    assert keys == pytest.approx(brute_force(p, arch, BYPASS, objective), rel=1e-12)
    assert r.result.bound == "DRAM bandwidth"
    if objective == "cycles":
        cyc_e = (r.result.cycles, r.result.energy_pj)
        assert cyc_e == pytest.approx(brute_force(p, arch, BYPASS, "cycles,energy"), rel=1e-12)
