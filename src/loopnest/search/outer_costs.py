"""The outermost traffic of every outer choice, per tensor, shared by the bypass choices.

``TilingEvaluator.outer_costs`` prices each outer choice of a bypass choice under every
outermost order class: the level-0 <-> level-1 traffic of the tensors level 1 keeps (a model
call), their level-0 reads, and ``bounds.bypass_floor`` of the tensors bypassing level 1. Dense,
each tensor's share depends on whether level 1 keeps it, not on the other tensors' bypass choice
(the model counts each tensor's transfers from its own keepers; the outputs' partial-sum width at
level 0 from their own level-0 reads). So ``OuterCosts`` computes, once per outer choice and class,
every tensor's share kept (one model call with level 1 keeping all) and bypassed, and each bypass
choice adds the shares of its tensors in the order the unshared sum used: the same floats.

What the shares still depend on is the key (``share_key``): which tensors some level below the
outermost keeps (the outermost order classes); with sparsity the whole bypass choice (the sparse
counts may couple tensors: nothing is shared). The keeps below level 1 do not enter: a tensor
level 1 keeps moves between levels 0 and 1 alike whatever keeps it deeper.
"""

from __future__ import annotations

import numpy as np

from loopnest.mapping.mapping import MappingBatch
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate_batch
from loopnest.model.precision import prices
from loopnest.model.sparse import plan as sparse_plan
from loopnest.search.arrays import segments, unique_rows
from loopnest.search.bounds import bypass_floor, bypass_read_words, bypassing
from loopnest.workload.problem import ROLES

OUT = ROLES.index("outputs")
OUTER_ROWS = 1 << 15  # (outer choice, order class) rows per model call: ~100 MB of arrays


def share_key(space: Mapspace, keep: np.ndarray) -> bytes:
    """What ``OuterCosts`` depends on in a bypass choice ``keep`` (L, 3): bypass choices with
    one key share one (with sparsity, none is shared)."""
    if sparse_plan(space.problem, space.arch) is not None:
        return b"sparse" + keep.tobytes()
    return keep[1:].any(axis=0).tobytes()


