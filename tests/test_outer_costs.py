"""``OuterCosts``: the outermost traffic priced per tensor once and shared by the bypass choices
with one ``share_key`` equals, to the last bit, the unshared pricing of each bypass choice (one
model call with its own keeps, its kept tensors summed, its bypassing tensors' ``bypass_floor``
added), in either order of the bypass choices (outer choices added later extend the tables).
A key that leaves out what the shares depend on is caught (the test below fails with it)."""

from __future__ import annotations

import numpy as np
import pytest
from test_search_bounds import arch3, arch5

from loopnest.arch import load_arch
from loopnest.arch.spec import Architecture, Compute, Storage
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.mapping.mapping import MappingBatch
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate_batch
from loopnest.model.precision import prices
from loopnest.search import outer_costs
from loopnest.search.arrays import segments
from loopnest.search.bounds import _touched, bypass_floor, bypass_read_words, bypassing, floor_prices
from loopnest.search.layer_search import LayerSearch
from loopnest.search.objective import Objective
from loopnest.search.tilings import TilingEvaluator
from loopnest.workload.density import Density, with_densities
from loopnest.workload.layers import conv2d, fc
from loopnest.workload.problem import ROLES


def arch2() -> Architecture:
    """Two levels: no inside floors (no ``bypass_floor``), the MACs may read DRAM directly."""
    e = [{"read": x, "write": x * 1.5, "update": x * 1.2} for x in (100.0, 3.0)]
    return Architecture(name="tiny2", levels=(Storage(name="DRAM", **{"class": "dram"}, energy_pj=e[0]),
                                              Storage(name="Buffer", capacity_words=24, energy_pj=e[1])),
                        compute=Compute(energy_pj=0.5))


def unshared(space: Mapspace, outer: np.ndarray, projs: list[np.ndarray], keep: np.ndarray):
    """``outer_costs`` of one bypass choice on its own: every (outer choice, outermost class) row
    in one model call with ``keep`` itself, the level-0 <-> level-1 energy and level-0 reads of
    the tensors level 1 keeps summed in tensor order, ``bypass_floor`` of each bypassing tensor."""
    L, D = space.L, space.D
    n0 = sum(1 for l, _ in space.slots if l == 0)
    f0 = np.stack([projs[d][outer[:, d]] for d in range(D)], axis=2)
    sets = [space.order_classes(0, tuple(a), keep) for a in (f0[:, 0] > 1).tolist()]
    rep, c = segments(np.array([len(s) for s in sets]))
    classes = np.array([sets[k][j] for k, j in zip(rep, c)])
    temporal, spatial = np.ones((len(rep), L, D), np.int64), np.ones((len(rep), L, 2, D), np.int64)
    temporal[:, 0], temporal[:, 1] = f0[rep, 0], space.sizes // f0[rep].prod(axis=1)
    if n0 > 1:
        spatial[:, 0, 0], spatial[:, 0, 1] = f0[rep, 1], f0[rep, 2]
    perm = np.tile(np.arange(D), (len(rep), L, 1))
    perm[:, 0] = classes
    cost = evaluate_batch(space.problem, space.arch,
                          MappingBatch(temporal, perm, spatial, np.broadcast_to(keep, (len(rep),) + keep.shape).copy()))
    price = prices(space.problem, space.arch)
    words = price.words[0].copy()
    out = ROLES.index("outputs")
    words[out] = min(words[out], price.psum_words[0])
    e, r = np.zeros(len(rep)), np.zeros((len(rep), 3))
    for t in np.flatnonzero(keep[1]):
        sp = cost.sparse
        fills = cost.counts.fills[:, 1, t] if sp is None else sp.actual[:, 1, t, 1]
        e += cost.storage_energy_pj[:, 0, t] + cost.network_energy_pj[:, 0, t] + fills * price.storage[1, t, 1]
        r[:, t] = (cost.counts.reads[:, 0, t] if sp is None else sp.actual[:, 0, t, 0]) * words[t]
    extra = np.zeros(len(rep))
    for t in bypassing(space, keep):
        extra += bypass_floor(space, t, temporal[:, 0], temporal[:, 1], classes)
    floor = e + extra
    r += bypass_read_words(space, keep)
    reads = r[:, 0] + r[:, 1] + r[:, 2]
    start = np.flatnonzero(c == 0)
    best = np.array([a + np.argmin(e[a:b]) for a, b in zip(start, np.append(start[1:], len(e)))])  # the first least
    return e[best], classes[best], np.minimum.reduceat(reads, start), np.minimum.reduceat(floor, start)


def sparse_layer():
    return with_densities(conv2d("c", C=2, M=4, H=5, W=5, R=3), {"inputs": Density.uniform(0.5),
                                                                 "weights": Density.uniform(0.4)})


