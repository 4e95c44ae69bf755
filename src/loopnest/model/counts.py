"""Vectorized access counting: per level, per tensor, the words read, filled and updated,
for a batch of mappings of one layer. Every array has the batch as its first axis.

Counting rules (Timeloop-compatible; docs/model.md derives them):
- A level's tile spans its own temporal loops and every loop inside them (so it includes the
  spatial fanouts below it). Tile sizes follow the halo rule of ``Problem``.
- Fills of a keeper level, per instance: walking the temporal loops above it from the inside out,
  loops over dimensions irrelevant to the tensor that lie inside the innermost relevant loop reuse
  the tile; the innermost relevant loop fetches only the new part of a sliding window (delta);
  everything outside it refetches. Loops of bound 1 are not loops. Summed over instances.
- A consumer reads its operand from the next keeper above it. The parent's reads are the
  consumer's fills with the spatial fanouts in between folded into one union tile where the
  fanout multicasts (or, for outputs, reduces), and multiplied out where it does not.
- The MAC reads operands from the innermost keeper on every temporal step (it has no storage).
- Outputs: the innermost keeper takes one update per MAC (after spatial reduction); each update
  but the first write of an element is preceded by a read. A child's output tile is written
  back (an update at the parent) once per version; versions after the first are first read back
  from the parent (a psum refill).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.mapping import MappingBatch
from loopnest.workload.problem import ROLES, Problem, Tensor

IN, W, OUT = range(3)


@dataclass(frozen=True)
class TensorGeometry:
    """Coefficient matrix of a tensor's affine indices: coef[a, d] for axis a and dimension d."""

    coef: np.ndarray  # (A, D) int64
    relevant: np.ndarray  # (D,) bool
    delta_axis: np.ndarray  # (D,) int64: the single axis holding dim d, or -1 (no sliding delta)

    @staticmethod
    def of(tensor: Tensor, dims: tuple[str, ...]) -> "TensorGeometry":
        coef = np.array([[idx.get(d, 0) for d in dims] for idx in tensor.indices], np.int64).reshape(-1, len(dims))
        holders = coef > 0
        delta_axis = np.where(holders.sum(0) == 1, holders.argmax(0), -1)
        return TensorGeometry(coef, holders.any(0), delta_axis)

    def extents(self, box: np.ndarray) -> np.ndarray:
        """Touched extent per axis over boxes (B, D) -> (B, A)."""
        return (box - 1) @ self.coef.T + 1

    def tile(self, box: np.ndarray) -> np.ndarray:
        return self.extents(box).prod(axis=1)


@dataclass
class Counts:
    """Word counts of a batch: arrays (B, L, 3) indexed [mapping, level, role (ROLES order)]."""

    reads: np.ndarray
    fills: np.ndarray
    updates: np.ndarray
    network: np.ndarray  # words crossing the fanout below each level
    tiles: np.ndarray  # per-instance tile size at each level
    macs: int
    compute_cycles: np.ndarray  # (B,) product of all temporal factors
    active: np.ndarray  # (B, L) active instances of each level (mapped spatial factors above it)


