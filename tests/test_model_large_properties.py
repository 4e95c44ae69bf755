"""Hypothesis properties of the cost model over random layers with dimensions up to the largest
it accepts, random mappings and every shipped preset:

- a layer is either refused by ``check_countable`` (and then by the model too, never counted) or
  its counts equal those of the same rules in Python integers (dtype object: no overflow, keys
  with as many bits as the bounds need), whatever integer type the block was counted in;
- every count is non-negative, every energy finite and non-negative, the cycles positive and the
  utilization in [0, 1] where the fanouts fit;
- with remainder tiles (ceil splits), the counts equal the Python-integer ones too, whether the
  block was counted in int32 (``limits._clipped_in_int32``), widened or in int64.
"""

from __future__ import annotations

import math
from functools import cache
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from loopnest.arch import load_arch
from loopnest.arch.loader import list_presets
from loopnest.mapping.mapping import MappingBatch, remainder_refusal
from loopnest.model import CountLimitError, check_countable, evaluate_batch
from loopnest.model.clipped import RemainderError
from loopnest.model import counts as model_counts
from loopnest.model import limits as model_limits
from loopnest.workload.layers import conv2d, fc, matmul
from loopnest.workload.problem import ROLES

MAX_BITS = 70  # budgets up to 2**70 MACs: beyond the largest accepted (2**61 - 1), so refusals are drawn too


@cache
def preset(name: str):
    return load_arch(name)


# factors kept whole: primes (2**31 - 1 the largest int32) and 2**32 + 1 = 641 * 6700417, whose
# int32 cast is 1 (a truncating cast shows)
ODD = (1, 1, 1, 641, 6700417, 2**31 - 1, 2**32 + 1)


