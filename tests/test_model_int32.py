"""The counting fast path: int32 arithmetic only where a per-block check proves it exact (int64
otherwise), and loop positions packed into integers. Expected values are derived by hand in the
comments, or come from an independent computation (the inverse permutation, the int64 path)."""

from __future__ import annotations

import numpy as np
import pytest

from loopnest.arch import load_arch
from loopnest.mapping.mapping import MappingBatch
from loopnest.model import costs as model_costs
from loopnest.model import counts as model_counts
from loopnest.model import limits as model_limits
from loopnest.model import evaluate_batch
from loopnest.workload import load_network
from loopnest.workload.layers import fc
from loopnest.workload.problem import ROLES

W, I, O = (ROLES.index(r) for r in ("weights", "inputs", "outputs"))


@pytest.mark.parametrize("D", [1, 2, 3, 8, 9, 16, 17, 40])
def test_packed_positions_are_the_inverse_permutation(D):
    # position of dimension d in an order = index of d in the permutation = argsort(perm)[d];
    # D = 9..16 packs into 64 bits, D = 17 and more falls back to a scatter
    perm = np.argsort(np.random.default_rng(D).random((50, 3, D)), axis=2)
    keep = list(range(0, D, 2))
    expected = np.argsort(perm, axis=2)[:, :, keep].transpose(1, 2, 0)
    assert np.array_equal(model_counts._positions(perm, keep), expected)


def _all_at_dram(problem, arch) -> MappingBatch:
    """One mapping: every loop temporal at the outermost level, nothing kept below it."""
    L, D = len(arch.levels), len(problem.dims)
    temporal = np.ones((1, L, D), np.int64)
    temporal[0, 0] = list(problem.dims.values())
    keep = np.zeros((1, L, 3), bool)
    keep[0, 0] = True
    return MappingBatch(temporal, np.tile(np.arange(D), (1, L, 1)), np.ones((1, L, 2, D), np.int64), keep)


@pytest.mark.parametrize("M, C, dtype", [(1 << 15, 1 << 14, np.int32), (1 << 16, 1 << 15, np.int64)])
def test_counts_near_and_beyond_the_int32_range_are_exact(monkeypatch, M, C, dtype):
    # fc layer, all M*C loops at DRAM, DRAM the only keeper: the MACs read both operands from
    # DRAM on every step (M*C words each) and update DRAM once per MAC; every update but the
    # first write of each of the M outputs is preceded by a read (M*C - M). With M*C = 2**29 the
    # block's bound 2 * 2**29 fits int32; with M*C = 2**31 the counts themselves do not.
    used = []  # the integer type each block was counted in
    loops = model_counts._Nest._loops

    def spy(self, *a):
        ok = loops(self, *a)
        if ok:
            used.append(self.dt)
        return ok

    monkeypatch.setattr(model_counts._Nest, "_loops", spy)
    arch, problem = load_arch("eyeriss"), fc("big", C=C, M=M)
    c = evaluate_batch(problem, arch, _all_at_dram(problem, arch)).counts
    assert used[-1] is dtype
    assert c.reads[0, 0, W] == c.reads[0, 0, I] == c.updates[0, 0, O] == M * C
    assert c.reads[0, 0, O] == M * C - M
    assert c.compute_cycles[0] == M * C


def _random_batch(problem, arch, size: int, seed: int) -> MappingBatch:
    """Random factor splits over all temporal and fanout slots, random orders and bypass."""
    rng = np.random.default_rng(seed)
    L, D = len(arch.levels), len(problem.dims)
    temporal, spatial = np.ones((size, L, D), np.int64), np.ones((size, L, 2, D), np.int64)
    slots = [(temporal, (l,)) for l in range(L)] + [(spatial, (l, a)) for l in range(L) if arch.levels[l].fanout for a in (0, 1)]
    for d, n in enumerate(problem.dims.values()):
        rest = np.full(size, n)
        for k in rng.permutation(len(slots)):
            divisors = np.array([f for f in range(1, n + 1) if n % f == 0])
            f = divisors[(rng.random((size, len(divisors))) * (rest[:, None] % divisors == 0)).argmax(axis=1)]
            arr, at = slots[k]
            arr[(slice(None), *at, d)] = f
            rest //= f
        temporal[:, 0, d] *= rest
    perm = np.argsort(rng.random((size, L, D)), axis=2)
    keep = (rng.random((size, L, 3)) < 0.7) & np.array([[r in lv.keeps for r in ROLES] for lv in arch.levels])
    keep[:, 0] = True
    return MappingBatch(temporal, perm, spatial, keep)