class _Nest:
    """Per-batch loop-nest quantities shared by every tensor's walk."""

    def __init__(self, problem: Problem, arch: Architecture, batch: MappingBatch):
        self.t = batch.temporal  # (B, L, D)
        self.s = batch.spatial.prod(axis=2)  # (B, L, D): X * Y per dimension
        B, L, D = self.t.shape
        self.L = L
        rank = np.empty_like(batch.perm)
        np.put_along_axis(rank, batch.perm, np.arange(D)[None, None, :].repeat(B, 0).repeat(L, 1), axis=2)
        self.rank = rank  # rank[b, l, d]: position of dim d in level l's order (0 = outermost)
        per_level = self.t * self.s
        cum = np.ones((B, L + 1, D), np.int64)
        for l in range(L - 1, -1, -1):
            cum[:, l] = cum[:, l + 1] * per_level[:, l]
        self.cum = cum  # cum[:, l]: per-instance box of level l (levels >= l); cum[:, L] = 1
        self.full = cum[:, 0]
        self.t_level = self.t.prod(axis=2)  # (B, L)
        self.s_level = self.s.prod(axis=2)  # (B, L)
        self.compute_cycles = self.t_level.prod(axis=1)
        self.multicast = np.array([lv.fanout is not None and lv.fanout.multicast for lv in arch.levels])
        self.reduction = np.array([lv.fanout is not None and lv.fanout.reduction for lv in arch.levels])

    def walk(self, g: TensorGeometry, c: int, expand: np.ndarray, reuse: bool = True) -> np.ndarray:
        """Words delivered to consumer level ``c`` (``L`` = the MAC), summed over its instances.

        ``expand[l]`` folds level l's spatial fanout into a union tile (multicast/reduction);
        other fanouts above ``c`` multiply the count.
        """
        B = self.t.shape[0]
        box = self.cum[:, c].copy()
        mult = np.ones(B, np.int64)
        for l in range(c):
            if expand[l]:
                box *= self.s[:, l]
            else:
                mult *= self.s_level[:, l]
        tile = g.tile(box)
        if not reuse or c == 0:
            return self.t_level[:, :c].prod(axis=1) * tile * mult
        tc = self.t[:, :c]  # (B, c, D)
        rel = (tc > 1) & g.relevant
        has = rel.any(axis=2)  # (B, c)
        any_rel = has.any(axis=1)
        lstar = np.where(any_rel, c - 1 - np.argmax(has[:, ::-1], axis=1), 0)
        rows = np.arange(B)
        rank = self.rank[rows, lstar]  # (B, D)
        rel_star = rel[rows, lstar]
        d1 = np.argmax(np.where(rel_star, rank, -1), axis=1)
        r1 = rank[rows, d1]
        t_star = self.t[rows, lstar]
        outer_in_level = np.where(rank < r1[:, None], t_star, 1).prod(axis=1)
        above = np.cumprod(np.concatenate([np.ones((B, 1), np.int64), self.t_level[:, :c]], axis=1), axis=1)
        outer = above[rows, lstar] * outer_in_level
        b1 = t_star[rows, d1]
        axis = g.delta_axis[d1]
        ext = g.extents(box)
        has_delta = axis >= 0
        ax = np.where(has_delta, axis, 0)
        ext_a = ext[rows, ax]
        shift = g.coef[ax, d1] * self.s[rows, lstar, d1] * self.cum[rows, lstar + 1, d1]
        delta = np.where(has_delta, tile // ext_a * np.minimum(ext_a, shift), tile)
        per_inst = np.where(any_rel, outer * (tile + (b1 - 1) * delta), tile)
        return per_inst * mult

    def first(self, g: TensorGeometry, c: int, expand: np.ndarray) -> np.ndarray:
        """Distinct elements first written across the instances of consumer ``c``."""
        mult = np.ones(self.t.shape[0], np.int64)
        for l in range(c):
            if not expand[l]:
                mult *= self.s_level[:, l]
        box = self.full.copy()
        for l in range(c):
            if not expand[l]:
                box //= self.s[:, l]
        return g.tile(box) * mult


def count_accesses(problem: Problem, arch: Architecture, batch: MappingBatch) -> Counts:
    """Reads, fills, updates and network words per level and tensor for every mapping of the batch."""
    nest = _Nest(problem, arch, batch)
    B, L = batch.temporal.shape[:2]
    keep = batch.keep
    reads = np.zeros((B, L, 3), np.int64)
    fills = np.zeros_like(reads)
    updates = np.zeros_like(reads)
    network = np.zeros_like(reads)
    tiles = np.zeros_like(reads)
    dims = problem.dim_names
    none = np.zeros(L, bool)
    for ti, role in enumerate(ROLES):
        g = TensorGeometry.of(problem.tensor(role), dims)
        is_out = ti == OUT
        share = nest.reduction if is_out else nest.multicast
        for l in range(L):
            tiles[:, l, ti] = g.tile(nest.cum[:, l])
        for p in range(L):
            for c in range(p + 1, L + 1):
                between = keep[:, p + 1:c, ti].any(axis=1)
                below = keep[:, c, ti] if c < L else ~keep[:, p + 1:, ti].any(axis=1)
                on = keep[:, p, ti] & below & ~between
                if not on.any():
                    continue
                expand = none.copy()
                expand[p:c] = share[p:c]
                is_mac = c == L
                shared = nest.walk(g, c, expand, reuse=not is_mac)
                own = nest.walk(g, c, none, reuse=not is_mac)
                if is_out and is_mac:
                    # read-modify-write by the MACs: every update but an element's first write reads
                    updates[:, p, ti] += np.where(on, shared, 0)
                    reads[:, p, ti] += np.where(on, shared - nest.first(g, p, none), 0)
                    network[:, p:c, ti] += np.where(on, own, 0)[:, None]
                elif is_out:
                    # writebacks of each child tile version; versions after the first are read back
                    refills = own - nest.first(g, c, none)
                    updates[:, p, ti] += np.where(on, shared, 0)
                    reads[:, p, ti] += np.where(on, shared - nest.first(g, c, expand), 0)
                    fills[:, c, ti] += np.where(on, refills, 0)
                    network[:, p:c, ti] += np.where(on, own + refills, 0)[:, None]
                else:
                    reads[:, p, ti] += np.where(on, shared, 0)
                    if not is_mac:
                        fills[:, c, ti] += np.where(on, own, 0)
                    network[:, p:c, ti] += np.where(on, own, 0)[:, None]
    active = np.cumprod(np.concatenate([np.ones((B, 1), np.int64), nest.s_level[:, :-1]], axis=1), axis=1)
    no_fanout = np.array([lv.fanout is None for lv in arch.levels])
    network[:, no_fanout, :] = 0
    return Counts(reads, fills, updates, network, tiles, problem.macs, nest.compute_cycles, active)
