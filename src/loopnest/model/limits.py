"""Limits of exact integer counting: which integer type counts a block of mappings exactly, and
the checks that refuse a layer beyond what 64-bit counts hold.

Why: the counts (``model.counts``) are exact integers in fixed-width NumPy arrays, which wrap
silently on overflow; a wrapped count is a wrong number that looks right (negative reads,
utilization above 1). So every block is counted only where a proof says its values fit:
int32 where ``_exact_in_int32`` proves it from the block's bounds, int64 where
``_largest_product`` does (every loop bound of a mapping multiplied together, V, with
MARGIN * halo * V < 2**63), and a layer beyond that raises ``CountLimitError``, one line naming
the layer, its size and the limit (``check_countable`` says so before a search starts). The
bound field of a loop key (``layout._pack_keys``) has its own limit (``_key_bits``). docs/model.md
(*Size limits and invariants*) states the limits with examples.
"""

from __future__ import annotations

import math

import numpy as np

from loopnest.mapping.mapping import MappingError
from loopnest.workload.problem import Problem


class CountLimitError(ValueError):
    """A layer (or a mapping) too large for the model's 64-bit counts: refused, not counted wrong."""


_INT32, _INT64 = 2**31 - 1, 2**63 - 1
# int64 holds every count of a mapping whose loop bounds multiply to V when MARGIN * halo * V fits:
# a count is at most 2 * halo * V (``_exact_in_int32``'s argument), a drain level's output reads
# two such terms (4 * halo * V), and a level's kept tiles sum to at most 3 * halo * V (the
# capacity check); sums of several counts are taken in float64 or Python integers (``costs``).
MARGIN = 4


def _halo(problem: Problem, dims: tuple[str, ...]) -> int:
    """The largest touched extent over its box volume, over all tensors: the product over a
    tensor's axes of its largest coefficient (the stride or dilation of a sliding window), over
    the dimensions ``dims`` (those of size > 1, as the counts see them)."""
    return max(math.prod(max((c for d, c in idx.items() if d in dims), default=1) for idx in t.indices)
               for t in problem.tensors)


def _key_bits(largest_bound: int, ndims: int, dt) -> int | None:
    """Bits of the bound field of a key (``_pack_keys``), or None where a key of ``dt`` cannot
    hold the position (below ``ndims``) above a bound up to ``largest_bound``."""
    kb = max(1, int(largest_bound).bit_length())
    if dt is object:
        return kb
    pb = max(1, (ndims - 1).bit_length())
    return kb if pb + kb <= np.iinfo(dt).bits - 1 else None


def count_limit(problem: Problem) -> int:
    """The most MACs a layer of this shape may have to be counted exactly (64-bit counts)."""
    dims = tuple(d for d in problem.dim_names if problem.dims[d] > 1)
    return _INT64 // (MARGIN * _halo(problem, dims))


def check_countable(problem: Problem) -> None:
    """Raise ``CountLimitError`` (one line naming the layer, its size and the limit) where the
    layer is too large for the model to count exactly; every mapping of a layer that passes is
    counted exactly (its loop bounds multiply to its MACs)."""
    limit = count_limit(problem)
    if problem.macs > limit:
        raise CountLimitError(f"layer {problem.name}: {problem.macs:,} MACs ({problem.macs:.3g}) are too many to count "
                              f"exactly; the cost model counts in 64-bit integers, up to {limit:,} ({limit:.3g}) MACs "
                              "for this layer")
    big = max(problem.dim_names, key=lambda d: problem.dims[d])
    if _key_bits(problem.dims[big], len(problem.dim_names), np.int64) is None:
        most = (1 << (63 - max(1, (len(problem.dim_names) - 1).bit_length()))) - 1
        raise CountLimitError(f"layer {problem.name}: dimension {big}={problem.dims[big]:,} is too large to count "
                              f"exactly; the cost model takes dimensions up to {most:,} in a layer of "
                              f"{len(problem.dim_names)} dimensions")


def _fits(*factors: list) -> bool:
    """Elementwise, the product of these bounds (nested lists of the same shape) fits int32."""
    if isinstance(factors[0], list):
        return all(_fits(*f) for f in zip(*factors))
    return math.prod(factors) <= _INT32