CASES = [
    ("tiny3 conv, multicast", conv2d("c", C=2, M=4, H=5, W=5, R=3), arch3(True, True), None),
    ("tiny3 fc, no folding", fc("f", C=8, M=4, N=4), arch3(False, False), None),
    ("five levels", conv2d("c", C=2, M=4, H=6, W=3, R=3, S=1), arch5(True), None),
    ("two levels", fc("f", C=4, M=6, N=2), arch2(), None),
    ("tpu-v1 (narrower psums at level 0)", fc("f", C=8, M=16, N=2), load_arch("tpu-v1"), None),
    ("eyeriss row stationary", conv2d("c", C=4, M=8, H=10, W=10, R=3), load_arch("eyeriss"), "rs"),
    ("eyeriss-v2-like sparse", sparse_layer(), load_arch("eyeriss-v2-like"), None),
]


def mismatches(layer, arch, flow, first: bool = False) -> list[str]:
    """The bypass choices whose shared ``outer_costs`` differs from ``unshared``, the bypass
    choices asked in order and then in reverse (a fresh evaluator each); ``first``: stop at one."""
    space = Mapspace(layer, arch, None if flow is None else dataflow_constraints(flow, layer, arch))
    bad = []
    for configs in (space.keep_configs, space.keep_configs[::-1]):
        state = TilingEvaluator(space, Objective.parse("energy"), LayerSearch(layer, "energy", "exact"))
        for keep in configs:
            outer, projs = space.outer(keep)
            if len(outer) == 0:
                continue
            got, want = state.outer_costs(outer, projs, keep), unshared(space, outer, projs, keep)
            if not all(np.array_equal(g, w) for g, w in zip(got, want)):
                bad.append(keep.astype(int).tolist())
                if first:
                    return bad
    return bad


@pytest.mark.parametrize("name,layer,arch,flow", CASES, ids=[c[0] for c in CASES])
def test_shared_outer_costs_equal_unshared(name, layer, arch, flow):
    assert mismatches(layer, arch, flow) == []


def test_shared_outer_costs_share():
    """The bypass choices of the tiny3 conv differing in level 1's keeps share one table: 64
    bypass choices, 8 keys (which tensors some level below the outermost keeps)."""
    layer, arch = CASES[0][1], CASES[0][2]
    space = Mapspace(layer, arch)
    state = TilingEvaluator(space, Objective.parse("energy"), LayerSearch(layer, "energy", "exact"))
    for keep in space.keep_configs:
        outer, projs = space.outer(keep)
        state.outer_costs(outer, projs, keep)
    assert len(space.keep_configs) == 64 and len(state.outer_tables) == 8


@pytest.mark.parametrize("wrong", [lambda space, keep: b"",  # everything shared: the order classes differ
                                   lambda space, keep: keep[2:].tobytes()])  # blind to level 1 alone
def test_wrong_share_key_is_caught(monkeypatch, wrong):
    monkeypatch.setattr(outer_costs, "share_key", wrong)
    monkeypatch.setattr("loopnest.search.tilings.share_key", wrong)
    assert mismatches(CASES[0][1], CASES[0][2], None, first=True)


def test_bypass_floor_per_row_equals_its_definition():
    """``bypass_floor`` (vectorized over rows) against its definition applied row by row: the
    innermost relevant loop of the order with a bound above 1 (``d1``), the level-1 tile swept
    along it times the bounds of the loops outside it, or the tile once without such a loop; on
    random outer choices and orders of a strided conv (inputs: sliding windows) on tiny3."""
    layer, arch = conv2d("c", C=2, M=4, H=9, W=5, R=3, stride=2), arch3(True, True)
    space = Mapspace(layer, arch)
    rng = np.random.default_rng(1)
    K, D = 400, space.D
    outer0 = np.stack([rng.choice([d for d in range(1, n + 1) if n % d == 0], K) for n in space.sizes], axis=1)
    box1 = space.sizes // outer0
    perm = np.argsort(rng.random((K, D)), axis=1)
    price = floor_prices(space)
    for t, role in enumerate(ROLES):
        coef = space.coef[t]
        want = np.empty(K)
        for k in range(K):
            loops = [int(d) for d in perm[k] if outer0[k, d] > 1]
            rel = [d for d in loops if (coef[:, d] > 0).any()]
            if not rel:
                words = _touched(coef, box1[k])
            else:
                d1 = rel[-1]
                swept = box1[k].copy()
                swept[d1] *= outer0[k, d1]
                words = _touched(coef, swept) * int(np.prod([outer0[k, d] for d in loops[:loops.index(d1)]]))
            want[k] = price.energy(0, role, "update" if role == "outputs" else "read") * words
        assert np.array_equal(bypass_floor(space, t, outer0, box1, perm), want), role
