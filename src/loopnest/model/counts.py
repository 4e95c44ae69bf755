"""Vectorized access counting: per level, per tensor, the words read, filled and updated,
for a batch of mappings of one layer (no Python loop per mapping).

Counting rules (Timeloop-compatible; docs/model.md derives them):
- A level's tile spans its own temporal loops and every loop inside them (so it includes the
  spatial fanouts below it). Tile sizes follow the halo rule of ``Problem``.
- Fills of a keeper level, per instance: walking the temporal loops above it from the inside out,
  loops over dimensions irrelevant to the tensor that lie inside the innermost relevant loop reuse
  the tile; the innermost relevant loop fetches only the new part of a sliding window (delta);
  every loop outside it refetches the whole tile (an overlap across a wrap-around of the inner
  loops is not credited). Loops of bound 1 are not loops. Summed over instances.
- A consumer reads its operand from the next keeper above it. The parent's reads are the
  consumer's fetches with the spatial fanouts in between folded into one union tile where the
  fanout multicasts (or, for outputs, reduces), and multiplied out where it does not; a fanout
  without ``window_union`` never folds an operand's window dimensions (each child's window is
  read whole, Timeloop's and AccelForge's count). A fanout
  that sits outside the consumer's innermost relevant loop folds only the dimensions irrelevant
  to the tensor (identical tiles); its relevant instances are counted apart (halo overlap between
  them is not credited).
- The MAC reads operands from the innermost keeper on every temporal step (it has no storage).
- Outputs: the innermost keeper takes one update per MAC (after spatial reduction); each update
  but the first write of an element is preceded by a read. A child's output tile is written
  back (an update at the parent) once per version; versions after the first are first read back
  from the parent (a psum refill). A child level with ``drain_reads`` (AccelForge's convention)
  also reads each value it writes back: one read per written-back value of each instance (its
  own versions, before any spatial reduction), none where the parent is the outermost level and
  the outputs are ``resident`` (nothing is written back).

Remainder tiles (factors multiplying past a dimension's size): ``model/clipped.py`` replaces the
words fetched, the distinct elements, the MAC steps and the active instances with its exact sums
over the clipped tiles (its docstring states the rule); tile sizes are the boxes clipped at D.

Layout: per-mapping quantities are stored dimension-major, ``(L, D, B)``, so that every
operation works on contiguous batch columns. Dimensions of size 1 are dropped up front.
Integer type: a block is counted in int32 (half the memory traffic of int64) where every dimension
fits int32 (so every factor of a mapping does: the cast to int32 loses nothing) and
``limits._exact_in_int32`` proves that every value fits (with remainder tiles, from the real sizes:
``limits._clipped_in_int32``; the padded products over dimensions, t_level, above, s_level, a
walk's ``outer`` and a fold's multiplicity, are then not formed), else in int64 where
``limits._largest_product`` proves it (every loop bound of a mapping multiplied together, V, with
4 * halo * V < 2**63; a block whose loop arrays are exact in int32 but whose counts may not be has
those arrays widened instead, V at most the product of the largest boxes); the counts come out the
same. A layer beyond that is refused with a ``CountLimitError`` (``check_countable`` says so before
a search starts), never counted wrong.
Python integers (dtype object) also work: exact at any size and slow, the reference the tests
compare the fixed-width paths with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.mapping import MappingBatch
from loopnest.model import clipped
from loopnest.model.clipped import Clip
from loopnest.model.layout import _pack_keys, _positions, _rows
from loopnest.model.limits import (_INT32, _INT64, MARGIN, CountLimitError, _exact_in_int32, _factors_in_int32, _halo,
                                   _key_bits, _largest_product, check_countable, count_limit)
from loopnest.model.positions import TwoTermAxis
from loopnest.workload.problem import ROLES, Problem, Tensor

OUT = ROLES.index("outputs")
READS, FILLS, UPDATES, NETWORK, TILES = range(5)  # kinds of counts


def _axes(shares: tuple[bool, bool]) -> bool | str:
    """A fanout's (X, Y) sharing of a tensor as the fold the counts use: True (both axes), False
    (neither), or the one axis that folds, "x" or "y"."""
    return shares[0] if shares[0] == shares[1] else "xy"[shares.index(True)]


def _mul(a, b):
    """a * b for integers and arrays, skipping a literal 1 (each multiply is a pass over the block)."""
    if isinstance(a, int) and a == 1:
        return b
    if isinstance(b, int) and b == 1:
        return a
    return a * b


def _prod(items):
    """Product of integers and arrays (1 if empty), skipping literal 1s."""
    out = 1
    for x in items:
        out = _mul(out, x)
    return out


@dataclass(frozen=True, eq=False)  # identity hashing: cheap cache keys
class TensorGeometry:
    """A tensor's affine indices over the problem's non-trivial dimensions."""

    axes: tuple[tuple[tuple[int, int], ...], ...]  # per axis: ((dim, coef), ...)
    relevant: tuple[int, ...]
    sliding: tuple[tuple[int, int, int], ...]  # (dim, axis, coef) for dims sharing an axis with another
    operand: bool = True  # inputs or weights (not the outputs)
    positions: tuple[TwoTermAxis | None, ...] = ()  # per axis: counted by the positions read (strided_windows)

    @staticmethod
    def of(tensor: Tensor, dims: tuple[str, ...], positions: bool = False) -> TensorGeometry:
        """``positions``: two-term axes count the positions read (``model.positions``), not the hull."""
        axes = tuple(tuple((dims.index(d), c) for d, c in idx.items() if d in dims) for idx in tensor.indices)
        relevant = tuple(sorted({d for ax in axes for d, _ in ax}))
        sliding = tuple((d, a, c) for a, ax in enumerate(axes) if len(ax) > 1 for d, c in ax)
        two = tuple(TwoTermAxis.of(ax[0][1], ax[1][1]) if positions and len(ax) == 2 else None for ax in axes)
        two = tuple(t if t is not None and t.exact and (t.g > 1 or t.m > 1) else None for t in two)
        return TensorGeometry(axes, relevant, sliding, tensor.role != "outputs", two if any(two) else ())

    def stepped(self, a: int, box, own, shift):
        """New positions of axis ``a`` per step of a loop that shifts one instance's window (extent
        ``own``, box ``box``) by ``shift`` positions: ``min(own, shift)`` on the hull, the box's
        positions less those it shares with its shifted self where the axis counts positions."""
        two = self.positions[a] if self.positions else None
        if two is None:
            return np.minimum(own, shift)
        (d1, _), (d2, _) = self.axes[a]
        return two.new(box[d1], box[d2], shift)

    def extents(self, box) -> list:
        """Touched extent (the hull, halo rule) of each axis, or its positions read where the axis
        counts positions; ``box[d]`` is dimension d's extent.
        1 + sum(coef * (box - 1)) is evaluated as sum(coef * box) + (1 - sum(coef)): fewer passes."""
        out = []
        for a, ax in enumerate(self.axes):
            if self.positions and self.positions[a] is not None:
                out.append(self.positions[a].count(box[ax[0][0]], box[ax[1][0]]))
                continue
            e = 1
            for i, (d, c) in enumerate(ax):
                term = _mul(c, box[d])
                e = term if i == 0 else e + term
            offset = 1 - sum(c for _, c in ax) if ax else 0
            out.append(e + offset if offset else e)
        return out

    def tile(self, box) -> tuple[list, np.ndarray]:
        """The touched extents and their product (the tile size)."""
        ext = self.extents(box)
        return ext, _prod(ext)


@dataclass
class Counts:
    """Word counts of a batch: arrays (B, L, 3) indexed [mapping, level, role (ROLES order)]."""

    reads: np.ndarray
    fills: np.ndarray
    updates: np.ndarray
    network: np.ndarray  # words crossing the fanout below each level, per destination instance
    tiles: np.ndarray  # per-instance tile size at each level
    macs: int
    compute_cycles: np.ndarray  # (B,) product of all temporal factors
    active: np.ndarray  # (B, L) active instances of each level (mapped spatial factors above it)


@dataclass(frozen=True)
class _Walk:
    """Where a tensor's innermost relevant temporal loop above a consumer sits, per mapping."""

    lstar: np.ndarray  # level of that loop, -1 if none
    key: np.ndarray  # its key (position and bound, ``_pack_keys``)
    outer: np.ndarray | None  # product of the temporal loops outside it (None with remainders)
    b1: np.ndarray  # its bound
    sliding: tuple[tuple[np.ndarray, int, np.ndarray], ...]  # (is that dim, axis, index shift per step)


