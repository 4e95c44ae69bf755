"""Evaluating tilings: each one costed with its loop-order classes, and the best mapping kept.

The branch and bound of ``mapper.py`` decides which tilings (factors per slot, a bypass choice,
the outermost order) can still win; this module costs them, and only it touches the best found.
It is apart because it does not depend on how the tilings were chosen: the exact search, the
heuristic's samples and its coordinate descent (``refine``) all hand their tilings to ``inner``;
``outer_costs`` prices the outermost traffic of every outer choice the same way for both
(``outer_costs.OuterCosts``, shared by the bypass choices).

*Orders.* A tiling is evaluated by the cost model with every loop-order class
(``Mapspace.order_classes``). For the energy objective, the energy is a sum of terms each
depending on one level's order, so each level's best class is found with the others held (sum of
classes, not product); the choice is re-evaluated and checked against the prediction
(docs/mapper.md). Other objectives evaluate every combination of classes.
"""

from __future__ import annotations

import time

import numpy as np

from loopnest.mapping.mapping import MappingBatch
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate_batch
from loopnest.search.arrays import ascending, segments, unique_rows
from loopnest.search.objective import Objective, better
from loopnest.search.outer_costs import OuterCosts, share_key


class OutOfTime(Exception):
    """The layer timeout passed (raised between batches, so the best found so far is consistent)."""