@pytest.mark.parametrize("layer", ["conv1", "layer1.0.conv2", "layer2.0.downsample", "fc"])
def test_int32_blocks_match_the_int64_arithmetic(monkeypatch, layer):
    # the same random mappings (several blocks, strided conv1 included) evaluated with the int32
    # proof as is, then with it refused (every block in int64): identical counts and costs
    arch = load_arch("eyeriss")
    problem = next(p for p in load_network("resnet50").layers if p.name == layer)
    batch = _random_batch(problem, arch, 2 * model_costs.CHUNK + 123, seed=len(layer))
    fast = evaluate_batch(problem, arch, batch)
    monkeypatch.setattr(model_limits, "_fits", lambda *a: False)
    wide = evaluate_batch(problem, arch, batch)
    for f in ("reads", "fills", "updates", "network", "tiles", "compute_cycles", "active"):
        a, b = getattr(fast.counts, f), getattr(wide.counts, f)
        assert a.dtype == b.dtype == np.int64 and np.array_equal(a, b), f
    for f in ("valid", "capacity_ok", "spatial_ok", "storage_energy_pj", "network_energy_pj", "cycles", "bound"):
        assert np.array_equal(getattr(fast, f), getattr(wide, f)), f


def test_a_block_of_padded_boxes_widens_its_int32_arrays_to_the_int64_counts(monkeypatch):
    # remainder tiles (ceil splits: D as ceil(D / k) at DRAM times k in the RF) pad each box past
    # its dimension, up to D + k - 1: for ResNet-50 layer1.0.conv2 the product of the largest boxes
    # passes 2**31 / (2 * halo) while every factor and box fits int32, so the block is counted in
    # int64 from its widened int32 arrays; the same counts with the int32 arrays refused (every
    # array computed in int64 from the mappings)
    arch = load_arch("eyeriss")
    problem = next(p for p in load_network("resnet50").layers if p.name == "layer1.0.conv2")
    rng, L, D, size = np.random.default_rng(3), len(arch.levels), len(problem.dims), 400
    temporal = np.ones((size, L, D), np.int64)
    for d, n in enumerate(problem.dims.values()):
        k = rng.integers(1, n + 1, size)
        temporal[:, 2, d], temporal[:, 0, d] = k, -(-n // k)
    keep = (rng.random((size, L, 3)) < 0.7) & np.array([[r in lv.keeps for r in ROLES] for lv in arch.levels])
    keep[:, 0] = True
    batch = MappingBatch(temporal, np.argsort(rng.random((size, L, D)), axis=2), np.ones((size, L, 2, D), np.int64), keep)
    used = []
    loops = model_counts._Nest._loops

    def spy(self, *a):
        ok = loops(self, *a)
        used.append((a[2], self.dt if ok else None))
        return ok

    monkeypatch.setattr(model_counts._Nest, "_loops", spy)
    widened = evaluate_batch(problem, arch, batch)
    assert used == [(np.int32, np.int64)]  # one call: the int32 arrays widened
    used.clear()
    monkeypatch.setattr(model_counts, "_factors_in_int32", lambda *a: False)
    wide = evaluate_batch(problem, arch, batch)
    assert used == [(np.int32, None), (np.int64, np.int64)]
    for f in ("reads", "fills", "updates", "network", "tiles", "compute_cycles", "active"):
        assert np.array_equal(getattr(widened.counts, f), getattr(wide.counts, f)), f
    for f in ("valid", "storage_energy_pj", "network_energy_pj", "cycles", "bound"):
        assert np.array_equal(getattr(widened, f), getattr(wide, f)), f
