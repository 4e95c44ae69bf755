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

Speed (a block of mappings at once, no loop per mapping): a block is counted in int32 where
``limits._clipped_in_int32`` proves it from the real sizes (the padded boxes' products over
dimensions are never formed), and blocks after one with remainders are larger
(``costs.CLIPPED_CHUNK``); loops of bound 1 in every mapping (the fanout slots of levels without a
fanout) are left out; the digits of D - 1 come from one float division per loop and dimension
(``_div``: float32 below 2**24, float64 below 2**53, where NumPy's integer division is several
times slower), as (B,) rows built when a count first asks; the counts with the same loops (MAC
steps, active instances, first fetches, the MAC's operands) are computed once per block, and the
shared and own fetches of a consumer share their scan up to the last per-mapping loop; the
first-iteration chunks of a sliding loop are counted in closed form, and the sliding-window words
only for the mappings whose innermost relevant loop is that window's, gathered.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from loopnest.mapping.mapping import MappingError, remainder_refusal

_FLOAT_EXACT = 2**53  # a float64 quotient of integers below this, truncated, is their floor division
_FLOAT32_EXACT = 2**24  # the same for float32


class RemainderError(MappingError):
    """A mapping with remainder tiles on a feature the exact remainder model does not cover."""


def _div(a, b):
    """a // b for non-negative integers a (array or int) and positive b: the float64 quotient,
    truncated, where every a is below 2**53 (exact: the rounding error, below a / b * 2**-53, is
    less than 1 / b, the least distance from a / b to the next integer; a b past 2**53 rounds to
    at least 2**53 > a, a quotient below 1), the float32 one for int32 arrays below 2**24 (the
    same argument; half the traffic), else integer division (and for Python integers, dtype
    object)."""
    if isinstance(a, np.ndarray) and a.dtype != object and getattr(b, "dtype", None) != object and a.size:
        top = a.max()
        if top < _FLOAT32_EXACT and a.dtype == np.int32:
            return (a.astype(np.float32) / np.asarray(b, np.float32)).astype(np.int32)
        if top < _FLOAT_EXACT:
            return (a / b).astype(a.dtype)
    return a // b


def _at(x, idx):
    """x restricted to the mappings idx where it is a (B,) array; ints unchanged."""
    return x[idx] if isinstance(x, np.ndarray) else x


class Clip:
    """Per-dimension loop structure of a block with remainder tiles: the loops that may have a
    bound above 1 (``loops``: (level, 0 temporal / 1 X / 2 Y) in nest order, outer -> inner),
    their bounds F and, computed as the counts ask for them, per loop and dimension (B,) rows of
    the digits of D - 1 in that mixed radix (``row``) and of the chunks before the last (``q``)."""

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
        # a loop of bound 1 has digit 0 and changes no count: the fanout slots of levels without one are left out
        self.loops = [(l, k) for l in range(L) for k in range(3) if k == 0 or arch.levels[l].fanout is not None]
        parts = (nest.T, *nest.SXY)
        self.F = [parts[k][l] for l, k in self.loops]  # per loop, (nd, B) views
        self.sizes = sizes
        self.D = np.array(sizes, dt)[:, None]  # (nd, 1)
        self.dt, self.B = dt, nest.B
        self.last = [sum(1 for l, _ in self.loops if l < c) - 1 for c in range(L + 1)]  # the innermost loop above level c
        self._q: dict = {}
        self._rows: dict = {}
        self._counts: dict = {}  # (d, loops) -> (count, the loops' arrays)
        self._heads: dict = {}  # (d, loops up to the last array) -> ((acc, tight), those loops)
        self._loops_outside: dict = {}  # (tensor, consumer, d) -> per-mapping K of the temporal loops
        self._chunks: dict = {}
        self.nest = nest

    def q(self, i: int, d: int) -> np.ndarray:
        """(D - 1) // C[i], C[i] the chunk of loop i (the product of the bounds inside it): the
        chunks of that size before the last, ceil(D / C[i]) = q + 1; from the inside out,
        q[i - 1] = q[i] // F[i] (per (B,) row: small arrays, no page faults)."""
        if (i, d) not in self._q:
            inner = np.full(self.B, self.sizes[d] - 1, self.dt) if i == len(self.loops) - 1 else self.q(i + 1, d)
            self._q[(i, d)] = inner if i == len(self.loops) - 1 else _div(inner, self.F[i + 1][d])
        return self._q[(i, d)]

    def row(self, i: int, d: int) -> tuple:
        """Loop i of dimension d: its bounds F, D - 1's digit (q[i] - F q[i - 1]; q[0] < F[0] as
        cum[0] >= D), and that digit > 0 and == 0 as 0/1."""
        if (i, d) not in self._rows:
            F, q = self.F[i][d], self.q(i, d)
            dig = q - F * self.q(i - 1, d) if i else q
            pos = (dig > 0).astype(self.dt)
            self._rows[(i, d)] = (F, dig, pos, 1 - pos)
        return self._rows[(i, d)]

    def count(self, d: int, K: list) -> np.ndarray:
        """N(K): index tuples of the loops K (per loop of ``loops``: bool or (B,) bool) of dimension
        d with a non-empty chunk, the x in [0, D) whose digits outside K are 0. Horner's scheme over
        the loops, outer -> inner: ``acc`` counts the tuples below D - 1's digits so far, ``tight``
        (0/1) says the digits so far equal D - 1's; N = acc + tight. Per block, a count with the
        same loops is computed once, and the scan up to the last loop given as an array is shared
        by the counts that give the same arrays (kept alive here, so their ids name them)."""
        K = list(K)
        while K and K[-1] is False:  # a trailing loop outside K adds tight * (digit > 0), keeps tight * (digit == 0)
            K.pop()
        key = (d, tuple(k if k is True or k is False else id(k) for k in K))
        if key in self._counts:
            return self._counts[key][0]
        m = max((j + 1 for j, k in enumerate(K) if k is not True and k is not False), default=0)
        head = (d, key[1][:m])
        if m and head in self._heads:
            (acc, tight), i = self._heads[head][0], m
        else:
            i = 0
            while i < len(K) and K[i] is True:
                i += 1
            # an outer run in K: every tuple up to D - 1's prefix, all tight (tight None: 1 everywhere)
            acc, tight = (self.q(i - 1, d) if i else 0), None
        for j in range(i, len(K)):
            (F, dig, pos, zero), k = self.row(j, d), K[j]
            if k is False:
                acc = acc + (pos if tight is None else tight * pos)
                tight = zero if tight is None else tight * zero
            else:
                if k is not True:  # per mapping: a loop in K, or one outside it (selects as arithmetic: faster)
                    F, dig = (F - 1) * k + 1, (dig - pos) * k + pos
                    zero = np.maximum(k, zero)  # stays tight: in K (its digit may equal D - 1's), or a digit 0
                step = dig if tight is None else tight * dig
                acc = step if isinstance(acc, int) else acc * F + step
                if k is not True:
                    tight = zero if tight is None else tight * zero
            if j + 1 == m:
                self._heads[head] = ((acc, tight), K[:m])
        out = acc + (1 if tight is None else tight)
        self._counts[key] = (out, K)
        return out

    def chunks(self, d: int, c: int, folded) -> np.ndarray | int:
        """n = ceil(D / box): the non-empty chunks of the union box of consumer level c, its box
        times the ``folded`` factors (None: 1); ceil(D / (cum[c] f)) = ceil(ceil(D / cum[c]) / f).
        An int where it is the same for every mapping: 1 at level 0, D at the MAC (box 1)."""
        if (c, d) not in self._chunks:
            self._chunks[(c, d)] = (1 if c == 0 else self.sizes[d] if c == self.nest.L
                                    else self.q(self.last[c], d) + 1)
        n = self._chunks[(c, d)]
        return n if folded is None else _div(n + folded - 1, folded)

    def steps(self) -> np.ndarray:
        """(B,) the slowest instance's MAC steps: N(every temporal loop) per dimension, multiplied."""
        out = 1
        for d in range(len(self.sizes)):
            out = out * self.count(d, [k == 0 for _, k in self.loops])
        return out

    def active(self, l: int) -> np.ndarray:
        """(B,) instances of level l with work: N(the fanouts above l) per dimension."""
        out = 1
        for d in range(len(self.sizes)):
            out = out * self.count(d, [k > 0 and ll < l for ll, k in self.loops])
        return out + np.zeros(self.B, self.dt)


def _axis_sum(axis, n: dict, E: dict):
    """Sum of an axis's hull extent over every combination of its dimensions' chunks: n[d] chunks
    of summed extent E[d] per dimension (an axis of one dimension, coefficient 1: E[d])."""
    if len(axis) == 1 and axis[0][1] == 1:
        return E[axis[0][0]]
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


def _unfolded(expand: tuple, l: int, k: int) -> bool:
    """Is fanout slot k (1 X, 2 Y) of level l counted apart (not folded by ``expand``)?"""
    return expand[l] is not True and expand[l] != "xy"[k - 1]


def fetched(nest, g, c: int, expand: tuple, reuse: bool) -> np.ndarray:
    """``_Nest.fetched`` with remainder tiles: words delivered to consumer c, summed."""
    clip = nest.clip
    w, box, folded, _ = nest._fold(g, c, expand, reuse)
    outside = None if w is None else [(w.lstar > l, w.lstar == l) for l in range(c)]
    irr = 1
    for d in range(len(nest.dims)):
        if d in g.relevant:
            continue
        K = []
        for l, k in clip.loops:
            if l >= c:
                K.append(False)
            elif k > 0:
                K.append(_unfolded(expand, l, k))
            elif w is None:
                K.append(True)
            else:  # the temporal loops outside the innermost relevant one (the same arrays for every fold)
                if (g, c, d, l) not in clip._loops_outside:
                    clip._loops_outside[(g, c, d, l)] = outside[l][0] | (outside[l][1] & (nest.key[l, d] < w.key))
                K.append(clip._loops_outside[(g, c, d, l)])
        irr = irr * clip.count(d, K)
    n = {d: clip.chunks(d, c, folded[d]) for d in g.relevant}
    E = {d: clip.sizes[d] for d in g.relevant}
    axes = [_axis_sum(ax, n, E) for ax in g.axes]
    base = irr * math.prod(a for a in axes if isinstance(a, int))  # the ints first: one pass for them all
    for a in axes:
        if not isinstance(a, int):
            base = base * a
    if w is None or not g.sliding:
        return base
    out = None
    for (is_d1, a, shift), (d1, _, coef) in zip(w.sliding, g.sliding):
        idx = np.flatnonzero(is_d1 & (w.lstar >= 0))  # the mappings whose innermost relevant loop slides on d1
        if len(idx) == 0:
            continue
        if out is None:
            out = np.array(np.broadcast_to(base, (nest.B,)))
        rest = _at(irr, idx)
        for i, x in enumerate(axes):
            if i != a:
                rest = rest * _at(x, idx)
        out[idx] = rest * _slide(nest, g, c, w, box, folded, n, d1, a, coef, shift, idx)
    return base if out is None else out


def _slide(nest, g, c: int, w, box: dict, folded: dict, n: dict, d1: int, a: int, coef: int, shift, idx) -> np.ndarray:
    """Axis a's words over d1's chunks, for the mappings idx whose innermost relevant loop L* (a
    loop over d1, index shift ``shift`` per step) slides the window: the whole hull at L*'s first
    iteration in each parent chunk, the new positions at the others."""
    clip = nest.clip
    shift, bound = _at(shift, idx), w.b1[idx]
    cc, n1, D = box[d1][idx], n[d1][idx], clip.sizes[d1]
    # L*'s chunk holds P union boxes (the box, a product of factors inside L*, divides it); of the
    # n1 box chunks, those at L*'s first iteration in their parent chunk: P per full cycle of L*,
    # and in the last cycle the chunks of its first step (all n1 - m P left where that is the last step)
    P = _div(shift // coef if coef != 1 else shift, cc)
    m = _div(n1 - 1, P)  # L* steps before the last chunk's, over all cycles
    cycles = _div(m, bound)
    last_first = m == bound * cycles  # the last chunk lies at L*'s first iteration
    n_first = cycles * P + np.where(last_first, n1 - m * P, P)
    last = D - (n1 - 1) * cc
    lf = last_first.astype(n1.dtype)
    E_first = n_first * cc - lf * (cc - last)
    others = [(d, cf) for d, cf in g.axes[a] if d != d1]
    nn = {d: _at(n[d], idx) for d, _ in others}
    nn[d1] = n_first
    EE = {d: clip.sizes[d] for d, _ in others}
    EE[d1] = E_first
    first = _axis_sum(g.axes[a], nn, EE)
    off = 1 - sum(cf for _, cf in g.axes[a])
    own = {d: nest.cum[c, d][idx] for d, _ in g.axes[a]}  # one instance's chunk inside the folded union
    n_later = n1 - n_first
    # chunk classes of each dimension: (count, extent, its instances as (count, extent)): the full
    # chunks (the box: ``folded`` whole instances) and the last one (its whole instances and a partial one)
    full1 = (n_later - (1 - lf), cc, [(_at(folded[d1], idx) if folded[d1] is not None else 1, own[d1])])
    last1 = (1 - lf, last, _members(last, own[d1]))
    per = []
    for d, _ in others:
        bd, last_d = _at(box[d], idx), clip.sizes[d] - (nn[d] - 1) * _at(box[d], idx)
        per.append(((nn[d] - 1, bd, [(_at(folded[d], idx) if folded[d] is not None else 1, own[d])]),
                    (1, last_d, _members(last_d, own[d]))))
    later = 0
    for (cnt, eb, mem1), *union in itertools.product((full1, last1), *per):
        mult, ext = cnt, coef * eb + off
        for (_, cf), (k, eo, _) in zip(others, union):
            mult, ext = mult * k, ext + cf * eo
        # each member's new positions: its window's end moved by coef * (span + e - own) (the
        # chunk before it is full), at most its extent; the union's, at most the union's extent
        new = 0
        for (kp, ep), *rest in itertools.product(mem1, *[m for _, _, m in union]):
            k, e = kp, coef * ep + off
            for (_, cf), (ko, eo) in zip(others, rest):
                k, e = k * ko, e + cf * eo
            new = new + k * np.minimum(e, shift + coef * (ep - own[d1]))
        later = later + mult * np.minimum(ext, new)
    return first + later


def _members(extent, own):
    """A union chunk of ``extent`` split into instances of ``own``: (count, extent) of the full
    ones and of the partial last one (count 0 where none)."""
    whole = _div(extent, own)
    part = extent - whole * own
    return [(whole, own), ((part > 0).astype(part.dtype), part)]


def first(nest, g, c: int, expand: tuple, reuse: bool) -> np.ndarray:
    """``_Nest.first`` with remainder tiles (outputs, no window): every element of each relevant
    dimension once, times the irrelevant dimensions' non-empty fanout instances counted apart."""
    clip = nest.clip
    out = 1
    for d in range(len(nest.dims)):
        if d in g.relevant:
            out = out * clip.D[d]
            continue
        out = out * clip.count(d, [l < c and k > 0 and _unfolded(expand, l, k) for l, k in clip.loops])
    return out