class TilingEvaluator:
    """Costs tilings of ``space`` for ``obj`` and keeps the best (``best_keys``, ``best_row``,
    ``best_tiling``); counts the mappings costed in ``out.evaluated`` (a ``LayerSearch``)."""

    def __init__(self, space: Mapspace, obj: Objective, out, deadline: float | None = None):
        self.space, self.obj, self.out, self.deadline = space, obj, out, deadline
        self.best_keys: np.ndarray | None = None
        self.best_row: MappingBatch | None = None
        self.best_tiling: tuple | None = None  # (factors (S, D), keep (L, 3), outer order (D,))
        self.rejected: MappingBatch | None = None  # while nothing is valid: a mapping the model rejected (why_empty)
        self.outer_tables: dict = {}  # share_key -> OuterCosts

    # ----- inner enumeration ------------------------------------------------------------
    def inner(self, f: np.ndarray, keep: np.ndarray, o0: np.ndarray) -> None:
        """Evaluate tilings given as factors ``f`` (K, S, D) with their loop-order classes, in
        one model call; ``o0`` (K, D) holds each tiling's best outermost order for the outermost
        traffic. For the energy objective each tiling is evaluated with a base order (``o0``
        outermost, each other level's first class) and, per level, each other class with the
        rest held (the energy adds over levels: sum of classes, not product); other objectives
        evaluate every combination."""
        K = len(f)
        base = self.space.assemble(f, np.zeros((K, self.space.L, self.space.D), np.int64), keep)
        tables = self._class_tables(base.temporal > 1, keep)
        if self.obj.energy_only:
            rep, perm, level = self._separable(tables, o0)
        else:
            rep, perm = self._product(tables, np.arange(K))
        batch = MappingBatch(base.temporal[rep], perm, base.spatial[rep], base.keep[rep])
        costs = self._evaluate(batch)
        self._tiling = (f, rep, keep, o0)  # to trace the best back to its tiling (heuristic refinement)
        if self.obj.energy_only:
            self._pick_separable(batch, costs, tables, level)
        else:
            self._offer(batch, costs)

    def _class_tables(self, active: np.ndarray, keep: np.ndarray) -> list[tuple]:
        """Per level, the loop-order classes of each tiling: (class-set id per tiling (K,),
        representatives (P, n_max, D), class counts (P,)). A level with no keeper below it has
        one class (its order cannot matter)."""
        space, K = self.space, len(active)
        tables = []
        for l in range(space.L):
            if not keep[l + 1:].any():
                tables.append((np.zeros(K, np.int64), np.arange(space.D)[None, None], np.ones(1, np.int64)))
                continue
            uniq, ids = unique_rows(active[:, l])
            sets = [space.order_classes(l, tuple(a.tolist()), keep) for a in uniq]
            counts = np.array([len(c) for c in sets], np.int64)
            reps = np.zeros((len(sets), counts.max(), space.D), np.int64)
            for p, c in enumerate(sets):
                reps[p, :len(c)] = c
            tables.append((ids.ravel(), reps, counts))
        return tables

    def _separable(self, tables: list[tuple], o0: np.ndarray):
        """Rows of the energy objective's order variants: each tiling's base row (rows 0..K-1),
        then per level each class other than the base's with the rest held. Returns the rows'
        tilings, their orders (B, L, D) and the level each variant row varies (-1: base rows)."""
        K = len(o0)
        base = np.stack([reps[ids, 0] for ids, reps, _ in tables], axis=1)
        base[:, 0] = o0
        rows, levels, perms = [np.arange(K)], [np.full(K, -1)], [base]
        for l, (ids, reps, counts) in enumerate(tables):
            first = 0 if l == 0 else 1  # level 0's base is o0: every class is a variant unless it is o0
            t, c = segments(counts[ids] - first)
            c += first
            if l == 0:
                ok = ~(reps[ids[t], c] == o0[t]).all(axis=1)
                t, c = t[ok], c[ok]
            perm = base[t]
            perm[:, l] = reps[ids[t], c]
            rows.append(t)
            levels.append(np.full(len(t), l))
            perms.append(perm)
        return np.concatenate(rows), np.concatenate(perms), np.concatenate(levels)

    def _product(self, tables: list[tuple], tilings: np.ndarray):
        """Rows of every class combination of the given tilings: their tilings and orders (B, L, D)."""
        rep, picks = tilings, []
        for ids, _, counts in tables:
            at, c = segments(counts[ids[rep]])
            rep, picks = rep[at], [p[at] for p in picks] + [c]
        perm = np.stack([reps[ids[rep], c] for (ids, reps, _), c in zip(tables, picks)], axis=1)
        return rep, perm

    def _evaluate(self, batch: MappingBatch):
        self.out.evaluated += len(batch)
        costs = evaluate_batch(self.space.problem, self.space.arch, batch)
        if self.rejected is None and self.best_row is None and len(batch) and not costs.valid.any():
            self.rejected = batch[0:1]
        return costs

    def _offer(self, batch: MappingBatch, costs, at: np.ndarray | None = None) -> None:
        """Offer the valid rows of an evaluated batch as candidates for the best; ``at`` maps
        the batch rows to rows of the batch ``inner`` built (default: the same rows)."""
        valid = np.flatnonzero(costs.valid)
        if len(valid) == 0:
            return
        keys = self.obj.values(costs.energy_pj[valid], costs.cycles[valid])
        order = ascending(keys)
        b = order[0]
        if better(keys[b], self.best_keys):
            self.best_keys = keys[b]
            self.best_row = batch[valid[b]:valid[b] + 1]
            f, rep, keep, o0 = self._tiling
            row = rep[valid[b] if at is None else at[valid[b]]]
            self.best_tiling = (f[row], keep, o0[row])

    def _pick_separable(self, batch: MappingBatch, costs, tables: list[tuple], level: np.ndarray) -> None:
        """Energy objective: per tiling, each level's best class with the others held (the
        energy adds over levels), combined; the best tiling's combination is re-evaluated and
        checked against the prediction."""
        K, L = len(tables[0][0]), len(tables)
        energy = costs.energy_pj
        valid = costs.valid[:K]  # validity does not depend on the orders
        if not valid.any():
            return
        var = np.arange(K, len(energy))  # the variant rows
        tiling = self._tiling[1][var]
        gain = energy[var] - energy[tiling]
        slot = tiling * L + level[var]
        best_gain = np.zeros(K * L)
        np.minimum.at(best_gain, slot, gain)
        predicted = energy[:K] + best_gain.reshape(K, L).sum(axis=1)
        k = np.flatnonzero(valid)[np.argmin(predicted[valid])]
        perm = batch.perm[k].copy()
        mine = np.flatnonzero((tiling == k) & (gain < 0))
        for l in range(L):
            at = mine[level[var[mine]] == l]
            if len(at):
                perm[l] = batch.perm[var[at[np.argmin(gain[at])]], l]
        chosen = MappingBatch(batch.temporal[k:k + 1], perm[None], batch.spatial[k:k + 1], batch.keep[k:k + 1])
        check = self._evaluate(chosen)
        if np.isclose(check.energy_pj[0], predicted[k], rtol=1e-9, atol=1e-6):
            self._offer(chosen, check, np.array([k]))
            return
        # cannot happen under the model's rules (docs/mapper.md); stay exact if it ever does
        self.out.notes.append(f"order separability check failed ({check.energy_pj[0]:.6g} vs {predicted[k]:.6g}): "
                              "every order combination evaluated")
        rep, perm = self._product(tables, np.arange(K))
        full = MappingBatch(batch.temporal[rep], perm, batch.spatial[rep], batch.keep[rep])
        self._offer(full, self._evaluate(full), rep)

    # ----- outer choices ------------------------------------------------------------------
    def outer_costs(self, outer: np.ndarray, projs: list[np.ndarray], keep: np.ndarray):
        """Per outer choice: the least energy of the level-0 <-> level-1 traffic over the outer
        order classes, that class, a floor of every completion's level-0 read words (the least
        level-0 reads of that traffic, plus ``bypass_read_words``: the operands bypassing level
        1, each element once), and the least over the classes of that energy plus ``bypass_floor``.
        Each tensor's share is priced once for the bypass choices that share it (``OuterCosts``)."""
        key = share_key(self.space, keep)
        if key not in self.outer_tables:
            self.outer_tables[key] = OuterCosts(self.space, projs, keep, self.out)
        return self.outer_tables[key].costs(outer, keep)

    # ----- heuristic refinement ----------------------------------------------------------
    def refine(self, sweeps: int) -> None:
        """Coordinate descent from the best mapping found: re-split one dimension at a time
        over every slot (all its options), with every loop-order class, until a sweep brings
        no improvement (at most ``sweeps``)."""
        space = self.space
        for _ in range(sweeps):
            before = self.best_keys
            for d in range(space.D):
                self.clock()
                cur, keep, o0 = self.best_tiling
                cands = np.repeat(cur[None], len(space.options[d]), axis=0)
                cands[:, :, d] = space.options[d]
                cands = cands[space.fits_factors(cands, keep)]
                if len(cands):
                    self.inner(cands, keep, np.repeat(o0[None], len(cands), axis=0))
            if before is self.best_keys:
                return

    def clock(self) -> None:
        """Stop at the deadline, but only once a mapping is found: a timeout reports the best so far, not nothing."""
        if self.deadline is not None and self.best_row is not None and time.perf_counter() > self.deadline:
            raise OutOfTime

