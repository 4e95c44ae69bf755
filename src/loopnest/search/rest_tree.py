"""Level-by-level branch and bound over the rest choices (every slot below level 1's temporal
loops: the level-1 fanout and the inner levels), for the streamed exact search (docs/mapper.md).

The rests are built one level group at a time instead of as one product: first each level's
fanout factors, top down, then each level's temporal factors, bottom up (so each capacity is
checked on its whole tile as soon as the level is fixed). A partial choice, its unfixed
factors taken as 1, is dropped with every completion when

- a fixed fanout overflows, or a capacity overflows with the unfixed factors at 1 (a tile only
  grows with its factors: no completion fits), or
- ``can_win`` says no completion can beat the best cost found: the least base of the outer
  choices plus ``partial_floor``, which is below the rest's floor (``rest_floor``) of every
  completion (tests: ``test_rest_tree``), with the cycles floored by the most MAC units any
  completion uses (``instances``; the cycles and EDP objectives). This is asked per bypass
  choice sharing the tree, and only of those still alive at the parent: one dropped at a
  partial choice is neither floored again nor priced in full below it.

Complete choices are then priced in full (``rest_floor``) for the bypass choices they are alive
for, as the one-product enumeration priced them for all; only those whose floor can win are
kept, and a partial floor is below the full one, so both keep the same rests.
"""

from __future__ import annotations

import numpy as np

from loopnest.mapping.mapspace import CHUNK, TEMPORAL, Mapspace
from loopnest.search.arrays import segments, unique_rows
from loopnest.search.bounds import fill_floor, mac_transfer_floor, refetch_floor, rest_instances, sibling_keepers
from loopnest.search.rest_bounds import RestFloor, deep_floor, deep_transfers


