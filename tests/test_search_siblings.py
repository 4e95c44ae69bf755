"""Sibling levels (search/siblings.py): per-PE scratchpads written as one level each, searched
with the sink and lift rules, against a brute force over the whole mapspace, and against the
same hardware written as one partitioned level."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.constraints import parse_constraints
from loopnest.mapping.mapping import MappingBatch
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate_batch
from loopnest.search.siblings import canonical_rests, packed_siblings
from loopnest.workload.layers import conv2d, fc
from test_search import brute_force, found, rests  # noqa: F401  (rests: the fixture of both exact paths)

SPADS = {"inputs": 3, "weights": 4, "outputs": 2}  # words per scratchpad
E_SPAD = {"inputs": 0.4, "weights": 0.7, "outputs": 0.5}  # pJ per access


def _e(x: float) -> dict:
    return {"read": x, "write": 1.5 * x, "update": 1.2 * x}


def _top(fan: Fanout | None) -> tuple[Storage, Storage]:
    return (Storage(name="DRAM", **{"class": "dram"}, energy_pj=_e(100.0)),
            Storage(name="Buffer", capacity_words=16, energy_pj=_e(6.0), fanout=fan))


def siblings(fan: Fanout | None = None) -> Architecture:
    """Three scratchpads as three levels, outer -> inner input, weight, output (AccelForge's order)."""
    pads = tuple(Storage(name=f"{r}_pad", capacity_words=n, energy_pj=_e(E_SPAD[r]), keeps=(r,)) for r, n in SPADS.items())
    return Architecture(name="sib", levels=_top(fan) + pads, compute=Compute(energy_pj=0.5))


def partitioned(fan: Fanout | None = None) -> Architecture:
    """The same scratchpads as one level with a partition each, the same energies."""
    pad = Storage(name="pads", partitions=SPADS, energy_pj=_e(max(E_SPAD.values())),
                  energy_pj_by_role={r: _e(x) for r, x in E_SPAD.items()})
    return Architecture(name="part", levels=_top(fan) + (pad,), compute=Compute(energy_pj=0.5))


KEEP_BUFFER = parse_constraints([{"level": "Buffer", "keep": ["inputs", "weights", "outputs"]}])
LAYERS = {"fc": fc("f", C=2, M=2, N=2), "conv-window": conv2d("c", C=1, M=2, H=3, W=1, R=2, S=1)}  # 3 dims of 2 each


@cache
def brute_energy(name: str) -> float:
    """Least energy over every mapping of LAYERS[name] on ``siblings()`` with the buffer keeping
    everything: every tiling (no capacity pruning), every bypass choice of the scratchpads, every
    permutation of the loops of each level but the innermost (whose order no count depends on:
    no keeper lies below it)."""
    return brute_force(LAYERS[name], siblings(), KEEP_BUFFER, inner_order_free=True)[0]


@pytest.mark.parametrize("name", LAYERS)
def test_exact_equals_brute_force_on_sibling_scratchpads(name, rests):
    """Every bypass choice of the three scratchpads (8), every order of the loops."""
    keys, _r = found(LAYERS[name], siblings(), KEEP_BUFFER)
    assert keys[0] == pytest.approx(brute_energy(name), rel=1e-12)


def _moved(m: MappingBatch, rows: np.ndarray, level: int, d: int, to: int) -> MappingBatch:
    """Mappings ``rows`` of m with their factor of dimension d at ``level`` merged into level
    ``to``'s, whose d loop becomes its innermost (the rules' moves: a sink to the innermost level,
    whose order no count depends on, or a lift to the level above)."""
    t, perm = m.temporal[rows].copy(), m.perm[rows].copy()
    t[:, to, d] *= t[:, level, d]
    t[:, level, d] = 1
    others = perm[:, to][perm[:, to] != d].reshape(len(rows), -1)
    perm[:, to] = np.concatenate([others, np.full((len(rows), 1), d)], axis=1)
    return MappingBatch(t, perm, m.spatial[rows], m.keep[rows])


@pytest.mark.parametrize("seed", range(2))
def test_every_move_the_rules_make_costs_no_more(seed):
    """On random valid mappings of a convolution with a sliding window (every bypass choice of
    the scratchpads, random loop orders, bandwidths that can bind), each factor the filter drops
    (``CanonicalRests.forbidden``) moved as its rule says: the mapping stays valid, and neither
    its energy nor its cycles grow. A rule that moved one dimension more (a relevant one) fails
    here: its move grows a tile past a capacity or refetches a tile."""
    layer = conv2d("c", C=2, M=2, H=4, W=1, R=2, S=1)  # P = 3: inputs slide a window over P + R
    e = {r: _e(x) for r, x in E_SPAD.items()}
    levels = (Storage(name="DRAM", **{"class": "dram"}, energy_pj=_e(100.0), read_bandwidth=0.5, write_bandwidth=0.5),
              Storage(name="Buffer", capacity_words=64, energy_pj=_e(6.0), read_bandwidth=1.0,
                      fanout=Fanout(x=2, y=1, energy_pj=0.3, multicast=True, reduction=True)))
    pads = tuple(Storage(name=f"{r}_pad", capacity_words=n, energy_pj=e[r], keeps=(r,)) for r, n in
                 {"inputs": 6, "weights": 4, "outputs": 3}.items())
    arch = Architecture(name="sib", levels=levels + pads, compute=Compute(energy_pj=0.5))
    space = Mapspace(layer, arch)
    rules = canonical_rests(space)
    assert rules is not None and rules.chain == [2, 3, 4]
    rng = np.random.default_rng(seed)
    n = 3000
    idx = np.stack([rng.integers(len(o), size=n) for o in space.options], axis=1)
    perm = np.stack([np.stack([rng.permutation(space.D) for _ in range(space.L)]) for _ in range(n)])
    kinds, before, after = set(), [], []
    for keep in space.keep_configs:
        m = space.batch(idx, perm, keep)
        c = evaluate_batch(layer, arch, m)
        for level, dims in rules.forbidden(keep).items():
            below = keep[level + 1:].any(axis=0)
            for d in np.flatnonzero(dims):
                to = 4 if not rules.relevance[below][:, d].any() else level - 1  # a sink where d is irrelevant below
                rows = np.flatnonzero(c.valid & (m.temporal[:, level, d] > 1))
                if len(rows):
                    moved = evaluate_batch(layer, arch, _moved(m, rows, level, d, to))
                    before.append(np.stack([c.energy_pj[rows], c.cycles[rows].astype(float)]))
                    after.append(np.stack([np.where(moved.valid, moved.energy_pj, np.inf), moved.cycles.astype(float)]))
                    kinds.add("sink" if to == 4 else "lift")
    before, after = np.concatenate(before, axis=1), np.concatenate(after, axis=1)
    assert kinds == {"sink", "lift"} and before.shape[1] > 1000  # both rules exercised, on many mappings
    assert (after <= before * (1 + 1e-12)).all()  # valid (finite energy), no more energy, no more cycles


@pytest.mark.parametrize("name", LAYERS)
def test_sibling_and_partitioned_forms_reach_the_same_optimum(name):
    """The same scratchpads written both ways: every partitioned mapping is a sibling one with
    all the PE loops on the innermost level (same tiles, same fills), so the sibling optimum is
    at most the partitioned one; on these layers (and ResNet-50's layer1.0.conv2 on AccelForge's
    Eyeriss, benchmarks/accelforge_eyeriss_forms.py) the two are equal."""
    fan = Fanout(x=2, y=1, energy_pj=0.3, multicast=True, reduction=True)
    sib, _ = found(LAYERS[name], siblings(fan), KEEP_BUFFER)
    part, _ = found(LAYERS[name], partitioned(fan), KEEP_BUFFER)
    assert sib[0] == pytest.approx(part[0], rel=1e-12)


def test_the_rules_drop_rests_and_nothing_without_siblings():
    """On the sibling form the filter drops rests (the weight scratchpad holds only loops over
    M: C is sunk, N and the window's P lifted); on the partitioned form there is no chain."""
    layer = conv2d("c", C=2, M=2, H=4, W=1, R=2, S=1)
    fan = Fanout(x=2, y=1, energy_pj=0.3, multicast=True, reduction=True)
    assert canonical_rests(Mapspace(layer, partitioned(fan))) is None
    space = Mapspace(layer, siblings(fan), KEEP_BUFFER)
    keep = space.keep_configs[-1]  # every scratchpad keeps its tensor
    assert keep[2:].sum() == 3
    every = space.rests(keep)
    space.canonical = canonical_rests(space)
    space.forget_rests()
    kept = space.rests(keep)
    assert 0 < len(kept) < len(every)
    w = space.slots[space.rest_start:].index((3, 0))  # the weight scratchpad's temporal slot
    assert (kept[:, w, [space.dims.index(d) for d in "NCPQRS"]] == 1).all()
    assert (every[:, w, space.dims.index("C")] > 1).any() and (every[:, w, space.dims.index("P")] > 1).any()


def test_streamed_rests_come_in_no_empty_chunk():
    """min_usage filters complete rests only: a block of leaves that all fall short of it yields
    nothing (an empty chunk crashed the rests' floor: found on AccelForge's Eyeriss, whose
    fanout must be used whole). With 3 columns and every dimension of 2, no rest uses them all."""
    from loopnest.search.rest_tree import RestTree

    layer = fc("f", C=2, M=2, N=2)
    whole = parse_constraints([{"level": "Buffer", "min_usage": 1}])
    for x, used in ((3, None), (2, 2)):
        space = Mapspace(layer, siblings(Fanout(x=x, y=1, energy_pj=0.3, multicast=True, reduction=True)), whole)
        tree, keep = RestTree(space), space.keep_configs[0]
        for size in range(1, 9):
            chunks = [c for c, _ in tree.chunks(keep, lambda f, depth, alive: alive, chunk=size)]
            assert all(len(c) > 0 for c in chunks)
            if used is None:
                assert chunks == []
            else:
                sx = space.slots[space.rest_start:].index((1, 1))
                assert chunks and (np.concatenate(chunks)[:, sx].prod(axis=1) == used).all()


def test_packed_subspace_holds_no_loop_above_the_innermost_pad():
    """The streamed search's second seed (``packed_siblings``): the sibling space with no
    temporal loop on the input and weight pads, the partitioned form's mappings; its rests are
    some of the space's (the same slots), and there is none without siblings."""
    layer = conv2d("c", C=2, M=2, H=4, W=1, R=2, S=1)
    fan = Fanout(x=2, y=1, energy_pj=0.3, multicast=True, reduction=True)
    space = Mapspace(layer, siblings(fan), KEEP_BUFFER)
    assert packed_siblings(space) is None  # no canonical filter set: not a sibling search
    space.canonical = canonical_rests(space)
    packed = packed_siblings(space)
    assert packed.slots == space.slots
    keep = space.keep_configs[-1]
    every, few = space.rests(keep), packed.rests(keep)
    pads = [space.slots[space.rest_start:].index((lv, 0)) for lv in (2, 3)]  # the input and weight pads' loops
    assert 0 < len(few) < len(every)
    assert (few[:, pads] == 1).all() and (every[:, pads] > 1).any()
    assert {r.tobytes() for r in few} <= {r.tobytes() for r in every}
    part = Mapspace(layer, partitioned(fan), KEEP_BUFFER)
    part.canonical = canonical_rests(part)
    assert packed_siblings(part) is None
