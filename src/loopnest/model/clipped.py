"""Exact counts of mappings with remainder tiles (imperfect factorization), vectorized.

The rule (docs/model.md, "Remainder tiles"): a dimension of size D whose factors multiply past D
is tiled hierarchically with ceil tiles. Each loop over d iterates over chunks of c = the product
of d's factors inside it, aligned to multiples of c and clipped to D (Timeloop's ``residual_end``:
the last iteration of a loop is cut at the dimension's end); an iteration whose chunk starts at or
past D is skipped whole (its instance idles, its steps do not run). So at any loop position all
chunks of d are full (c) but the last, D - (n - 1) * c with n = ceil(D / c).

Every count of ``counts`` is a sum, over the loop iterations it counts, of a tile size; a tile is a
product over the tensor's axes of an affine function of the dimensions' chunk extents (the halo
rule), and the dimensions' chunks are independent. So a count is a product of per-dimension (or
per-axis) sums:
- an irrelevant dimension contributes N(K), the number of index tuples of the loops K that count
  (temporal loops outside the innermost relevant loop, fanouts counted apart) with some non-empty
  chunk: the x < D whose mixed-radix digits outside K are 0 (a digit count over d's loops);
- a relevant dimension's counted loops are always an outer prefix of its loops down to the union
  box (the folded fanouts and the consumer's own loops), so it contributes n = ceil(D / box) chunks
  of summed extent D, and an axis contributes sum(coef_d * D_d * prod(other n)) + (1 - sum(coef)) *
  prod(n) (the halo hull summed over its chunks);
- where the innermost relevant loop L* slides a window (its dimension d1 shares an axis), its first
  iteration in each parent chunk fetches the whole tile and every later one the new positions,
  min(extent, coef * (span + e - full)) for a chunk of extent e after a full one (only the last
  chunk of d1 is partial, and the chunk before it is full);
- MAC steps (cycles) are the slowest instance's, N(all temporal loops) per dimension (the first
  instance has the largest chunks); the active instances above a level are N(its fanouts above).
Refused with remainders (one line, ``RemainderError``; ``mapping.remainder_refusal``): outputs with
a window, systolic fanouts (their partial folds keep SCALE-Sim's padded timing), sparsity and
``strided_windows: positions``. Folded window unions on a fanout (``window_union``) are costed.
"""

from __future__ import annotations

import itertools

import numpy as np

from loopnest.mapping.mapping import MappingError, remainder_refusal


class RemainderError(MappingError):
    """A mapping with remainder tiles on a feature the exact remainder model does not cover."""