class OuterCosts:
    """Per (outer choice, outermost order class) row, each tensor's level-0 <-> level-1 energy
    and level-0 read words as if level 1 kept it (``energy``, ``reads`` (R, 3)), and its
    ``bypass_floor`` as if it bypassed level 1 (``bypass``: per tensor (R,), made when first
    needed). Outer choices are added as bypass choices ask for them (``costs``); ``keep`` is one
    bypass choice of the key. ``out``: the ``LayerSearch`` counting the rows priced."""

    def __init__(self, space: Mapspace, projs: list[np.ndarray], keep: np.ndarray, out):
        self.space, self.projs, self.out = space, projs, out
        self.keep = keep  # its outermost order classes (``share_key``: alike across the key)
        self.model_keep = keep.copy()  # dense, every tensor's share as if level 1 kept it
        if space.L > 1 and sparse_plan(space.problem, space.arch) is None:
            self.model_keep[1] = True
        self.n0 = sum(1 for l, _ in space.slots if l == 0)
        self.radix = tuple(len(p) for p in projs)
        self.sets: dict = {}  # active pattern of the outermost loops -> its order classes
        D = space.D
        # per outer choice, in the order added: its id, outermost loops, level-1 tile, first row, classes
        self.ids = np.zeros(0, np.int64)
        self.outer0, self.box1 = np.zeros((0, D), np.int64), np.zeros((0, D), np.int64)
        self.first, self.count = np.zeros(0, np.int64), np.zeros(0, np.int64)
        self.sorted = np.zeros(0, np.int64)  # positions of ``ids`` in ascending id order
        self.owner, self.classes = np.zeros(0, np.int64), np.zeros((0, D), np.int64)  # per row: its outer choice, class
        self.energy, self.reads = np.zeros((0, 3)), np.zeros((0, 3))
        self.bypass: dict = {}  # tensor -> (R,)

    def costs(self, outer: np.ndarray, keep: np.ndarray):
        """``TilingEvaluator.outer_costs`` of outer choices ``outer`` (K, D) of bypass choice ``keep``."""
        space = self.space
        ids = np.ravel_multi_index(tuple(outer.T), self.radix)
        self._add(ids)
        at = self.sorted[np.searchsorted(self.ids[self.sorted], ids)]
        first, count = self.first[at], self.count[at]
        rep, c = segments(count)  # one row per (outer choice, class)
        rows = first[rep] + c
        start = np.cumsum(count) - count  # each outer choice's first row
        kept1 = keep[1] if space.L > 1 else np.zeros(3, bool)
        e, r = np.zeros(len(rows)), np.zeros((len(rows), len(ROLES)))
        for t in np.flatnonzero(kept1):  # in tensor order, as the unshared sum
            e += self.energy[rows, t]
            r[:, t] = self.reads[rows, t]
        floor = e.copy()
        by = bypassing(space, keep)
        if by:
            extra = np.zeros(len(rows))
            for t in by:
                extra += self._bypass(t)[rows]
            floor += extra
        best = np.lexsort((e, rep))[start]  # per outer choice its least-energy row (first class on ties)
        r += bypass_read_words(space, keep)  # the level-0 reads of the operands bypassing level 1
        words = r[:, 0] + r[:, 1] + r[:, 2]  # summed in the model's order: no rounding puts the floor above it
        return e[best], self.classes[rows[best]], np.minimum.reduceat(words, start), np.minimum.reduceat(floor, start)

    def _add(self, ids: np.ndarray) -> None:
        """Price the outer choices among ``ids`` not priced yet."""
        known = self.ids[self.sorted]
        new = np.unique(ids)
        if len(known):
            pos = np.minimum(np.searchsorted(known, new), len(known) - 1)
            new = new[known[pos] != new]
        if len(new) == 0:
            return
        space, L, D = self.space, self.space.L, self.space.D
        idx = np.stack(np.unravel_index(new, self.radix), axis=1)
        f0 = np.stack([self.projs[d][idx[:, d]] for d in range(D)], axis=2)  # (K, n0, D)
        outer0, box1 = f0[:, 0], space.sizes // f0.prod(axis=1)
        patterns, pattern = unique_rows(outer0 > 1)  # the outermost loops' active patterns
        sets = []
        for a in map(tuple, patterns.tolist()):
            if a not in self.sets:
                self.sets[a] = space.order_classes(0, a, self.keep)
            sets.append(self.sets[a])
        n_sets = np.array([len(c) for c in sets], np.int64)
        count = n_sets[pattern]
        rep, c = segments(count)  # one row per (outer choice, class)
        first = len(self.classes) + np.cumsum(count) - count
        classes = np.concatenate(sets)[(np.cumsum(n_sets) - n_sets)[pattern[rep]] + c]
        energy, reads = np.zeros((len(rep), 3)), np.zeros((len(rep), 3))
        if L > 1:
            temporal = np.ones((len(new), L, D), np.int64)
            spatial = np.ones((len(new), L, 2, D), np.int64)
            temporal[:, 0], temporal[:, 1] = outer0, box1
            if self.n0 > 1:
                spatial[:, 0, 0], spatial[:, 0, 1] = f0[:, 1], f0[:, 2]
            price = prices(space.problem, space.arch)
            write_pj = price.storage[1, :, 1]  # pJ per value written at level 1
            read_words = price.words[0].copy()  # words per value read at level 0 (bandwidth); psums may be narrower
            read_words[OUT] = min(read_words[OUT], price.psum_words[0])
            self.out.evaluated += len(rep)
            for a in range(0, len(rep), OUTER_ROWS):  # bounded memory: the model's arrays for one block at a time
                part, at = slice(a, a + OUTER_ROWS), rep[a:a + OUTER_ROWS]
                perm = np.tile(np.arange(D), (len(at), L, 1))
                perm[:, 0] = classes[part]
                keep = np.broadcast_to(self.model_keep, (len(at),) + self.keep.shape).copy()
                cost = evaluate_batch(space.problem, space.arch, MappingBatch(temporal[at], perm, spatial[at], keep))
                for t in range(len(ROLES)):
                    fills = cost.counts.fills[:, 1, t] if cost.sparse is None else cost.sparse.actual[:, 1, t, 1]
                    energy[part, t] = cost.storage_energy_pj[:, 0, t] + cost.network_energy_pj[:, 0, t] + fills * write_pj[t]
                    level0 = cost.counts.reads[:, 0, t] if cost.sparse is None else cost.sparse.actual[:, 0, t, 0]
                    reads[part, t] = level0 * read_words[t]
        n = len(self.ids)
        self.ids = np.concatenate([self.ids, new])
        self.outer0, self.box1 = np.concatenate([self.outer0, outer0]), np.concatenate([self.box1, box1])
        self.first, self.count = np.concatenate([self.first, first]), np.concatenate([self.count, count])
        self.sorted = np.argsort(self.ids, kind="stable")
        self.owner, self.classes = np.concatenate([self.owner, n + rep]), np.concatenate([self.classes, classes])
        self.energy, self.reads = np.concatenate([self.energy, energy]), np.concatenate([self.reads, reads])
        for t, b in self.bypass.items():  # the tensors' bypass floors priced so far: extended to the new rows
            self.bypass[t] = np.concatenate([b, self._bypass_rows(t, slice(len(b), None))])

    def _bypass(self, t: int) -> np.ndarray:
        """(R,) tensor ``t``'s ``bypass_floor`` per row."""
        if t not in self.bypass:
            self.bypass[t] = self._bypass_rows(t, slice(None))
        return self.bypass[t]

    def _bypass_rows(self, t: int, rows: slice) -> np.ndarray:
        """Tensor ``t``'s ``bypass_floor`` on ``rows``."""
        own = self.owner[rows]
        return bypass_floor(self.space, t, self.outer0[own], self.box1[own], self.classes[rows])