def smooth(data, bits: int, label: str) -> tuple[int, int, int]:
    """(a, b, x): a dimension 2**a * 3**b * x of about ``bits`` bits (from bits - 2 to bits + 1),
    x from ODD where it fits (a factor kept whole): factors easy to split, and some that are not."""
    b = data.draw(st.integers(0, min(4, bits // 2)), f"{label} threes")
    x = data.draw(st.sampled_from([x for x in ODD if x.bit_length() - 1 <= bits - 2 * b]), f"{label} odd factor")
    return bits - 2 * b - x.bit_length() + 1, b, x


@st.composite
def layers(draw):
    """A conv (grouped, strided, dilated), an fc or a matmul whose dimensions share a budget of
    at most MAX_BITS bits; returns the problem and each dimension's (twos, threes, odd factor)."""
    data = draw(st.data())
    kind = draw(st.sampled_from(["conv", "fc", "matmul"]))
    names = {"conv": "N G M C P Q R S", "fc": "N M C", "matmul": "N P M C"}[kind].split()
    budget = draw(st.one_of(st.integers(0, MAX_BITS), st.integers(52, MAX_BITS)))  # near the limit often
    weights = draw(st.lists(st.integers(0, 100), min_size=len(names), max_size=len(names)))
    total = sum(weights) or 1
    exps = {d: smooth(data, budget * w // total, d) for d, w in zip(names, weights)}
    n = {d: 2**a * 3**b * x for d, (a, b, x) in exps.items()}
    if kind == "conv":
        stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        h = (n["P"] - 1) * stride + (n["R"] - 1) * dilation + 1  # no padding: P and Q come out as drawn
        w = (n["Q"] - 1) * stride + (n["S"] - 1) * dilation + 1
        p = conv2d("big", C=n["C"] * n["G"], M=n["M"] * n["G"], H=h, W=w, R=n["R"], S=n["S"], N=n["N"],
                   stride=stride, dilation=dilation, groups=n["G"])
    elif kind == "fc":
        p = fc("big", N=n["N"], M=n["M"], C=n["C"])
    else:
        p = matmul("big", N=n["N"], P=n["P"], M=n["M"], C=n["C"])
    assert all(p.dims[d] == n[d] for d in names)
    return p, exps


def random_batch(problem, exps: dict, arch, size: int, rng: np.random.Generator) -> MappingBatch:
    """Random mappings: each prime factor of each dimension (its ODD factor whole) on a random
    temporal slot or (less often) a fanout axis; random loop orders; random bypass of what each
    level may keep."""
    L, D = len(arch.levels), len(problem.dims)
    temporal, spatial = np.ones((size, L, D), np.int64), np.ones((size, L, 2, D), np.int64)
    slots = [(temporal, (l,)) for l in range(L)] + [(spatial, (l, a)) for l in range(L) if arch.levels[l].fanout for a in (0, 1)]
    p = np.array([1.0] * L + [0.25] * (len(slots) - L))
    for i, d in enumerate(problem.dim_names):
        a, b, x = exps.get(d, (0, 0, 1))
        for prime, count in ((2, a), (3, b), (x, 1)):
            picks = rng.choice(len(slots), size=(size, count), p=p / p.sum())
            for k, (arr, at) in enumerate(slots):
                arr[(slice(None), *at, i)] *= prime ** (picks == k).sum(axis=1)
    perm = np.argsort(rng.random((size, L, D)), axis=2)
    keep = (rng.random((size, L, 3)) < 0.7) & np.array([[r in lv.keeps for r in ROLES] for lv in arch.levels])
    keep[:, 0] = True
    return MappingBatch(temporal, perm, spatial, keep)


def ceil_padded(batch: MappingBatch, problem, arch, rng: np.random.Generator) -> MappingBatch:
    """The mappings with remainder tiles: per dimension, in half of the mappings, the factor of a
    random slot inside level 0's temporal loop raised by one, then the mapspace's ceil rule from
    the innermost slot out (each factor at most ceil(D / chunk inside it), level 0's temporal
    loop exactly that)."""
    temporal, spatial = batch.temporal.copy(), batch.spatial.copy()
    nest = [(l, k) for l, lv in enumerate(arch.levels) for k in ((-1, 0, 1) if lv.fanout else (-1,))]  # outer -> inner
    size = len(batch)
    for i, n in enumerate(problem.dims.values()):
        bump = np.where(rng.random(size) < 0.5, rng.integers(1, max(len(nest), 2), size), -1)
        chunk = np.ones(size, np.int64)  # below 2 D < 2**62
        for s in range(len(nest) - 1, 0, -1):
            l, k = nest[s]
            f = temporal[:, l, i] if k < 0 else spatial[:, l, k, i]  # a view
            f += bump == s
            np.minimum(f, -(-n // chunk), out=f)
            chunk *= f
        temporal[:, 0, i] = -(-n // chunk)
    return MappingBatch(temporal, batch.perm, spatial, batch.keep)


def python_int_counts(problem, arch, batch):
    """count_block with every quantity a Python integer (no fixed width, no proof needed)."""
    loops = model_counts._Nest._loops
    with mock.patch.object(model_counts._Nest, "_loops", lambda self, b, keep, dt, halo: loops(self, b, keep, object, halo)):
        return model_counts.count_block(problem, arch, batch)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(layers(), st.sampled_from(list_presets()), st.integers(0, 2**32 - 1))
def test_large_layers_are_counted_exactly_or_refused(layer, name, seed):
    problem, exps = layer
    arch = preset(name)
    batch = random_batch(problem, exps, arch, 6, np.random.default_rng(seed))
    try:
        check_countable(problem)
    except CountLimitError:
        event("refused")
        assert problem.macs > model_limits.count_limit(problem) or max(problem.dims.values()) >= 2**59
        try:
            evaluate_batch(problem, arch, batch)
        except CountLimitError:
            return
        raise AssertionError("a refused layer was counted")
    r = evaluate_batch(problem, arch, batch)
    c = r.counts
    event(f"counted, 2**{max(0, problem.macs.bit_length() - 1) // 8 * 8}+ MACs")
    words, active, steps, keep, *_ = python_int_counts(problem, arch, batch)
    if arch.resident:  # evaluate_batch drops the outermost transfers of tensors held on chip (tpu-v1)
        from loopnest.model.costs import _resident
        _resident(arch, words, keep)
    for kind, got in enumerate((c.reads, c.fills, c.updates, c.network, c.tiles)):
        assert np.array_equal(got.transpose(1, 2, 0).astype(object), words[kind]), ("reads", "fills", "updates", "network", "tiles")[kind]
    assert np.array_equal(c.active.T.astype(object), active) and np.array_equal(c.compute_cycles.astype(object), steps)
    # the invariants, from the results as returned
    for got in (c.reads, c.fills, c.updates, c.network, c.tiles, c.active):
        assert got.min() >= 0
    assert (c.compute_cycles >= 1).all() and (r.cycles >= c.compute_cycles).all()
    for e in (r.storage_energy_pj, r.network_energy_pj, r.energy_pj):
        assert np.isfinite(e).all() and (e >= 0).all()
    fits = r.spatial_ok.all(axis=1)
    assert (r.utilization >= 0).all() and (r.utilization[fits] <= 1 + 1e-12).all()
    assert int(c.compute_cycles[0]) * math.prod(int(x) for x in batch.spatial[0].ravel()) == problem.macs


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(layers(), st.sampled_from(list_presets()), st.integers(0, 2**32 - 1))
def test_large_layers_with_remainder_tiles_are_counted_exactly_or_refused(layer, name, seed):
    problem, exps = layer
    arch = preset(name)
    rng = np.random.default_rng(seed)
    batch = ceil_padded(random_batch(problem, exps, arch, 6, rng), problem, arch, rng)
    padded = [math.prod(int(f) for f in m.ravel()) * math.prod(int(f) for f in s.ravel())
              for m, s in zip(batch.temporal, batch.spatial)]  # every loop bound of a mapping multiplied
    try:
        words = model_counts.count_block(problem, arch, batch)[0]
        r = evaluate_batch(problem, arch, batch)
    except RemainderError:  # a feature the remainder model does not cover (systolic, sparse, positions)
        event("refused: remainders")
        assert remainder_refusal(problem, arch) is not None
        return
    except CountLimitError:  # the int64 proof takes the padded product of the loop bounds
        event("refused: too large")
        assert max(padded) > model_limits.count_limit(problem) // 2 or max(problem.dims.values()) >= 2**58
        return
    event(f"counted in {words.dtype}, {'with' if max(padded) > problem.macs else 'without'} remainders")
    c = r.counts
    words, active, steps, keep, *_ = python_int_counts(problem, arch, batch)
    if arch.resident:
        from loopnest.model.costs import _resident
        _resident(arch, words, keep)
    for kind, got in enumerate((c.reads, c.fills, c.updates, c.network, c.tiles)):
        assert np.array_equal(got.transpose(1, 2, 0).astype(object), words[kind]), ("reads", "fills", "updates", "network", "tiles")[kind]
    assert np.array_equal(c.active.T.astype(object), active) and np.array_equal(c.compute_cycles.astype(object), steps)