class Clip:
    """Per-dimension loop structure of a block with remainder tiles: the loops of each kept
    dimension in nest order (level 0 temporal, X, Y, level 1 temporal, ...), their chunk sizes and
    the digits of D - 1 in that mixed radix."""

    def __init__(self, nest, problem, arch, sizes: list[int]):
        L, dt = nest.L, nest.dt
        short = nest.cum[0] < np.array(sizes, dt)[:, None]
        if short.any():
            d = nest.dims[int(np.argmax(short.any(axis=1)))]
            raise MappingError(f"factors of {d} multiply to less than the layer's {d}={problem.dims[d]}")
        why = remainder_refusal(problem, arch)
        if why is not None:
            raise RemainderError(f"layer {problem.name}: remainder tiles (factors past a dimension's size) are not "
                                 f"modeled with {why}; use factors that divide each dimension")
        SX, SY = nest.SXY
        self.F = np.stack([a[l] for l in range(L) for a in (nest.T, SX, SY)])  # (3L, nd, B)
        self.C = np.ones_like(self.F)  # chunk of loop j: product of the factors inside it
        for j in range(3 * L - 2, -1, -1):
            np.multiply(self.C[j + 1], self.F[j + 1], out=self.C[j])
        self.D = np.array(sizes, dt)[:, None]  # (nd, 1)
        self.dig = ((self.D - 1) // self.C) % self.F
        self.nest = nest

    def count(self, d: int, K: list) -> np.ndarray:
        """N(K): index tuples of the loops K (per loop: bool or (B,) bool) of dimension d with a
        non-empty chunk, the x in [0, D) whose digits outside K are 0."""
        F, dig = self.F[:, d], self.dig[:, d]
        J = len(K)
        after = [None] * J  # product of F over K strictly inside loop j
        run = 1
        for j in range(J - 1, -1, -1):
            after[j] = run
            if K[j] is not False:
                run = run * (F[j] if K[j] is True else np.where(K[j], F[j], 1))
        tight = np.ones(F.shape[1], bool)
        acc = np.zeros(F.shape[1], F.dtype)
        for j in range(J):
            if K[j] is True:
                acc += tight * dig[j] * after[j]
            elif K[j] is False:
                acc += (tight & (dig[j] > 0)) * after[j]
                tight = tight & (dig[j] == 0)
            else:
                acc += tight * np.where(K[j], dig[j], dig[j] > 0) * after[j]
                tight = tight & (K[j] | (dig[j] == 0))
        return acc + tight

    def chunks(self, d: int, box: np.ndarray) -> np.ndarray:
        """n = ceil(D / box): the non-empty chunks of a box size (an aligned product of factors)."""
        return (self.D[d] + box - 1) // box

    def steps(self) -> np.ndarray:
        """(B,) the slowest instance's MAC steps: N(every temporal loop) per dimension, multiplied."""
        out = 1
        for d in range(self.F.shape[1]):
            out = out * self.count(d, [j % 3 == 0 for j in range(len(self.F))])
        return out

    def active(self, l: int) -> np.ndarray:
        """(B,) instances of level l with work: N(the fanouts above l) per dimension."""
        out = 1
        for d in range(self.F.shape[1]):
            out = out * self.count(d, [j % 3 > 0 and j < 3 * l for j in range(len(self.F))])
        return out + np.zeros(self.F.shape[2], self.F.dtype)


def _axis_sum(axis, n: dict, E: dict):
    """Sum of an axis's hull extent over every combination of its dimensions' chunks: n[d] chunks
    of summed extent E[d] per dimension."""
    total = 1
    for d, _ in axis:
        total = total * n[d]
    out = (1 - sum(c for _, c in axis)) * total
    for d, c in axis:
        rest = 1
        for o, _ in axis:
            if o != d:
                rest = rest * n[o]
        out = out + c * E[d] * rest
    return out


def fetched(nest, g, c: int, expand: tuple, reuse: bool) -> np.ndarray:
    """``_Nest.fetched`` with remainder tiles: words delivered to consumer c, summed."""
    clip = nest.clip
    w, box, _, _ = nest._fold(g, c, expand, reuse)
    J = 3 * c
    irr = 1
    for d in range(len(nest.dims)):
        if d in g.relevant:
            continue
        K = []
        for j in range(len(clip.F)):
            l, kind = divmod(j, 3)
            if j >= J:
                K.append(False)
            elif kind == 0:
                if w is None:
                    K.append(True)
                else:
                    K.append((l < w.lstar) | ((l == w.lstar) & (nest.key[l, d] < w.key)))
            else:
                K.append(expand[l] is not True and expand[l] != "xy"[kind - 1])
        irr = irr * clip.count(d, K)
    n = {d: clip.chunks(d, box[d]) for d in g.relevant}
    E = {d: clip.D[d] for d in g.relevant}
    axes = [_axis_sum(ax, n, E) for ax in g.axes]
    base = irr
    for a in axes:
        base = base * a
    if w is None or not g.sliding:
        return base
    out = base
    for (is_d1, a, _), (d1, _, coef) in zip(w.sliding, g.sliding):
        slid = _slide(nest, g, c, w, box, n, d1, a, coef)
        rest = irr
        for i, x in enumerate(axes):
            if i != a:
                rest = rest * x
        out = np.where(is_d1 & (w.lstar >= 0), rest * slid, out)
    return out


def _slide(nest, g, c: int, w, box: dict, n: dict, d1: int, a: int, coef: int) -> np.ndarray:
    """Axis a's words over d1's chunks when L* (a loop over d1) slides the window: the whole hull
    at L*'s first iteration in each parent chunk, the new positions at the others."""
    clip = nest.clip
    lstar = np.maximum(w.lstar, 0)
    at = [(lstar == l) for l in range(c)]
    span = sum(nest._span(l, d1) * at[l] for l in range(c))  # chunk of L*
    bound = sum(nest.T[l, d1] * at[l] for l in range(c))
    D, cc = clip.D[d1], box[d1]
    # the loops outside the union box (a chunk at least the box), L* left out (its digit 0)
    K = [(clip.C[j, d1] >= cc) & ~((j % 3 == 0) & (j // 3 == lstar)) for j in range(len(clip.F))]
    n_first = clip.count(d1, K)
    last = D - (n[d1] - 1) * cc
    last_first = ((n[d1] - 1) * cc // span) % bound == 0
    E_first = n_first * cc - last_first * (cc - last)
    others = [(d, cf) for d, cf in g.axes[a] if d != d1]
    nn = dict(n)
    nn[d1] = n_first
    EE = {d: clip.D[d] for d, _ in others}
    EE[d1] = E_first
    first = _axis_sum(g.axes[a], nn, EE)
    off = 1 - sum(cf for _, cf in g.axes[a])
    own = {d: nest.cum[c, d] for d, _ in g.axes[a]}  # one instance's chunk inside the folded union
    n_later = n[d1] - n_first
    last_later = 1 - last_first.astype(n_later.dtype)
    later = 0
    for cnt, eb in ((n_later - last_later, cc), (last_later, last)):
        for union in _classes(clip, others, box, n):
            mult, ext = cnt, coef * eb + off
            for (d, cf), (k, eo) in zip(others, union):
                mult, ext = mult * k, ext + cf * eo
            # each member's new positions: its window's end moved by coef * (span + e - own) (the
            # chunk before it is full), at most its extent; the union's, at most the union's extent
            new = 0
            for (kp, ep), *rest in itertools.product(_members(eb, own[d1]),
                                                      *[_members(eo, own[d]) for (d, _), (_, eo) in zip(others, union)]):
                k, e = kp, coef * ep + off
                for (d, cf), (ko, eo) in zip(others, rest):
                    k, e = k * ko, e + cf * eo
                new = new + k * np.minimum(e, coef * (span + ep - own[d1]))
            later = later + mult * np.minimum(ext, new)
    return first + later


def _members(extent, own):
    """A folded union chunk of ``extent`` split into instances of ``own``: (count, extent) of the
    full ones and of the partial last one (count 0 where none)."""
    return (extent // own, own), ((extent % own > 0) * 1, extent % own)


def _classes(clip, others, box, n):
    """Every combination of the other dimensions' chunk classes: (count, extent) full and last."""
    per = [((n[d] - 1, box[d]), (1, clip.D[d] - (n[d] - 1) * box[d])) for d, _ in others]
    yield from itertools.product(*per)


def first(nest, g, c: int, expand: tuple, reuse: bool) -> np.ndarray:
    """``_Nest.first`` with remainder tiles (outputs, no window): every element of each relevant
    dimension once, times the irrelevant dimensions' non-empty fanout instances counted apart."""
    clip = nest.clip
    out = 1
    for d in range(len(nest.dims)):
        if d in g.relevant:
            out = out * clip.D[d]
            continue
        K = [j < 3 * c and j % 3 > 0 and expand[j // 3] is not True and expand[j // 3] != "xy"[j % 3 - 1]
             for j in range(len(clip.F))]
        out = out * clip.count(d, K)
    return out