def _factors_in_int32(hi_t: list, T, sp, S, TS, cum, keep: list[int]) -> bool:
    """The first part of ``_exact_in_int32``: the block's loop arrays (factors, fanout products,
    T * S, the boxes below level 0) are exact in int32; the counts may still pass 2**31.

    Proof that a block's int32 arithmetic is exact (``counts._Nest._loops``' arrays; ``hi_t`` the
    largest temporal bound per level and dimension).

    All factors are at least 1, so a product of factors is exact when the product of the
    largest values of its operands over the block fits; each step (X * Y spatial products, the
    fanout products over all dimensions, T * S, the boxes cum[l] = cum[l + 1] * T * S by
    induction from cum[L] = 1) is checked from bounds, and from the arrays' maxima where the
    bounds are too loose. Keys are checked apart (``_key_bits``). Every other
    quantity is at most 2 * halo * V, V = the product over dimensions of max cum[0]: products
    over dimensions (t_level, above, mult, outer, active, MAC steps) multiply distinct loop
    bounds of one mapping, so are at most V; a touched extent 1 + sum(coef * (x - 1)) is at most
    max(coef) * prod(x), so a tile or a fetch count (its box times the loops above it and the
    fanouts counted apart, distinct bounds again) is at most halo * V; sums in the counts
    (tile + (b1 - 1) * delta, own + refills) at most double that. Sums and products in int32
    are exact modulo 2**32, so an intermediate that wraps (sum(coef * x) before the extent's
    offset 1 - sum(coef)) still gives the exact value when that value fits; values on the
    discarded side of a select may wrap: they are multiplied by 0.
    """
    if min(T.min(initial=1), sp.min(initial=1)) < 1:
        return False
    hi_s = sp.max(axis=3, initial=1).tolist()
    if not _fits([math.prod(a) for s in hi_s for a in s]) or not _fits([x for x, _ in hi_s], [y for _, y in hi_s]):
        return False
    hi_xy = [[x[d] * y[d] for d in keep] for x, y in hi_s]  # bounds of S
    if not _fits(hi_t, hi_xy):
        hi_xy = S.max(axis=2, initial=1).tolist()
        if not _fits(hi_t, hi_xy):
            return False
    hi_ts = [[t * s for t, s in zip(ts, ss)] for ts, ss in zip(hi_t, hi_xy)]  # bounds of T * S
    hi_cum = [[1] * len(keep)]  # bounds of cum[L], cum[L - 1], ..., cum[1]
    for l in range(len(hi_t) - 1, 0, -1):
        hi_cum.insert(0, [c * t for c, t in zip(hi_cum[0], hi_ts[l])])
    if not _fits(hi_cum, hi_ts):
        hi_ts, hi_cum = TS.max(axis=2, initial=1).tolist(), cum[1:].max(axis=2, initial=1).tolist()
        if not _fits(hi_cum, hi_ts):
            return False
    return True


def _exact_in_int32(hi_t: list, T, sp, S, TS, cum, keep: list[int], halo: int, problem: Problem,
                    dims: tuple[str, ...]) -> bool:
    """Proof that a block's int32 arithmetic is exact (``_factors_in_int32``'s argument): the loop
    arrays are, and 2 * halo * V fits, V the product over dimensions of the largest box cum[0];
    or, with remainder tiles padding the boxes, ``_clipped_in_int32`` holds."""
    if not _factors_in_int32(hi_t, T, sp, S, TS, cum, keep):
        return False
    boxes = cum[0].max(axis=1, initial=1).tolist()
    return _fits(2 * halo, *boxes) or _clipped_in_int32(problem, dims, boxes, halo)


def _clipped_in_int32(problem: Problem, dims: tuple[str, ...], boxes: list[int], halo: int) -> bool:
    """Proof that a block with remainder tiles, whose loop arrays are exact in int32
    (``_factors_in_int32``) but whose padded boxes ``boxes`` (the largest cum[0] per dimension of
    ``dims``) multiply past 2**31 / (2 * halo), is still counted exactly in int32 by
    ``model.clipped``: where 2 * halo * V fits, V the product of the dimension sizes D (the layer's
    MACs), every dimension's 2 * box fits, and every tensor axis's largest coefficient times the
    product of its dimensions' boxes fits.

    With remainders the counts skip the padded products over dimensions (the products of a level's
    bounds, the loops above a level, the fanout instances counted apart: ``counts._Nest`` does not
    compute them). What they compute: digits, chunk counts and counts of non-empty index tuples of
    one dimension, at most D (distinct indices below D); ceil(n / f) as (n + f - 1) / f and a
    chunk's padded end n * box, at most D + box <= 2 * box; counts over the clipped (real) chunks,
    sums of tile sizes over the iterations that run, at most halo * V (a tile of real extents is at
    most halo times their product, ``_factors_in_int32``'s argument, and the chunks of a dimension
    partition D), their sums in ``count_block`` at most twice that; and, for a sliding window, the
    hull of a padded union box along an axis, 1 + sum(coef * (box - 1)), the index shift coef *
    span and the summed new positions of the union's members, each at most the axis's largest
    coefficient times the product of its boxes (the members partition the union). The sums and
    products in between are exact modulo 2**32, so only the operands of minima, comparisons and
    divisions need to fit, and those are among the quantities above."""
    sizes = [problem.dims[d] for d in dims]
    if not _fits(2 * halo, *sizes) or not _fits([2] * len(boxes), boxes):
        return False
    box = dict(zip(dims, boxes))
    return all(_fits(max(c for d, c in idx.items() if d in box), *(box[d] for d in idx if d in box))
               for t in problem.tensors for idx in t.indices if any(d in box for d in idx))


def _largest_product(T: np.ndarray, sp: np.ndarray) -> int | None:
    """Over a block (``counts._Nest._loops``' T (L, D, B) and spatial rows (R, B)), the largest product
    of all of one mapping's loop bounds, V, exactly, or None where it may reach 2**62.

    Proof that int64 holds every value when MARGIN * halo * V fits: all factors are at least 1,
    so every product of some of a mapping's factors (S, T * S, boxes, fanout products) is at
    most V, and every other quantity at most 2 * halo * V (``_exact_in_int32``'s argument, per
    mapping). V is first computed in float64 (relative error below 1e-13): below 2**62, the
    int64 product is exact and gives V itself.
    """
    if min(T.min(initial=1), sp.min(initial=1)) < 1:
        raise MappingError(f"loop bounds must be at least 1; a mapping has {min(T.min(initial=1), sp.min(initial=1))}")
    if (T.prod(axis=(0, 1), dtype=float) * sp.prod(axis=0, dtype=float)).max(initial=1) >= 2.0**62:
        return None
    return int((T.prod(axis=(0, 1)) * sp.prod(axis=0)).max(initial=1))
