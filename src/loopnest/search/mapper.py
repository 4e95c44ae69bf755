"""The mapper: the best mapping of one layer in a constrained mapspace, exact or heuristic.

Exact mode is a branch and bound whose every pruning step is sound (docs/mapper.md proves them):

1. *Outer choices.* The loops of the outermost level fix the level-1 tile. The traffic between
   level 0 and level 1 depends on nothing else but the outermost loop order, so it is computed
   exactly for every outer choice (``V0``, least over the outer order classes).
2. *Rest choices.* Everything below level 1's temporal loops (its fanout and the inner levels)
   is enumerated once per bypass choice, pruned by the fanouts and inner capacities; a tiling is
   an (outer, rest) pair whose rest divides the outer's level-1 tile (level 1's loops follow).
3. *Floors.* Each outer choice gets ``V0 + mac_floor + InsideFloor.rows``; each pair the
   tighter ``V0 + mac_floor + InsideFloor`` (the least over level-1 order classes of the fills
   into level 2, psum read-backs included, plus ``RestFloor``: the MACs' traffic counted
   exactly and the transfers into deeper keepers), first per group of rests sharing a union tile.
   With sparsity ``V0`` and the MACs' traffic are the sparse model's own counts, and every other
   floor prices its dense counts at ``bounds.floor_prices`` (docs/sparsity.md).
4. *Best first, stop at the bound.* A first chunk of outer choices by their cheap floor sets a
   best cost; the rest are visited by increasing full floor, their rest groups expanded by
   increasing group floor and their pairs evaluated by increasing floor; the search stops when
   no floor is below the best cost found. Beyond ``STREAM_RESTS`` rest choices the rests are
   streamed level by level through their floors against a heuristic's best cost (``rest_tree``, bounded memory); beyond
   ``EXACT_RESTS`` it declines.
5. *Orders.* A pair is evaluated by the cost model with every loop-order class
   (``Mapspace.order_classes``). For the energy objective, the energy is a sum of terms each
   depending on one level's order, so each level's best class is found with the others held
   (sum of classes, not product); the choice is re-evaluated and checked against the prediction.
   This step, the best found and the heuristic's refinement live in ``tilings.py``.

Heuristic mode runs the same steps on the ``top`` best outer choices only and a seeded random
sample of the pairs under each (of ``rest_sample`` sampled rests in huge spaces), then a
coordinate descent: fast, deterministic for a seed, no optimality claim.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints
from loopnest.mapping.factors import MapspaceError
from loopnest.mapping.mapping import MappingError
from loopnest.mapping.mapspace import Mapspace
from loopnest.model.limits import check_countable
from loopnest.model.result import evaluate
from loopnest.model.sparse import plan as sparse_plan
from loopnest.search.arrays import ascending
from loopnest.search.bounds import (
    compute_cycles_floor,
    divides,
    innermost_keepers,
    inside_applies,
    mac_floor,
    rest_instances,
)
from loopnest.search.inside_floor import InsideFloor, RestGroups
from loopnest.search.layer_search import LayerSearch
from loopnest.search.objective import Objective, better, better_rows
from loopnest.search.padded import best_with_padded_folds
from loopnest.search.rest_bounds import RestFloor
from loopnest.search.siblings import canonical_rests, packed_siblings
from loopnest.search.streamed import TooMany, outer_key, surviving_rests
from loopnest.search.tilings import OutOfTime, TilingEvaluator
from loopnest.workload.problem import Problem

EXACT, HEURISTIC, AUTO = "exact", "heuristic", "auto"
MODES = (EXACT, HEURISTIC, AUTO)
ROWS = 64  # outer choices visited together
BATCH = 4096  # tilings per model call (times their loop-order variants; 1024 took 1.3x the CPU time on tpu-v1)
PAIRS = 1 << 18  # (outer choice, rest or rest group) pairs priced at once by one visit (memory)
GROUPS = 512  # (outer choice, rest group) pairs expanded to their members at a time
EXACT_RESTS = 100_000_000_000  # choices below level 1 beyond which the exact search declines (streamed level by level: memory bounded)
HEURISTIC_RESTS = 200_000  # draws of those choices the heuristic samples when there are more
SEED_RESTS = 20_000  # draws the heuristic that seeds the streamed exact search samples (its best: a first bound)
STREAM_RESTS = 200_000  # exact search: beyond this many of those choices, stream them through the floors
AUTO_EXACT_RESTS = 1_000_000  # auto mode: exact up to this many of those choices; beyond, exact under AUTO_TREE_ROWS
REMAINDER_FOLDS = False  # search remainder folds on non-systolic fanouts by default (docs/mapper.md: their CPU cost)
AUTO_TREE_ROWS = 20_000_000  # auto mode: partial rests priced level by level beyond which the heuristic's mapping stands (docs/mapper.md)


@dataclass
class _Outer:
    """The outer choices of one bypass choice, with what the search prices them by."""

    f0: np.ndarray  # (K, n0, D) factors on the outermost level's slots
    box1: np.ndarray  # (K, D) the level-1 tile each fixes
    o0: np.ndarray  # (K, D) the outermost order class of least V0
    base: np.ndarray  # (K,) V0 plus the MACs' floor, pJ
    cyc: np.ndarray  # (K,) cycles floor
    rest: np.ndarray  # (R, S_rest, D) the choices below level 1's loops
    prods: np.ndarray  # (R, D) their products per dimension
    rcyc: np.ndarray  # (R,) the rests' cycles floors (compute_cycles_floor)
    gcyc: np.ndarray | None  # (groups,) per rest group of ``floor``, the least of its members' rcyc
    credit: np.ndarray  # (R,) the rests' own floors (RestFloor), pJ
    floor: InsideFloor | None  # the pair floor, where it applies (it adds the credit)


def search_layer(problem: Problem, arch: Architecture, constraints: Constraints | None = None,
                 objective: str | Objective = "energy", mode: str = EXACT, seed: int = 0,
                 top: int = 4, sample: int = 1000, rest_sample: int | None = None, sweeps: int = 3,
                 timeout_s: float | None = None, padded_folds: bool = True, subspaces: bool = True,
                 remainder_folds: bool = REMAINDER_FOLDS, bound: float | None = None) -> LayerSearch:
    """Best mapping of ``problem`` on ``arch`` under ``constraints`` for ``objective``. The
    heuristic's effort: ``top`` outer choices, ``sample`` pairs under each, ``rest_sample``
    (default ``HEURISTIC_RESTS``) draws of the choices below level 1 where there are more, at
    most ``sweeps`` of refinement.
    Auto mode searches exactly where the outermost level has no fanout (the rests' floors leave
    it out) and the choices below level 1 number at most ``EXACT_RESTS``; beyond
    ``AUTO_EXACT_RESTS`` of them it stops after ``AUTO_TREE_ROWS`` partial rests with the
    heuristic's mapping; ``LayerSearch.mode`` says which ran and ``notes`` why.
    ``timeout_s`` stops the search after that many seconds (checked between batches of mappings,
    and not before a first mapping is found) with the best mapping found so far (``timed_out``; a
    note says it is not proven optimal). Where auto mode's mapping is the heuristic's, each
    dataflow preset's subspace small enough is searched exactly too and the best kept
    (``subspaces``; ``subspaces=False`` leaves them out). ``LayerSearch.lower_bound`` and
    ``gap``: what no mapping is below, and how far the result may be above the optimum.
    On an architecture with a systolic fanout, ``padded_folds`` also searches the layer's padded
    variants (``search.padded``: a partial last fold, costed padded) and keeps the best;
    ``remainder_folds`` does the same on every other fanout's axes, costed as remainder tiles.
    ``bound``: only mappings whose objective (its first key) is at most ``bound`` are sought, the
    branch and bound starting from it as its best cost (a fold variant's search: what cannot
    beat the exact splits is pruned unvisited); where none is, the result is None with why."""
    systolic = any(lv.fanout is not None and lv.fanout.systolic is not None for lv in arch.levels)
    if padded_folds and (systolic or remainder_folds and any(lv.fanout is not None for lv in arch.levels)):
        def unpadded(p: Problem, c: Constraints | None, below: float | None = bound) -> LayerSearch:
            return search_layer(p, arch, c, objective, mode, seed, top, sample, rest_sample, sweeps, timeout_s,
                                padded_folds=False, subspaces=subspaces, bound=below)

        obj = objective if isinstance(objective, Objective) else Objective.parse(objective)
        return best_with_padded_folds(problem, arch, constraints, replace(obj, static_pj_per_cycle=arch.leakage_pj_per_cycle),
                                      unpadded, unpadded(problem, constraints), remainder_folds)
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}; valid: {', '.join(MODES)}")
    obj = objective if isinstance(objective, Objective) else Objective.parse(objective)
    obj = replace(obj, static_pj_per_cycle=arch.leakage_pj_per_cycle)  # the ``static`` metric of this architecture
    check_countable(problem)  # a layer too large to count exactly: refused before any search
    t0 = time.perf_counter()
    try:
        space = Mapspace(problem, arch, constraints)
    except MapspaceError as e:  # too large to enumerate: the layer is reported unmapped, with why
        return LayerSearch(problem, obj.text, mode, reason=str(e), seconds=time.perf_counter() - t0)
    space.canonical = canonical_rests(space)  # sibling levels: dominated rests dropped (search.siblings)
    notes, budget, auto = [], None, mode == AUTO
    if mode == AUTO:
        fanout0 = arch.levels[0].fanout is not None
        mode = EXACT if not fanout0 and space.rest_count() <= EXACT_RESTS else HEURISTIC
        if mode == HEURISTIC:
            why = (f"the outermost level {arch.levels[0].name} has a fanout" if fanout0 else
                   f"{space.rest_count():.2g} choices of the loops below level {arch.levels[1].name}'s, exact up to "
                   f"{EXACT_RESTS:.0e}")
            notes.append(f"auto: heuristic search, not proven optimal ({why})")
        elif space.rest_count() > AUTO_EXACT_RESTS:
            budget = AUTO_TREE_ROWS
    out = LayerSearch(problem, obj.text, mode, notes=notes)
    effort, deadline = (top, sample, rest_sample or HEURISTIC_RESTS), None if timeout_s is None else t0 + timeout_s
    start = None if bound is None else np.array([bound] + [np.inf] * (len(obj.keys) + 1))  # ties at the bound pass
    state = _Search(space, obj, mode, seed, effort, out, deadline)
    state.best_keys = start
    empty = space.empty_reason()
    if empty is None and mode == EXACT and space.rest_count() > EXACT_RESTS:
        empty = (f"the exact search would enumerate {space.rest_count():.2g} choices of the loops below level "
                 f"{space.arch.levels[1].name}'s (limit {EXACT_RESTS:.0e}); use --mode heuristic (it samples "
                 "them) or constrain those loops")
    if empty is None:
        try:
            if mode == EXACT and space.rest_count() > STREAM_RESTS:
                state = _streamed(space, obj, seed, effort, out, deadline, sweeps, start)
                state.budget = budget
            try:
                state.run()
            except TooMany as e:  # the heuristic's mapping stands, and the record says so
                out.mode = HEURISTIC
                out.notes.append(str(e))
                state = _full_heuristic(state, sweeps)
            if mode == HEURISTIC and state.best_tiling is not None:
                state.refine(sweeps)
        except OutOfTime:
            out.timed_out = True
            out.notes.append(f"stopped at the layer timeout of {timeout_s:g} s: the best mapping found so far, "
                             "not proven optimal")
    if state.best_row is None:
        out.reason = empty or (state.why_empty() if bound is None else f"no mapping's {obj.text} is at most {bound:.6g}")
    else:
        out.result = evaluate(problem, arch, state.best_row.mapping(0, problem))
        key = obj.values(np.array([out.result.energy_pj]), np.array([out.result.cycles]))[0, 0]
        proven = out.mode == EXACT and not out.timed_out
        bound = float(key) if proven else float(obj.values(np.array([out.floor_energy_pj]), np.array([out.floor_cycles]))[0, 0])
        out.lower_bound = bound if np.isfinite(bound) else None
    if auto and subspaces and out.mode == HEURISTIC:  # never worse than a dataflow subspace's exact optimum
        from loopnest.search.subspaces import best_of_subspaces  # it calls search_layer

        best_of_subspaces(out, arch, constraints, obj, deadline, start)
    out.seconds = time.perf_counter() - t0
    return out


def _streamed(space: Mapspace, obj: Objective, seed: int, effort: tuple[int, int, int], out: LayerSearch,
              deadline: float | None, sweeps: int, start: np.ndarray | None = None) -> _Search:
    """The exact search of a space with more than ``STREAM_RESTS`` choices below level 1: the
    heuristic's mapping (or ``start``, keys to beat) first sets a best cost, then the rests are streamed and only those whose
    floor can beat it are kept (``streamed.surviving_rests``); the exact search over them starts
    from that best cost, so its result is still proven optimal. On sibling levels a second
    heuristic samples their packed subspace (``siblings.packed_siblings``), whose mappings are
    the space's own: the better of the two mappings sets the best cost."""
    seed_effort = (effort[0], effort[1], min(effort[2], SEED_RESTS))
    first = own = None
    for sub in (space, packed_siblings(space)):  # sibling levels: the packed subspace seeds too
        if sub is None:
            continue
        found = _heuristic(sub, obj, seed, seed_effort, out, deadline, sweeps, start)
        own = found if own is None else own
        if first is None or found.best_row is not None and better(found.best_keys, first.best_keys):
            first = found  # its mapping is one of ``space``'s: the best cost found so far
    state = _Search(space, obj, EXACT, seed, effort, out, deadline)
    state.best_keys, state.best_row = first.best_keys, first.best_row  # the tiling: only the heuristic refines it
    state.outer_shared, state.stats = own.outer_shared, own.stats  # the outer choices of ``space`` and their costs: the same
    state.streamed = True
    return state


