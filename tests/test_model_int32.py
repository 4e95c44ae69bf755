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
from loopnest.workload.layers import conv2d, fc
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


def _spy_types(monkeypatch) -> list:
    """Records (the integer type asked for, the type the block was counted in or None) per ``_loops`` call."""
    used = []
    loops = model_counts._Nest._loops

    def spy(self, *a):
        ok = loops(self, *a)
        used.append((a[2], self.dt if ok else None))
        return ok

    monkeypatch.setattr(model_counts._Nest, "_loops", spy)
    return used


def _ceil_batch(problem, arch, size: int, rng: np.random.Generator) -> MappingBatch:
    """Random ceil splits of eyeriss's slots, from the innermost out (RF, GLB y, x, t): each
    factor at most ceil(D / chunk inside it), DRAM's exactly that; random orders and bypass."""
    L, D = len(arch.levels), len(problem.dims)
    temporal, spatial = np.ones((size, L, D), np.int64), np.ones((size, L, 2, D), np.int64)
    for d, n in enumerate(problem.dims.values()):
        chunk = np.ones(size, np.int64)
        for f in (temporal[:, 2, d], spatial[:, 1, 1, d], spatial[:, 1, 0, d], temporal[:, 1, d]):
            f[:] = 1 + (rng.random(size) * (-(-n // chunk))).astype(np.int64)
            chunk *= f
        temporal[:, 0, d] = -(-n // chunk)
    keep = (rng.random((size, L, 3)) < 0.7) & np.array([[r in lv.keeps for r in ROLES] for lv in arch.levels])
    keep[:, 0] = True
    return MappingBatch(temporal, np.argsort(rng.random((size, L, D)), axis=2), spatial, keep)


def test_a_block_of_padded_boxes_is_counted_in_int32_from_the_real_sizes(monkeypatch):
    # remainder tiles (ceil splits over every slot, from the innermost out: each factor at most
    # ceil(D / chunk inside it), DRAM's exactly that) pad each box past its dimension, below 2 D:
    # for ResNet-50 layer1.0.conv2 the product of the largest boxes passes 2**31 / (2 * halo)
    # (halo 1: stride 1), so the padded proof refuses int32, but the clipped counts are bounded by
    # the real sizes: 2 * 115,605,504 MACs < 2**31, every 2 * box below 4 * 64 and every axis's
    # product of boxes below 2 * 56 * 2 * 3 (P, R): int32. The same counts (fanouts folded and
    # sliding windows included) as with that proof refused (the int32 arrays widened to int64) and
    # as with every array in int64
    arch = load_arch("eyeriss")
    problem = next(p for p in load_network("resnet50").layers if p.name == "layer1.0.conv2")
    batch = _ceil_batch(problem, arch, 3000, np.random.default_rng(3))
    cum = batch.temporal.prod(axis=1) * batch.spatial.prod(axis=(1, 2))
    assert int(np.prod(cum.max(axis=0).astype(object))) * 2 > 2**31 - 1  # the batch exercises the remainder proof
    used = _spy_types(monkeypatch)
    fast = evaluate_batch(problem, arch, batch)
    assert used == [(np.int32, np.int32)]
    results = []
    for refuse, types in ((("_clipped_in_int32",), [(np.int32, np.int64)]),  # the int32 arrays widened
                          (("_factors_in_int32",) * 2, [(np.int32, None), (np.int64, np.int64)])):  # all in int64
        used.clear()
        for module, name in zip((model_limits, model_counts), refuse):
            monkeypatch.setattr(module, name, lambda *a: False)
        results.append(evaluate_batch(problem, arch, batch))
        assert used == types, refuse
    for wide in results:
        for f in ("reads", "fills", "updates", "network", "tiles", "compute_cycles", "active"):
            assert np.array_equal(getattr(fast.counts, f), getattr(wide.counts, f)), f
        for f in ("valid", "storage_energy_pj", "network_energy_pj", "cycles", "bound"):
            assert np.array_equal(getattr(fast, f), getattr(wide, f)), f


def test_a_block_of_padded_boxes_whose_counts_pass_int32_widens_to_int64(monkeypatch):
    # fc layer C = 2**15, M = 65537 (prime), M split as 32769 at DRAM times 2 at the GlobalBuffer
    # (32769 * 2 = 65538: one padded index, the last chunk holds one M), every other loop at DRAM,
    # DRAM the only keeper. Every factor fits int32, but the MACs, 65537 * 32768 = 2,147,516,416,
    # pass 2**31 - 1 = 2,147,483,647: the block is counted in int64 from its widened int32 arrays.
    # The MACs read both operands from DRAM on every step that runs (the padded index idles):
    # M * C words each; DRAM takes M * C updates, all but the first write of each of the M outputs
    # preceded by a read (M * C - M); M * C MAC steps
    arch, problem = load_arch("eyeriss"), fc("big", C=1 << 15, M=65537)
    M, C = 65537, 1 << 15
    temporal = np.ones((1, len(arch.levels), 3), np.int64)
    temporal[0, 0] = [1, 32769, C]  # N, M, C
    temporal[0, 1, 1] = 2
    keep = np.zeros((1, len(arch.levels), 3), bool)
    keep[0, 0] = True
    batch = MappingBatch(temporal, np.tile(np.arange(3), (1, len(arch.levels), 1)),
                         np.ones((1, len(arch.levels), 2, 3), np.int64), keep)
    used = _spy_types(monkeypatch)
    c = evaluate_batch(problem, arch, batch).counts
    assert used == [(np.int32, np.int64)]
    assert c.reads[0, 0, W] == c.reads[0, 0, I] == c.updates[0, 0, O] == M * C == 2_147_516_416
    assert c.reads[0, 0, O] == M * C - M
    assert c.compute_cycles[0] == M * C


@pytest.mark.parametrize("layer, dims, boxes, fits", [
    # each case hand-checked against 2**31 - 1 = 2,147,483,647
    ("conv", ("P", "R"), (1 << 16, (1 << 15) - 1), True),  # inputs' axis P + R: 2**16 (2**15 - 1) = 2**31 - 2**16
    ("conv", ("P", "R"), (1 << 16, 1 << 15), False),  # 2**16 * 2**15 = 2**31
    ("conv/2", ("P", "R"), (1 << 15, 1 << 14), True),  # stride 2: 2 * 2**15 * 2**14 = 2**30
    ("conv/2", ("P", "R"), (1 << 16, 1 << 14), False),  # 2 * 2**16 * 2**14 = 2**31
    ("fc", ("M", "C"), ((1 << 30) - 1, 2), True),  # 2 * box = 2**31 - 2; axes of one dimension each
    ("fc", ("M", "C"), (1 << 30, 2), False),  # 2 * box = 2**31
    ("fc big", ("M", "C"), (1 << 15, (1 << 15) + 1), True),  # boxes one past M, C; 2 V = 2 (2**15 - 1) 2**15 = 2**31 - 2**16
    ("fc bigger", ("M", "C"), ((1 << 15) + 1, (1 << 15) + 1), False),  # 2 V = 2 * 2**30 = 2**31
])
def test_the_remainder_int32_proof_at_its_bounds(layer, dims, boxes, fits):
    # P = 8 and R = 3 (H = 10 at stride 1, H = 17 at stride 2), fc: M = C = 2, or M = 2**15 - 1
    # (big) or 2**15 (bigger) with C = 2**15; halo = the stride on the inputs' P + R axis, 1 for fc
    problem = {"conv": lambda: conv2d("c", C=1, M=1, H=10, W=1, R=3, S=1),
               "conv/2": lambda: conv2d("c", C=1, M=1, H=17, W=1, R=3, S=1, stride=(2, 1)),
               "fc": lambda: fc("f", C=2, M=2),
               "fc big": lambda: fc("f", C=1 << 15, M=(1 << 15) - 1),
               "fc bigger": lambda: fc("f", C=1 << 15, M=1 << 15)}[layer]()
    assert [problem.dims[d] for d in dims] == {"conv": [8, 3], "conv/2": [8, 3], "fc": [2, 2],
                                               "fc big": [(1 << 15) - 1, 1 << 15],
                                               "fc bigger": [1 << 15, 1 << 15]}[layer]
    halo = model_limits._halo(problem, dims)
    assert halo == (2 if layer == "conv/2" else 1)
    assert model_limits._clipped_in_int32(problem, dims, list(boxes), halo) is fits


def test_blocks_after_one_with_remainders_are_larger_and_cost_the_same(monkeypatch):
    # blocks of CHUNK = 5 mappings, CLIPPED_CHUNK = 11 after a block with remainder tiles: 5 exact
    # splits then 35 ceil splits (each of the first 5 pads some dimension: asserted) give blocks
    # [0:5] exact, [5:10] with remainders, then [10:21], [21:32], [32:40]; every result equals
    # the one-block evaluation
    arch = load_arch("eyeriss")
    problem = next(p for p in load_network("resnet50").layers if p.name == "layer1.0.conv2")
    exact = _random_batch(problem, arch, 5, seed=1)
    ceil = _ceil_batch(problem, arch, 35, np.random.default_rng(2))
    sizes = np.array(list(problem.dims.values()))
    assert ((ceil.temporal.prod(axis=1) * ceil.spatial.prod(axis=(1, 2)))[:5] != sizes).any(axis=1).all()
    batch = MappingBatch(*(np.concatenate([getattr(exact, f), getattr(ceil, f)]) for f in ("temporal", "perm", "spatial", "keep")))
    whole = evaluate_batch(problem, arch, batch)  # one block (CHUNK = 12k)
    lengths = []
    count = model_costs.count_block
    monkeypatch.setattr(model_costs, "count_block", lambda p, a, b: lengths.append(len(b)) or count(p, a, b))
    monkeypatch.setattr(model_costs, "CHUNK", 5)
    monkeypatch.setattr(model_costs, "CLIPPED_CHUNK", 11)
    blocks = evaluate_batch(problem, arch, batch)
    assert lengths == [5, 5, 11, 11, 8]
    for f in ("reads", "fills", "updates", "network", "tiles", "compute_cycles", "active"):
        assert np.array_equal(getattr(whole.counts, f), getattr(blocks.counts, f)), f
    for f in ("valid", "capacity_ok", "spatial_ok", "storage_energy_pj", "network_energy_pj", "cycles", "bound", "utilization"):
        assert np.array_equal(getattr(whole, f), getattr(blocks, f)), f
