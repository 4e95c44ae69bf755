"""The mapper: the best mapping of one layer in a constrained mapspace, exact or heuristic.

Exact mode is a branch and bound whose every pruning step is sound (docs/mapper.md proves them):

1. *Outer split.* The loops of the outermost level (its temporal factors and fanout) fix the
   tile of level 1. The traffic between level 0 and level 1 depends on nothing else but the
   outermost loop order, so it is computed exactly for every outer choice (``V0``, minimized
   over the outer order classes). Each outer choice gets the lower bound
   ``V0 + E_in``, where ``E_in`` is a floor of every other cost (MAC energy, the operand reads
   of the MACs from their innermost keeper and the network they cross).
2. *Best first, stop at the bound.* Outer choices are visited by increasing bound; the search
   stops when the bound reaches the best cost found: no unvisited choice can do better.
3. *Inner exhaustive enumeration.* Under a visited outer choice, every inner tiling that fits
   the fanouts and capacities (the pruning is exact: tiles only grow as dimensions are added)
   is evaluated by the cost model with every loop-order class (``Mapspace.order_classes``).
   For the energy objective, the energy is a sum of terms each depending on one level's order,
   so each level's best class is found with the others held (sum of classes, not product);
   the choice is re-evaluated by the model and checked against the prediction.

Heuristic mode runs the same steps on the ``top`` best outer choices only and a seeded random
sample of inner tilings: fast, deterministic for a seed, no optimality claim.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints
from loopnest.mapping.mapping import Mapping, MappingBatch
from loopnest.mapping.mapspace import Mapspace, TEMPORAL
from loopnest.model import Result, evaluate_batch
from loopnest.model.result import evaluate
from loopnest.search.objective import Objective, better
from loopnest.workload.problem import ROLES, Problem

EXACT, HEURISTIC = "exact", "heuristic"


@dataclass
class LayerSearch:
    """Outcome of one layer's search: the best mapping and its explained Result, or the reason
    no mapping exists; with the counts that document the search."""

    problem: Problem
    objective: str
    mode: str
    result: Result | None = None
    reason: str | None = None
    evaluated: int = 0  # mappings costed by the model
    outer_total: int = 0  # outer choices (all bypass choices)
    outer_visited: int = 0  # outer choices not pruned by the bound
    inner_tilings: int = 0  # inner tilings enumerated under visited outer choices
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def mapping(self) -> Mapping | None:
        return None if self.result is None else self.result.mapping


def search_layer(problem: Problem, arch: Architecture, constraints: Constraints | None = None,
                 objective: str | Objective = "energy", mode: str = EXACT, seed: int = 0,
                 top: int = 8, sample: int = 4000) -> LayerSearch:
    """Best mapping of ``problem`` on ``arch`` under ``constraints`` for ``objective``."""
    if mode not in (EXACT, HEURISTIC):
        raise ValueError(f"unknown search mode {mode!r}; valid: {EXACT}, {HEURISTIC}")
    obj = objective if isinstance(objective, Objective) else Objective.parse(objective)
    t0 = time.perf_counter()
    space = Mapspace(problem, arch, constraints)
    out = LayerSearch(problem, obj.text, mode)
    state = _Search(space, obj, mode, seed, top, sample, out)
    empty = space.empty_reason()
    if empty is None:
        for keep in space.keep_configs:
            state.run(keep)
    out.seconds = time.perf_counter() - t0
    if state.best_row is None:
        out.reason = empty or state.why_empty()
    else:
        out.result = evaluate(problem, arch, state.best_row.mapping(0, problem))
    return out


class _Search:
    def __init__(self, space: Mapspace, obj: Objective, mode: str, seed: int, top: int, sample: int, out: LayerSearch):
        self.space, self.obj, self.mode, self.out = space, obj, mode, out
        self.seed, self.top, self.sample = seed, top, sample
        self.best_keys: np.ndarray | None = None
        self.best_row: MappingBatch | None = None
        self.stats: dict = {}
        arch, problem = space.arch, space.problem
        self.macs = problem.macs
        self.cycles_floor = -(-self.macs // arch.pes) * arch.compute.cycles_per_mac
        self.write_pj = np.array([[lv.energy_of(r, "write") / lv.block_words for r in ROLES] for lv in arch.levels])

    # ----- bounds -------------------------------------------------------------------------
    def inner_floor(self, keep: np.ndarray) -> float:
        """Energy no mapping with bypass choice ``keep`` can go below, outer traffic aside:
        the MACs, and per operand the MAC reads from its innermost keeper (at most one per
        MAC per multicast instance) plus the network words those reads cross (one per MAC)."""
        arch = self.space.arch
        floor = self.macs * (arch.compute.energy_pj or 0.0)
        for t, role in enumerate(ROLES):
            p = int(np.flatnonzero(keep[:, t])[-1])
            shared = 1
            for q in range(p, len(arch.levels)):
                fan = arch.levels[q].fanout
                if fan is not None:
                    if fan.multicast if role != "outputs" else fan.reduction:
                        shared *= fan.size
                    floor += self.macs * (fan.energy_pj or 0.0)
            action = "update" if role == "outputs" else "read"
            floor += self.macs / shared * arch.levels[p].energy_of(role, action) / arch.levels[p].block_words
        return floor

    # ----- one bypass choice --------------------------------------------------------------
    def run(self, keep: np.ndarray) -> None:
        space = self.space
        outer, projs, members = space.outer(keep, self.stats)
        self.out.outer_total += len(outer)
        if len(outer) == 0:
            return
        v0, o0, reads0 = self.outer_costs(outer, projs, keep)
        floor = self.inner_floor(keep)
        rd_bw = space.arch.levels[0].read_bandwidth
        cyc = np.maximum(self.cycles_floor, reads0 / rd_bw if rd_bw else 0.0)
        bounds = np.stack([self.obj.bound(e + floor, c) for e, c in zip(v0, cyc)])
        order = np.lexsort(tuple(bounds[:, k] for k in range(bounds.shape[1] - 1, -1, -1)))
        if self.mode == HEURISTIC:
            order = order[:self.top]
        for rank, row in enumerate(order):
            if self.best_keys is not None and not better(bounds[row], self.best_keys):
                break  # every remaining outer choice has a bound at least as large
            self.out.outer_visited += 1
            cands = [members[d][outer[row, d]] for d in range(space.D)]
            inner = space.tilings(keep, cands, stats=self.stats)
            if self.mode == HEURISTIC and len(inner) > self.sample:
                rng = np.random.default_rng([self.seed, rank])
                inner = inner[np.sort(rng.choice(len(inner), self.sample, replace=False))]
            self.out.inner_tilings += len(inner)
            if len(inner):
                self.inner(inner, keep, o0[row])

    def outer_costs(self, outer: np.ndarray, projs: list[np.ndarray], keep: np.ndarray):
        """Per outer choice: the least energy of the level-0 <-> level-1 traffic over the outer
        order classes, that class, and the least level-0 reads of that traffic (words)."""
        space = self.space
        n0 = sum(1 for l, _ in space.slots if l == 0)
        f0 = np.stack([projs[d][outer[:, d]] for d in range(space.D)], axis=2)  # (K, n0, D)
        sizes = np.array([space.problem.dims[d] for d in space.dims], np.int64)
        K, L, D = len(outer), space.L, space.D
        temporal = np.ones((K, L, D), np.int64)
        spatial = np.ones((K, L, 2, D), np.int64)
        temporal[:, 0] = f0[:, 0]
        if n0 > 1:
            spatial[:, 0, 0], spatial[:, 0, 1] = f0[:, 1], f0[:, 2]
        if L > 1:
            temporal[:, 1] = sizes // f0.prod(axis=1)
        v0 = np.zeros(K)
        reads0 = np.zeros(K)
        o0 = np.zeros((K, D), np.int64)
        kept1 = keep[1] if L > 1 else np.zeros(3, bool)
        for active, rows in _groups(temporal[:, 0] > 1):
            classes = space.order_classes(0, active, keep)
            n = len(classes)
            perm = np.tile(np.arange(D), (len(rows) * n, L, 1))
            perm[:, 0] = np.tile(classes, (len(rows), 1))
            rep = np.repeat(rows, n)
            batch = MappingBatch(temporal[rep], perm, spatial[rep], np.broadcast_to(keep, (len(rep),) + keep.shape).copy())
            self.out.evaluated += len(rep)
            c = evaluate_batch(space.problem, space.arch, batch)
            e = np.zeros(len(rep))
            r = np.zeros(len(rep))
            if L > 1:
                for t in np.flatnonzero(kept1):
                    e += c.storage_energy_pj[:, 0, t] + c.network_energy_pj[:, 0, t] + c.counts.fills[:, 1, t] * self.write_pj[1, t]
                    r += c.counts.reads[:, 0, t]
            e, r = e.reshape(len(rows), n), r.reshape(len(rows), n)
            pick = e.argmin(axis=1)
            v0[rows] = e[np.arange(len(rows)), pick]
            reads0[rows] = r.min(axis=1)
            o0[rows] = classes[pick]
        return v0, o0, reads0

    # ----- inner enumeration --------------------------------------------------------------
    def inner(self, idx: np.ndarray, keep: np.ndarray, o0: np.ndarray) -> None:
        space = self.space
        base = space.batch(idx, np.tile(np.arange(space.D), (len(idx), space.L, 1)), keep)
        base.perm[:, 0] = o0
        masks = base.temporal > 1  # (K, L, D)
        for active, rows in _groups(masks.reshape(len(idx), -1)):
            act = np.array(active).reshape(space.L, space.D)
            classes = [space.order_classes(l, tuple(act[l]), keep) for l in range(space.L)]
            # the outer level's best class for its own traffic goes first (the base)
            first0 = np.flatnonzero((classes[0] == o0).all(axis=1))
            if len(first0):
                classes[0] = np.concatenate([classes[0][first0], np.delete(classes[0], first0, axis=0)])
            sub = base[rows]
            if self.obj.energy_only:
                self.separable(sub, classes)
            else:
                self.product(sub, classes)

    def _evaluate(self, batch: MappingBatch):
        self.out.evaluated += len(batch)
        return evaluate_batch(self.space.problem, self.space.arch, batch)

    def _offer(self, batch: MappingBatch, costs) -> None:
        """Offer the valid rows of an evaluated batch as candidates for the best."""
        valid = np.flatnonzero(costs.valid)
        if len(valid) == 0:
            return
        keys = self.obj.values(costs.energy_pj[valid], costs.cycles[valid])
        order = np.lexsort(tuple(keys[:, k] for k in range(keys.shape[1] - 1, -1, -1)))
        b = order[0]
        if better(keys[b], self.best_keys):
            self.best_keys = keys[b]
            self.best_row = batch[valid[b]:valid[b] + 1]

    def product(self, sub: MappingBatch, classes: list[np.ndarray]) -> None:
        """Every combination of the levels' order classes (any objective)."""
        combos = np.stack(np.meshgrid(*[np.arange(len(c)) for c in classes], indexing="ij"), -1).reshape(-1, len(classes))
        K, n = len(sub), len(combos)
        perm = np.stack([classes[l][combos[:, l]] for l in range(len(classes))], axis=1)  # (n, L, D)
        rep = np.repeat(np.arange(K), n)
        batch = MappingBatch(sub.temporal[rep], np.tile(perm, (K, 1, 1)), sub.spatial[rep], sub.keep[rep])
        self._offer(batch, self._evaluate(batch))

    def separable(self, sub: MappingBatch, classes: list[np.ndarray]) -> None:
        """Energy objective: the base order plus, per level, its other classes with the rest
        held; each level's best class is then combined (energy adds over levels)."""
        K, L = len(sub), len(classes)
        variants = [(None, 0)] + [(l, c) for l in range(L) for c in range(1, len(classes[l]))]
        perm0 = np.stack([classes[l][0] for l in range(L)])
        perms = []
        for l, c in variants:
            p = perm0.copy()
            if l is not None:
                p[l] = classes[l][c]
            perms.append(p)
        perms = np.stack(perms)  # (V, L, D)
        V = len(variants)
        rep = np.repeat(np.arange(K), V)
        batch = MappingBatch(sub.temporal[rep], np.tile(perms, (K, 1, 1)), sub.spatial[rep], sub.keep[rep])
        costs = self._evaluate(batch)
        e = costs.energy_pj.reshape(K, V)
        valid = costs.valid.reshape(K, V)[:, 0]  # validity does not depend on the loop order
        if not valid.any():
            return
        predicted = e[:, 0].copy()
        choice = np.zeros((K, L), np.int64)
        for l in range(L):
            cols = [0] + [i for i, (lv, _) in enumerate(variants) if lv == l]
            if len(cols) == 1:
                continue
            sub_e = e[:, cols]
            pick = sub_e.argmin(axis=1)
            predicted += sub_e[np.arange(K), pick] - e[:, 0]
            choice[:, l] = np.array([0] + [variants[i][1] for i in cols[1:]])[pick]
        rows = np.flatnonzero(valid)
        best = rows[np.argmin(predicted[rows])]
        perm = np.stack([classes[l][choice[best, l]] for l in range(L)])[None]
        chosen = MappingBatch(sub.temporal[best:best + 1], perm, sub.spatial[best:best + 1], sub.keep[best:best + 1])
        check = self._evaluate(chosen)
        if not np.isclose(check.energy_pj[0], predicted[best], rtol=1e-9, atol=1e-6):
            # cannot happen under the model's rules (docs/mapper.md); stay exact if it ever does
            self.out.notes.append(f"order separability check failed ({check.energy_pj[0]:.6g} vs {predicted[best]:.6g} pJ): "
                                  "all order combinations evaluated")
            self.product(sub, classes)
            return
        self._offer(chosen, check)

    # ----- explanations -------------------------------------------------------------------
    def why_empty(self) -> str:
        if self.stats:
            parts = [f"{where}: the smallest tile is {n} words" for where, n in sorted(self.stats.items())]
            return "no mapping fits the capacities: " + "; ".join(parts)
        return "no mapping fits the fanouts and constraints"


def _groups(masks: np.ndarray):
    """(pattern, rows) for each distinct row of a boolean matrix, in first-appearance order."""
    uniq, first, inv = np.unique(masks, axis=0, return_index=True, return_inverse=True)
    inv = inv.ravel()
    for j in np.argsort(first):
        yield tuple(bool(v) for v in uniq[j].ravel()), np.flatnonzero(inv == j)