def _full_heuristic(state: _Search, sweeps: int) -> _Search:
    """The streamed exact search stopped (``TooMany``) with the best of a heuristic that sampled
    ``SEED_RESTS`` rests: the heuristic again at its full effort (``rest_sample`` draws), and the
    better of the two kept, so the mapping is never worse than the full heuristic's alone."""
    if state.rest_sample <= SEED_RESTS:
        return state
    full = _heuristic(state.space, state.obj, state.seed, (state.top, state.sample, state.rest_sample), state.out,
                      state.deadline, sweeps)
    return state if state.best_keys is not None and better(state.best_keys, full.best_keys) else full


def _heuristic(space: Mapspace, obj: Objective, seed: int, effort: tuple[int, int, int], out: LayerSearch,
               deadline: float | None, sweeps: int, start: np.ndarray | None = None) -> _Search:
    """A heuristic search of ``space`` (from ``start``, keys to beat), refined by coordinate
    descent, its sampled rests then dropped (they are not needed again)."""
    found = _Search(space, obj, HEURISTIC, seed, effort, out, deadline)
    found.best_keys = start
    found.run()
    if found.best_tiling is not None:
        found.refine(sweeps)
    space.forget_rests()
    return found


class _Search(TilingEvaluator):
    """The branch and bound: which tilings can still win, handed to ``TilingEvaluator.inner``."""

    def __init__(self, space: Mapspace, obj: Objective, mode: str, seed: int, effort: tuple[int, int, int],
                 out: LayerSearch, deadline: float | None = None):
        super().__init__(space, obj, out, deadline)
        self.mode = mode
        self.seed, (self.top, self.sample, self.rest_sample) = seed, effort
        self.stats: dict = {}
        arch, problem = space.arch, space.problem
        self.macs = problem.macs
        self.cycles_floor = -(-self.macs // arch.pes) * arch.compute.cycles_per_mac
        self.sizes = space.sizes
        self.outer_data: dict[int, _Outer] = {}  # per bypass choice
        self.cheap: dict = {}  # keep index -> per outer choice, the floor without InsideFloor.rows
        self.visited: dict = {}  # keep index -> outer choices visited
        sp = sparse_plan(problem, arch)  # skipped MACs take no cycle (the floors' prices: bounds.floor_prices)
        self.cycles_floor *= 1.0 if sp is None else sp.cycle_fraction
        self.streamed = False  # rests streamed and filtered by the best cost found (set by search_layer)
        self.budget: int | None = None  # streamed: the partial rests priced beyond which it stops (auto mode)
        self.outer_shared: dict = {}  # outer_key -> [outer choices, projections, outer_costs], shared by the bypass
        # choices they do not depend on (and by the streamed search's seed and exact phases: one computation)

    # ----- the search -------------------------------------------------------------------
    def run(self) -> None:
        """Outer choices of every bypass choice, visited together by increasing floor.

        Exact mode first visits the choices with the least cheap floor (``V0``, the MACs and the
        bypassing tensors' outer reads) to set a best cost, then prices the rest of the
        per-outer floor (``InsideFloor.rows``) only for the choices whose cheap floor can still
        win, and visits those by increasing full floor."""
        space = self.space
        cheap, heuristic = [], []  # per bypass choice: (keys (K, k), keep index, outer rows (K,))
        shared = self.outer_shared
        rest_floor, groups = RestFloor(space), {}  # the rests' floors and groups, shared like the rests
        prods: dict = {}  # id of a rests array -> their products per dimension, shared like the rests (memory)
        rcycs: dict = {}  # (id of a rests array, innermost keepers) -> their cycles floors
        streamed = None
        if self.streamed:  # every outer choice's costs first: the rests are filtered by their least base
            streamed = surviving_rests(self)
        for ki, keep in enumerate(space.keep_configs):
            key = outer_key(keep)
            if key not in shared:
                shared[key] = [*space.outer(keep, self.stats), None]
            outer, projs, costs = shared[key]
            self.out.outer_total += len(outer)
            if streamed is not None:
                rest, credit, rcyc = streamed.get(ki, (np.zeros((0, 0, space.D), np.int64), None, None))
            else:
                rest = space.rests(keep, self.stats, self.rest_sample if self.mode == HEURISTIC else None, self.seed)
            if len(outer) == 0 or len(rest) == 0:
                continue
            if costs is None:
                costs = shared[key][2] = self.outer_costs(outer, projs, keep)
            v0, o0, reads0, v0_rows = costs
            if streamed is None:  # the rests' cycles floors, shared by the bypass choices with their rests and innermost keepers
                ckey = (id(rest), innermost_keepers(keep))
                if ckey not in rcycs:
                    rcycs[ckey] = np.maximum(compute_cycles_floor(space, rest_instances(space, rest)), rest_floor.cycles(keep, rest))
                rcyc = rcycs[ckey]
            cyc = np.maximum(self.outer_cycles_floor(reads0), rcyc.min())  # every pair's rest has at least that
            f0 = np.stack([projs[d][outer[:, d]] for d in range(space.D)], axis=2)  # (K, n0, D)
            box1 = self.sizes // f0.prod(axis=1)
            base = v0 + mac_floor(space, keep)
            if streamed is None:
                credit = rest_floor(keep, rest) if rest_floor.applies else np.zeros(len(rest))
            floor = None
            if inside_applies(space):
                key2 = space.rest_key(keep) if streamed is None else ki  # streamed rests differ per bypass choice
                if key2 not in groups:
                    groups[key2] = RestGroups(space, rest)
                floor = InsideFloor(space, keep, f0[:, 0], box1, groups[key2], credit)
            if id(rest) not in prods:  # the rests' extents divide the sizes: their products fit the rests' dtype
                prods[id(rest)] = rest.prod(axis=1, dtype=rest.dtype)
            gcyc = None if floor is None else floor.groups.memo(("cycles", innermost_keepers(keep)), floor.groups.per_group, rcyc)
            self.outer_data[ki] = _Outer(f0, box1, o0, base, cyc, rest, prods[id(rest)], rcyc, gcyc, credit, floor)
            self.cheap[ki] = base + (v0_rows - v0 if floor is not None else credit.min())
            exhaustive = not self.streamed and not (self.mode == HEURISTIC and space.rest_count() > self.rest_sample)
            sound = self.cheap[ki] if exhaustive or floor is not None else base  # rest floors: of every rest
            self.out.floor_energy_pj = min(self.out.floor_energy_pj, float(sound.min()))
            self.out.floor_cycles = min(self.out.floor_cycles, float((cyc if exhaustive else self.outer_cycles_floor(reads0)).min()))
            self.visited[ki] = np.zeros(len(outer), bool)
            keys = self.obj.values(self.cheap[ki], cyc)  # the keys are monotone in both
            if self.mode == HEURISTIC:  # the best by the full floor among the best by the cheap one
                pre = ascending(keys)[:ROWS * self.top]
                keys = self._bounds(ki, pre)
                top = ascending(keys)[:self.top]
                heuristic.append((keys[top], ki, pre[top]))
            else:
                cheap.append((keys, ki, np.arange(len(outer))))
        space.forget_draws()  # every bypass choice has its rests (the draws are seeded: redrawn alike if needed)
        self.outer_tables.clear()  # every bypass choice has its outer costs: the shared tables' memory freed
        if self.mode == HEURISTIC:
            self._visit_by_floor(heuristic)
            return
        self._visit_by_floor(cheap, limit=ROWS)  # a first best cost
        rows = []
        for ki, data in self.outer_data.items():
            live = np.flatnonzero(better_rows(self.obj.values(self.cheap[ki], data.cyc), self.best_keys) & ~self.visited[ki])
            rows.append((self._bounds(ki, live), ki, live))
        self._visit_by_floor(rows)

    def outer_cycles_floor(self, reads0: np.ndarray) -> np.ndarray:
        """Per outer choice, a floor of the cycles: the MACs over every PE (those not skipped), or
        the level-0 reads (``reads0``, words; the actual ones with sparsity) over its read bandwidth."""
        rd_bw = self.space.arch.levels[0].read_bandwidth
        return np.maximum(float(self.cycles_floor), reads0 / rd_bw if rd_bw else np.zeros(len(reads0)))

    def _bounds(self, ki: int, at: np.ndarray) -> np.ndarray:
        """Objective keys of the full per-outer floor of outer choices ``at`` of bypass choice ``ki``."""
        data = self.outer_data[ki]
        energy = self.cheap[ki][at] + (data.floor.rows(bypass=False, at=at) if data.floor is not None else 0.0)
        return self.obj.values(energy, data.cyc[at])

    def _visit_by_floor(self, parts: list, limit: int | None = None) -> None:
        """Visit outer choices by increasing keys, ROWS at a time, until no key left can beat
        the best cost found (or ``limit`` choices are visited). ``parts``: per bypass choice,
        (keys (K, k), keep index, outer rows (K,)); ties go by keep index, then row."""
        if not parts:
            return
        keys = np.concatenate([p[0] for p in parts])
        kis = np.concatenate([np.full(len(p[2]), p[1]) for p in parts])
        rs = np.concatenate([p[2] for p in parts])
        order = np.lexsort((rs, kis) + tuple(keys[:, k] for k in range(keys.shape[1] - 1, -1, -1)))[:limit]
        for start in range(0, len(order), ROWS):
            self.clock()
            chunk = order[start:start + ROWS]
            chunk = chunk[better_rows(keys[chunk], self.best_keys)]
            if len(chunk) == 0:
                break  # keys ascend: every remaining outer choice is at least as costly
            self.out.outer_visited += len(chunk)
            for ki in np.unique(kis[chunk]):
                at = rs[chunk[kis[chunk] == ki]]
                self.visited[ki][at] = True
                self.visit(at, int(ki), start)

    def visit(self, rows: np.ndarray, ki: int, start: int) -> None:
        """Evaluate the tilings under some outer choices of one bypass choice: every rest choice
        dividing an outer choice's level-1 tile, by increasing floor, until no floor can win.
        With the inside floor, groups of rests sharing a union tile are priced first and
        expanded to their members by increasing group floor, GROUPS at a time (exact mode), so
        a best cost found under the first groups prunes the later ones unexpanded; once a best
        cost is known, the groups whose cheaper floor (``InsideFloor.grid``) cannot beat it are
        dropped before their group floor is priced (exact mode)."""
        od = self.outer_data[ki]
        box1, base, cyc, prods, floor = od.box1, od.base, od.cyc, od.prods, od.floor
        per = max(1, PAIRS // max(1, len(prods) if floor is None else len(floor.groups.unions)))
        if len(rows) > per:  # bounded memory: at most PAIRS (outer, rest group) pairs priced at once
            for a in range(0, len(rows), per):
                self.visit(rows[a:a + per], ki, start + a)
            return
        if floor is None:
            at, ri = np.nonzero(divides(box1[rows], prods, self.sizes))
            oi = rows[at]
            keys = self.obj.values(base[oi] + od.credit[ri], np.maximum(cyc[oi], od.rcyc[ri]))
            self._evaluate_pairs(ki, len(rows), at, oi, ri, keys, start)
            return
        groups = floor.groups
        at, gi = np.nonzero(divides(box1[rows], groups.unions, self.sizes))
        if self.mode == EXACT and self.best_keys is not None:  # the groups the cheaper floor cannot rule out
            cheap = floor.grid(True, rows)[at, gi]
            live = better_rows(self.obj.values(base[rows[at]] + cheap, np.maximum(cyc[rows[at]], od.gcyc[gi])), self.best_keys)
            at, gi = at[live], gi[live]
        oi = rows[at]
        keys = self.obj.values(base[oi] + floor(oi, gi, groups=True), np.maximum(cyc[oi], od.gcyc[gi]))
        order = ascending(keys)
        at, oi, gi, keys = at[order], oi[order], gi[order], keys[order]
        step = GROUPS if self.mode == EXACT else max(1, len(gi))
        for g in range(0, len(gi), step):
            self.clock()
            live = g + np.flatnonzero(better_rows(keys[g:g + step], self.best_keys))
            if len(live) == 0:
                break  # group floors ascend: nothing after can win either
            count = groups.ends[gi[live]] - groups.starts[gi[live]]
            pos = np.repeat(groups.starts[gi[live]] - np.cumsum(count) + count, count) + np.arange(count.sum())
            a, o, r = np.repeat(at[live], count), np.repeat(oi[live], count), groups.members[pos]
            pair_keys = self.obj.values(base[o] + floor(o, r), np.maximum(cyc[o], od.rcyc[r]))  # not ``keys``: the groups'
            self._evaluate_pairs(ki, len(rows), a, o, r, pair_keys, start)

    def _evaluate_pairs(self, ki: int, n_rows: int, at: np.ndarray, oi: np.ndarray, ri: np.ndarray, keys: np.ndarray,
                        start: int) -> None:
        """Evaluate (outer ``oi``, rest ``ri``) pairs whose floor keys can still win, by
        increasing keys, in batches; heuristic mode first samples ``sample`` pairs per outer
        choice (``at``: its position among the ``n_rows`` visited)."""
        keep = self.space.keep_configs[ki]
        od = self.outer_data[ki]
        f0, box1, o0, rest, prods = od.f0, od.box1, od.o0, od.rest, od.prods
        ok = better_rows(keys, self.best_keys)
        at, oi, ri, keys = at[ok], oi[ok], ri[ok], keys[ok]
        if self.mode == HEURISTIC:
            pick = []
            for a in range(n_rows):
                mine = np.flatnonzero(at == a)
                if len(mine) > self.sample:
                    rng = np.random.default_rng([self.seed, ki, start + a])
                    mine = mine[np.sort(rng.choice(len(mine), self.sample, replace=False))]
                pick.append(mine)
            pick = np.concatenate(pick)
            oi, ri, keys = oi[pick], ri[pick], keys[pick]
        order = ascending(keys)
        oi, ri, keys = oi[order], ri[order], keys[order]
        self.out.inner_tilings += len(oi)
        for a in range(0, len(oi), BATCH):
            self.clock()
            live = a + np.flatnonzero(better_rows(keys[a:a + BATCH], self.best_keys))
            if len(live) == 0:
                break  # keys ascend: nothing after can win either
            f = [f0[oi[live]]]
            if self.space.rest_start is not None:
                f += [(box1[oi[live]] // prods[ri[live]])[:, None], rest[ri[live]]]
            self.inner(np.concatenate(f, axis=1), keep, o0[oi[live]])

    # ----- explanations -------------------------------------------------------------------
    def why_empty(self) -> str:
        if self.rejected is not None:  # the mapspace's relaxed tests passed, the model's own checks did not
            try:
                evaluate(self.space.problem, self.space.arch, self.rejected.mapping(0, self.space.problem))
            except MappingError as e:
                return f"the model rejected all {self.out.evaluated:,d} mappings costed; the first: {e}"
        if self.stats:
            parts = [f"{where}: the smallest tile is {n} words" for where, n in sorted(self.stats.items())]
            return "no mapping fits the capacities: " + "; ".join(parts)
        used = [f"{lv.name} at least {n} of {lv.fanout.size}" for lv, n in zip(self.space.arch.levels, self.space.least_instances)
                if n > 1]
        return "no mapping fits the fanouts and constraints" + (f" (min_usage: {', '.join(used)})" if used else "")