class RestTree:
    """The rest choices of ``space`` as a tree of level groups (module docstring). Per
    dimension and depth: each node's factors over the rest slots (1 where not yet fixed) and
    the range of its children one depth down; nodes sorted so that children are contiguous."""

    def __init__(self, space: Mapspace):
        self.space = space
        self.slots = space.slots[space.rest_start:]
        levels = sorted({l for l, _ in self.slots})
        spatial = [[s for s, (l, a) in enumerate(self.slots) if l == lv and a != TEMPORAL] for lv in levels]
        temporal = [[s for s, (l, a) in enumerate(self.slots) if l == lv and a == TEMPORAL] for lv in reversed(levels)]
        self.groups = [g for g in spatial + temporal if g]
        self.fanouts = [lv for lv, g in zip(levels, spatial) if g]  # levels whose fanout group is depth i
        order = [s for g in self.groups for s in g]
        ends = np.cumsum([len(g) for g in self.groups])
        self.fac, self.cstart, self.ccount = [], [], []  # per dimension, per depth
        for proj in space._rest_projections():
            rows = np.unique(proj[:, order], axis=0)  # lexicographic in the enumeration's slot order
            fac, cstart, ccount = [], [], []
            parent_of_row, n_parent = np.zeros(len(rows), np.int64), 1
            for e in ends:
                nodes, inverse = unique_rows(rows[:, :e])
                parent = np.empty(len(nodes), np.int64)
                parent[inverse] = parent_of_row  # nondecreasing: prefixes sort with their rows
                first = np.searchsorted(parent, np.arange(n_parent))
                cstart.append(first)
                ccount.append(np.searchsorted(parent, np.arange(n_parent), side="right") - first)
                f = np.ones((len(nodes), len(self.slots)), np.int64)
                f[:, order[:e]] = nodes
                fac.append(f)
                parent_of_row, n_parent = inverse, len(nodes)
            self.fac.append(fac)
            self.cstart.append(cstart)
            self.ccount.append(ccount)

    def factors(self, ids: np.ndarray, depth: int, upto: int) -> np.ndarray:
        """Factors (K, S_rest, D) of partial choices ``ids`` (K, D): dimensions up to ``upto``
        at ``depth``, the others one depth up (-1: nothing fixed)."""
        cols = []
        for d in range(self.space.D):
            at = depth if d <= upto else depth - 1
            cols.append(self.fac[d][at][ids[:, d]] if at >= 0 else np.ones((len(ids), len(self.slots)), np.int64))
        return np.stack(cols, axis=2)

    def chunks(self, keep: np.ndarray, can_win, stats: dict | None = None, chunk: int = CHUNK, width: int = 1):
        """The complete choices that fit and that ``can_win`` keeps at every depth, about ``chunk``
        at a time, each with which of ``width`` bypass choices it is alive for ((K, width) bool),
        built depth first: one pending block of at most ``chunk`` rows per step is held.
        ``can_win(factors, depth, alive)`` takes partial choices fixed through group ``depth`` and
        the bypass choices each is alive for, and returns those it stays alive for (a subset: a
        bypass choice dropped at a partial choice is dropped for its every completion, so its
        floors are not priced again below it); a choice alive for none is dropped."""
        D, G = self.space.D, len(self.groups)
        stack, out, n = [(np.zeros((1, D), np.int64), np.ones((1, width), bool), 0, 0)], [], 0
        while stack:
            ids, alive, depth, d = stack.pop()
            if len(ids) == 0:
                continue
            if depth == G:
                f = self.factors(ids, G - 1, D)
                usable = self.space._usage_ok(f, self.slots)  # min_usage: on complete choices only
                f, alive = f[usable], alive[usable]
                if len(f) == 0:
                    continue  # no chunk is empty (a rest floor of none cannot be priced)
                out.append((self.space._narrow(f), alive))
                n += len(f)
                if n >= chunk:
                    yield np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])
                    out, n = [], 0
                continue
            parent = ids[:, d] if depth > 0 else np.zeros(len(ids), np.int64)
            counts = self.ccount[d][depth][parent]
            step = max(1, chunk // max(1, int(counts.max())))
            if len(ids) > step:
                stack.append((ids[step:], alive[step:], depth, d))  # the rest of this block, after the first part's subtree
                ids, alive, parent, counts = ids[:step], alive[:step], parent[:step], counts[:step]
            row, c = segments(counts)
            grown, alive = ids[row], alive[row]
            grown[:, d] = self.cstart[d][depth][parent][row] + c
            f = None
            if self.space.sizes[d] == 1 and (depth, d) != (0, 0):  # factors all 1: the parent's, tested
                ok = np.ones(len(grown), bool)
            else:
                f = self.factors(grown, depth, d)
                ok = self.space._fits(f, self.slots, keep, stats, partial=True)
            grown, alive = grown[ok], alive[ok]
            if d == D - 1:  # the group is fixed in every dimension: its floors
                alive = can_win(self.factors(grown, depth, d) if f is None else f[ok], depth, alive)
                ok = alive.any(axis=1)
                stack.append((grown[ok], alive[ok], depth + 1, 0))
            else:
                stack.append((grown, alive, depth, d + 1))
        if out:
            yield np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])

    def partial_floor(self, keep: np.ndarray, f: np.ndarray, depth: int) -> np.ndarray:
        """(K,) pJ below ``rest_floor`` of every completion of partial choices ``f`` fixed through
        group ``depth``: ``fill_floor`` (the level-1 fanout is group 0, or there is none), the
        MACs' traffic with the fixed fanouts folding by their factors over the dimensions
        irrelevant to each tensor (``mac_transfer_floor``), beyond the unfixed floor, and once
        every fanout is fixed (the temporal groups, fixed bottom up) ``deep_floor`` of the
        partial choice, below that of each completion (its docstring says why)."""
        space = self.space
        folds = {}
        for i, lv in enumerate(self.fanouts[:depth + 1]):
            fan = np.ones((len(f), space.D), np.int64)
            for s, (l, a) in enumerate(self.slots):
                if l == lv and a != TEMPORAL:
                    fan *= f[:, s]
            for t, rel in enumerate(space.relevance):
                folds[(lv, t)] = np.prod(fan[:, ~np.array(rel)], axis=1)
        spatial, _ = space.split_rests(f)
        out = fill_floor(space, keep, spatial) + mac_transfer_floor(space, keep, folds or None) - mac_transfer_floor(space, keep)
        transfers = deep_transfers(keep)
        if transfers and depth >= len(self.fanouts):
            out = out + deep_floor(space, transfers, f)
        return out

    def instances(self, f: np.ndarray, depth: int) -> np.ndarray:
        """(K,) the most MAC units any completion of partial choices ``f`` (fixed through group
        ``depth``) uses: its fixed spatial factors times the size of every fanout not yet fixed."""
        unfixed = self.fanouts[depth + 1:]
        return rest_instances(self.space, f) * float(np.prod([self.space.arch.levels[lv].fanout.size for lv in unfixed]))

    def rest_floor(self, rest_floor: RestFloor, keep: np.ndarray, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Of complete choices ``rest``: their ``RestFloor`` (the credit every pair of theirs
        adds) and the floor they are kept by, that plus ``refetch_floor`` (pJ, each (K,))."""
        credit = rest_floor(keep, rest)
        spatial, box2 = self.space.split_rests(rest)
        deep = {t: deep_floor(self.space, ((t, 1 if keep[1, t] else 0, c),), rest)  # what the credit holds of them
                for t, c in sibling_keepers(self.space, keep).items()}
        return credit, credit + refetch_floor(self.space, keep, spatial.astype(np.int64), box2.astype(np.int64), deep)