def _select(cond: np.ndarray, a, b):
    """np.where(cond, a, b) for integers, as arithmetic: several times faster on random masks."""
    return b + (a - b) * cond


def _pick(levels: list[np.ndarray], onehot: list[np.ndarray]) -> np.ndarray:
    """levels[at[b]][b] for a short list of per-level arrays; onehot[l] = (at == l) as 0/1."""
    if len(levels) == 1:
        return levels[0]
    out = levels[0] * onehot[0]
    for l in range(1, len(levels)):
        out = out + levels[l] * onehot[l]
    return out


class _Nest:
    """Per-batch loop-nest quantities shared by every tensor's walk."""

    def __init__(self, problem: Problem, arch: Architecture, batch: MappingBatch):
        keep = [i for i, d in enumerate(problem.dim_names) if problem.dims[d] > 1]
        self.dims = tuple(problem.dim_names[i] for i in keep)
        B, L, _ = batch.temporal.shape
        self.B, self.L = B, L
        self.problem = problem
        halo = _halo(problem, self.dims)  # the int32 and int64 proofs' halo
        self.apart_windows = [lv.fanout is not None and not lv.fanout.window_union for lv in arch.levels]
        self.one_axis = any(lv.fanout is not None and len({*lv.fanout.shares(r)}) > 1 for lv in arch.levels for r in ROLES)
        if any(lv.drain_reads for lv in arch.levels):
            halo *= 2  # a drain level's output reads sum two counts (count_block)
        # int32 only where every factor fits it before the cast: a factor is at most its dimension
        if max(problem.dims.values()) > _INT32 or not self._loops(batch, keep, np.int32, halo):
            self._loops(batch, keep, np.int64, halo)
        dt = self.dt
        sizes = [problem.dims[d] for d in self.dims]
        # remainder tiles (factors multiplying past a dimension): the exact clipped counts of clipped.py
        self.clip = Clip(self, problem, arch, sizes) if (self.cum[0] != np.array(sizes, dt)[:, None]).any() else None
        if self.clip is None:  # padded products over dimensions: clipped.py does without (limits._clipped_in_int32)
            self.t_level = self.T.prod(axis=1, dtype=dt)  # (L, B)
            self.s_level = self.S.prod(axis=1, dtype=dt)
            self.above = np.ones((L + 1, B), dt)  # product of temporal factors of levels < l
            for l in range(L):
                self.above[l + 1] = self.above[l] * self.t_level[l]
        # per tensor role, per level: which of the fanout's axes fold (share): False, True (both), "x" or "y"
        self.share = {role: [_axes(lv.fanout.shares(role)) if lv.fanout is not None else False for lv in arch.levels]
                      for role in ROLES}
        self._levels: dict = {}
        self._counts: dict = {}
        self._folds: dict = {}
        self._spans: dict = {}
        self._walks: dict = {}
        self._gaps: dict = {}
        self._tiles: dict = {}
        self._aparts: dict = {}
        self._wholes: dict = {}

    def _loops(self, batch: MappingBatch, keep: list[int], dt, halo: int) -> bool:
        """Loop bounds, keys, boxes and fanout products in ``dt``; False (nothing kept) where
        int32 is asked for and cannot be proven exact for this block; ``CountLimitError`` where
        int64 cannot (dtype object: Python integers, no proof needed)."""
        B, L, Dall = batch.temporal.shape
        kept = [l * Dall + d for l in range(L) for d in keep]  # temporal columns of the kept dimensions
        T = _rows(batch.temporal, dt, kept).reshape(L, len(keep), B)  # batch-innermost
        hi_t = T.max(axis=2, initial=1).tolist()
        kb = _key_bits(max((t for ts in hi_t for t in ts), default=1), Dall, dt)
        if kb is None and dt == np.int32:
            return False
        sp = _rows(batch.spatial, dt)  # row (2 * l + axis) * Dall + d
        if dt == np.int64:
            v = _largest_product(T, sp)
            if kb is None or v is None or MARGIN * halo * v > _INT64:
                check_countable(self.problem)  # the layer itself is too large: say so
                raise CountLimitError(f"layer {self.problem.name}: a mapping's loop bounds multiply to "
                                      f"{'2**62 or more' if v is None else f'{v:,}'} (the layer has "
                                      f"{self.problem.macs:,} MACs), beyond what the cost model counts exactly "
                                      f"({count_limit(self.problem):,})")
        per_axis = sp.reshape(L * 2, Dall, B)
        xy = per_axis[:, 0].copy()  # product of the spatial factors on each fanout axis
        for d in range(1, Dall):
            xy *= per_axis[:, d]
        xs = [2 * l * Dall + d for l in range(L) for d in keep]
        SX, SY = sp[xs].reshape(L, len(keep), B), sp[[r + Dall for r in xs]].reshape(L, len(keep), B)
        S = SX * SY
        TS = T * S
        cum = np.ones((L + 1, len(keep), B), dt)  # cum[l]: per-instance box of level l
        for l in range(L - 1, -1, -1):
            np.multiply(cum[l + 1], TS[l], out=cum[l])
        if dt == np.int32 and not _exact_in_int32(hi_t, T, sp.reshape(L, 2, Dall, B), S, TS, cum, keep, halo,
                                                  self.problem, self.dims):
            # where only the counts may pass 2**31 (remainder tiles pad the boxes), the exact arrays
            # widened to int64 serve the int64 path (V at most the product of the largest boxes)
            v = math.prod(cum[0].max(axis=1, initial=1).tolist())
            kb = _key_bits(max((t for ts in hi_t for t in ts), default=1), Dall, np.int64)
            if (kb is None or MARGIN * halo * v > _INT64
                    or not _factors_in_int32(hi_t, T, sp.reshape(L, 2, Dall, B), S, TS, cum, keep)):
                return False
            dt = np.int64
            T, xy, SX, SY, S, cum = (x.astype(dt) for x in (T, xy, SX, SY, S, cum))
        # key[l, d]: (position, bound) of a real loop (bound > 1), -1 for loops of bound 1
        key = _pack_keys(_positions(batch.perm, keep), T, kb, dt)
        self.dt, self.kb, self.T, self.S, self.key, self.cum, self.xy = dt, kb, T, S, key, cum, xy.reshape(L, 2, B)
        self.SA = (SX, SY) if self.one_axis else None  # per axis, where some fanout shares on one axis only
        self.SXY = (SX, SY)
        return True

    def _innermost(self, g: TensorGeometry, l: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """At level l: key of the innermost relevant loop (-1: none), product of the loops
        outside it (None with remainders: clipped.py counts without), and its bound."""
        if (g, l) not in self._levels:
            k = self.key[l, g.relevant[0]] if g.relevant else np.full(self.B, -1, self.dt)
            for d in g.relevant[1:]:
                k = np.maximum(k, self.key[l, d])
            b1 = k & ((1 << self.kb) - 1)
            outer = None
            if self.clip is None:
                inside = b1  # times the bounds of the irrelevant loops inside it
                for d in range(len(self.dims)):
                    if d not in g.relevant:  # T if the loop lies inside, else 1
                        inside = inside * ((self.T[l, d] - 1) * (self.key[l, d] > k) + 1)
                outer = self.t_level[l] // np.maximum(inside, 1)
            self._levels[(g, l)] = (k, outer, b1)
        return self._levels[(g, l)]

    def tile(self, g: TensorGeometry, l: int) -> tuple[list, np.ndarray]:
        """Extents and size of g's tile at level l (per instance)."""
        if (g, l) not in self._tiles:  # with remainders, the largest (first) chunk: the box clipped to D
            self._tiles[(g, l)] = g.tile(self.cum[l] if self.clip is None else np.minimum(self.cum[l], self.clip.D))
        return self._tiles[(g, l)]

    def _span(self, l: int, d: int) -> np.ndarray:
        """Index shift of dim d per step of a level-l loop: the box below it, S * cum[l + 1]."""
        if (l, d) not in self._spans:
            self._spans[(l, d)] = self.S[l, d] * self.cum[l + 1, d]
        return self._spans[(l, d)]

    def walk(self, g: TensorGeometry, c: int) -> _Walk:
        if (g, c) not in self._walks:
            self._walks[(g, c)] = self._walk(g, c)
        return self._walks[(g, c)]

    def _walk(self, g: TensorGeometry, c: int) -> _Walk:
        per_level = [self._innermost(g, l) for l in range(c)]
        for l, (k, _, _) in enumerate(per_level):
            if l == 0:
                lstar = (k >= 0).astype(self.dt) - 1
            else:
                lstar = np.maximum(lstar, (k >= 0) * (l + 1) - 1)
        ls = [(lstar <= 0).astype(self.dt)] + [(lstar == l).astype(self.dt) for l in range(1, c)] if c > 1 else None
        key = _pick([k for k, _, _ in per_level], ls)
        outer = None if self.clip else _pick(list(self.above[:c]), ls) * _pick([o for _, o, _ in per_level], ls)
        b1 = _pick([b for _, _, b in per_level], ls)
        sliding = []
        for d, a, coef in g.sliding:
            is_d1 = _pick(list(self.key[:c, d]), ls) == key
            shift = coef * _pick([self._span(l, d) for l in range(c)], ls)
            sliding.append((is_d1, a, shift))
        return _Walk(lstar, key, outer, b1, tuple(sliding))

    def fetched(self, g: TensorGeometry, c: int, expand: tuple[bool, ...], reuse: bool) -> np.ndarray:
        """Words delivered to consumer level ``c`` (``L`` = the MAC), summed over its instances.

        ``expand[q]`` folds level q's spatial fanout into a union tile (multicast or reduction)
        where its children hold adjacent ranges; other fanouts above ``c`` multiply the count.
        """
        key = (g, c, expand, reuse)
        if key not in self._counts:
            self._counts[key] = (self._fetched(g, c, expand, reuse) if self.clip is None
                                 else clipped.fetched(self, g, c, expand, reuse))
        return self._counts[key]

    def first(self, g: TensorGeometry, c: int, expand: tuple[bool, ...], reuse: bool) -> np.ndarray:
        """The distinct elements of those words (what a first fetch of each element costs):
        one group's share of the whole tensor, the folded fanouts' union of it, times ``mult``."""
        if self.clip is not None:
            return clipped.first(self, g, c, expand, reuse)
        _, _, folded, mult = self._fold(g, c, expand, reuse)
        # the whole extent of d over the fanouts counted apart: cum[0] / their factors
        whole = {d: self._whole(c, d) if folded[d] is None else self._whole(c, d) * folded[d] for d in g.relevant}
        return _mul(g.tile(whole)[1], mult)

    def _whole(self, c: int, d: int) -> np.ndarray:
        """All loop bounds of d but the fanouts above level c."""
        if (c, d) not in self._wholes:
            self._wholes[(c, d)] = _prod([self.cum[c, d]] + [self.T[l, d] for l in range(c)])
        return self._wholes[(c, d)]

    def _apart(self, c: int, expand: tuple[bool, ...]) -> np.ndarray:
        """Instances of the fanouts above level c that ``expand`` does not fold."""
        key = (c, expand[:c])
        if key not in self._aparts:
            self._aparts[key] = _prod(self.s_level[q] if not expand[q] else self.xy[q, 1 - "xy".index(expand[q])]
                                      for q in range(c) if expand[q] is not True)
        return self._aparts[key]

    def _fold(self, g: TensorGeometry, c: int, expand: tuple[bool, ...], reuse: bool) -> tuple:
        """The walk (None without reuse), the union box, the folded factors per dim (None: 1)
        and the multiplicity of fanout instances counted apart (None with remainders)."""
        key = (g, c, expand, reuse)
        if key in self._folds:
            return self._folds[key]
        reuse = reuse and c > 0
        w = self.walk(g, c) if reuse else None
        box = {d: 1 if c == self.L else self.cum[c, d] for d in g.relevant}  # the MAC's box: 1
        folded = dict.fromkeys(g.relevant)
        mult = self._apart(c, expand) if self.clip is None else None
        windows = {d for d, _, _ in g.sliding} if g.operand else set()  # an operand's window dims
        for q in range(c):
            if not expand[q]:
                continue
            inside = None if w is None else q >= w.lstar  # only a fanout inside the innermost relevant loop folds
            for d in g.relevant:
                # a fanout without window_union reads each child's window whole: its window dims never fold
                fold = False if self.apart_windows[q] and d in windows else self._adjacent(d, q, c, expand)
                if inside is not None:
                    fold = inside if fold is True else fold & inside
                s = self.S[q, d] if expand[q] is True else self.SA["xy".index(expand[q])][q, d]
                if expand[q] == "x" and fold is not False:  # the Y axis, inside X and counted apart, spaces X's children
                    fold = (self.SA[1][q, d] == 1) if fold is True else fold & (self.SA[1][q, d] == 1)
                if fold is True:
                    f = s
                else:
                    f = (s - 1) * fold + 1
                    if mult is not None:
                        mult = _mul(mult, s + 1 - f)
                box[d] = _mul(box[d], f)
                folded[d] = f if folded[d] is None else folded[d] * f
        self._folds[key] = out = (w, box, folded, mult)
        return out

    def _fetched(self, g: TensorGeometry, c: int, expand: tuple[bool, ...], reuse: bool) -> np.ndarray:
        w, box, folded, mult = self._fold(g, c, expand, reuse)
        ext, tile = self.tile(g, c) if c < self.L and all(f is None for f in folded.values()) else g.tile(box)
        if w is None:
            return self.above[c] * _mul(tile, mult)
        delta = tile
        per_axis = {}
        for is_d1, a, shift in w.sliding:
            if a not in per_axis:
                k = _prod(folded[d] for d, _ in g.axes[a] if folded[d] is not None)  # folded instances along the axis
                own = self.tile(g, c)[0][a]  # one instance's extent
                rest = _prod(e for j, e in enumerate(ext) if j != a)  # the other axes' extents
                per_axis[a] = k, own, rest
            k, own, rest = per_axis[a]
            # each instance fetches at most min(extent, shift) new positions of its own window
            new = np.minimum(ext[a], _mul(k, g.stepped(a, self.cum[c], own, shift)))
            delta = _select(is_d1, _mul(rest, new), delta)
        per_instance = _select(w.lstar >= 0, w.outer * (tile + (w.b1 - 1) * delta), tile)
        return _mul(per_instance, mult)

    def _adjacent(self, d: int, q: int, c: int, expand: tuple[bool, ...]) -> np.ndarray | bool:
        """Do the children of level q's fanout hold adjacent ranges of dim d? Not when a loop over
        d between the fanout and the consumer (temporal, or a fanout counted apart) spaces them."""
        key = (d, q, c, expand[q + 1:c])
        if key not in self._gaps:
            gap = 1
            for l in range(q + 1, c):
                gap = gap * self.T[l, d]
                if not expand[l]:
                    gap = gap * self.S[l, d]
                elif expand[l] is not True:  # folded on one axis: the other's instances space the children
                    gap = gap * self.SA[1 - "xy".index(expand[l])][l, d]
            self._gaps[key] = True if isinstance(gap, int) else gap == 1
        return self._gaps[key]


def count_block(problem: Problem, arch: Architecture, batch: MappingBatch) -> tuple[np.ndarray, ...]:
    """Counts of one block of mappings, batch-innermost, in the block's integer type: words
    (5, L, 3, B) read, filled, updated, crossing the fanout below each level, and tile sizes;
    active instances (L, B) and MAC steps (B,). Also what the validity check needs: the kept
    tensors (L, 3, B) and the product of the spatial factors on each fanout axis (L, 2, B).
    Then the rows (kind, level, tensor) of ``words`` that may be nonzero; the outputs' drain
    reads (L, B) inside ``words``' reads (None without a ``drain_reads`` level); last, whether the
    block has remainder tiles (counted by clipped.py)."""
    nest = _Nest(problem, arch, batch)
    L = nest.L
    keep = np.ascontiguousarray(batch.keep.transpose(1, 2, 0))  # (L, 3, B)
    words = np.zeros((5, L, 3, nest.B), nest.dt)  # one term per element (two: a drain level's output reads, MARGIN)
    rows = {(TILES, l, ti) for l in range(L) for ti in range(len(ROLES))}
    drain = np.zeros((L, nest.B), nest.dt) if any(lv.drain_reads for lv in arch.levels) else None
    none = (False,) * L
    # every fanout between parent p and child c folded: the distinct elements under one parent instance
    between = [[tuple(p <= q < c and arch.levels[q].fanout is not None for q in range(L)) for c in range(L + 1)]
               for p in range(L)]
    for ti, role in enumerate(ROLES):
        g = TensorGeometry.of(problem.tensor(role), nest.dims, arch.strided_windows == "positions")
        share = nest.share[role]
        for l in range(L):
            words[TILES, l, ti] = nest.tile(g, l)[1]
        for p in range(L):
            for c in range(p + 1, L + 1):
                on = keep[p, ti].copy()
                for q in range(p + 1, min(c, L)):
                    on &= ~keep[q, ti]
                if c < L:
                    on &= keep[c, ti]
                else:
                    for q in range(p + 1, L):
                        on &= ~keep[q, ti]
                n = np.count_nonzero(on)
                if n == 0:
                    continue
                expand = tuple(share[q] if p <= q < c else False for q in range(L))
                is_mac = c == L
                shared = nest.fetched(g, c, expand, reuse=not is_mac)
                own = nest.fetched(g, c, none, reuse=not is_mac)
                mask = None if n == nest.B else on.astype(nest.dt)

                def add(kind: int, level: int, value: np.ndarray, ti: int = ti, mask: np.ndarray | None = mask) -> None:
                    words[kind, level, ti] += value if mask is None else value * mask
                    rows.add((kind, level, ti))

                if ti == OUT and is_mac:  # read-modify-write by the MACs
                    add(UPDATES, p, shared)
                    add(READS, p, shared - nest.first(g, p, none, reuse=True))
                    crossing = own
                elif ti == OUT:  # child tile versions written back; later versions read back first
                    refills = own - nest.first(g, c, none, reuse=True)
                    add(UPDATES, p, shared)
                    # every write-back but the first of each element at the parent instance is
                    # accumulated (a read): the distinct elements over all children, reducing or not
                    add(READS, p, shared - nest.first(g, c, between[p][c], reuse=True))
                    add(FILLS, c, refills)
                    if arch.levels[c].drain_reads and not (p == 0 and role in arch.resident):
                        add(READS, c, own)  # the child reads what it drains
                        drain[c] += own if mask is None else own * mask
                    crossing = own + refills
                else:
                    add(READS, p, shared)
                    if not is_mac:
                        add(FILLS, c, own)
                    crossing = own
                for q in range(p, c):
                    if arch.levels[q].fanout is not None:
                        add(NETWORK, q, crossing)
        for cache in (nest._counts, nest._folds, nest._walks, nest._levels, nest._tiles):  # this tensor's: free them
            cache.clear()
    active = np.ones((L, nest.B), nest.dt)
    for l in range(1, L):
        if nest.clip is None:
            np.multiply(active[l - 1], nest.s_level[l - 1], out=active[l])
        else:
            active[l] = nest.clip.active(l)
    steps = nest.above[L] if nest.clip is None else nest.clip.steps()
    return words, active, steps, keep, nest.xy, sorted(rows), drain, nest.clip is not None
