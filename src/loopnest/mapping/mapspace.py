"""The mapspace of one layer on one architecture: every way to split each dimension over the
temporal loops of the levels and the X/Y axes of the fanouts (perfect factorizations), every
loop order, every bypass choice the architecture allows, all narrowed by constraints.

Pieces the search combines:
- ``options[d]``: the factor tuples of dimension d over the slots (one row per tuple);
- ``keep_configs``: the bypass choices (the outermost level keeps every tensor);
- ``tilings(keep)``: the cartesian product of the options, pruned as it is built by the fanout
  sizes and the capacities (a tile only grows as dimensions are added, so a partial tiling that
  overflows can never fit: the pruning is exact), and, once every dimension is chosen, by each
  fanout's ``min_usage`` (a partial tiling may still grow onto more instances);
- ``outer(keep)`` and ``rests(keep)``: the outermost level's loop choices and every choice below
  level 1's temporal loops; a tiling is a pair whose rest divides the outer choice's level-1 tile
  (the exact search enumerates pairs, docs/mapper.md);
- ``order_classes(level, active, keep)``: the loop orders of a level up to the equivalence the
  cost model cannot see (docs/mapper.md): a tensor's fills depend on a level's order only
  through its innermost relevant loop and the set of loops inside it (all irrelevant: reuse).
  Classes dominated by another (same innermost relevant loop for every tensor and a superset
  of reused loops) are dropped: they never cost less, in energy or in cycles.
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import combinations, permutations, product

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import ConstraintError, Constraints, FactorRule
from loopnest.mapping.factors import ceil_factorizations, factorizations
from loopnest.mapping.mapping import MappingBatch, remainder_refusal
from loopnest.workload.problem import ROLES, Problem, read_positions

TEMPORAL, X, Y = 0, 1, 2
_AXIS = ("temporal", "spatial.x", "spatial.y")
CHUNK = 1 << 17  # rows of a cartesian-product step held at once (their factors: 1 << 17 x slots x dims int64)


class Mapspace:
    """The constrained mapspace of ``problem`` on ``arch`` (see the module docstring)."""

    def __init__(self, problem: Problem, arch: Architecture, constraints: Constraints | None = None,
                 imperfect: bool = False):
        # the tile sizes the model counts (an input skipped by a wide stride, where the arch says so)
        problem = read_positions(problem) if arch.strided_windows == "positions" else problem
        self.problem, self.arch = problem, arch
        self.constraints = constraints or Constraints()
        self.constraints.check_levels(tuple(lv.name for lv in arch.levels))
        self.dims = problem.dim_names
        self.L, self.D = len(arch.levels), len(self.dims)
        self.sizes = np.array([problem.dims[d] for d in self.dims], np.int64)  # (D,) dimension sizes
        # a tensor held whole at level 1 between layers (``resident``): the outermost level loops over none of its dims
        self.resident_dims = frozenset(d for r in arch.resident for idx in problem.tensor(r).indices for d, c in idx.items() if c)
        self.slots: list[tuple[int, int]] = []
        for l, lv in enumerate(arch.levels):
            self.slots.append((l, TEMPORAL))
            if lv.fanout is not None:
                self.slots += [(l, X), (l, Y)]
        self.bounds = [[self._bounds(s, d) for s in self.slots] for d in self.dims]
        # imperfect: remainder tiles at the fanouts too (factors.ceil_factorizations; the model costs them exactly)
        self.imperfect = imperfect and remainder_refusal(problem, arch) is None
        spatial = [axis != TEMPORAL for _, axis in self.slots]
        self.options = [ceil_factorizations(problem.dims[d], b, spatial, f"{d}={problem.dims[d]}") if self.imperfect
                        else factorizations(problem.dims[d], b, f"{d}={problem.dims[d]}") for d, b in zip(self.dims, self.bounds)]
        self.coef = [self._coef(problem.tensor(r)) for r in ROLES]
        self.relevance = tuple(tuple(bool(v) for v in (c > 0).any(axis=0)) for c in self.coef)  # per tensor, per dim
        self.keep_configs = self._keep_configs()
        self.least_instances = [self._least_instances(lv) for lv in arch.levels]  # min_usage: arch and constraints
        self._projections: list[np.ndarray] | None = None  # per dimension, its choices below level 1's loops
        self._draws: dict = {}  # (sample, seed) -> sampled choices below level 1's loops
        self._rests: dict = {}  # (keeps of levels >= 2, sample, seed) -> the fitting choices
        self.partial_order = [tuple(self.dims.index(d) for d in self.constraints.at(lv.name).order if d in self.dims)
                       for lv in arch.levels]
        # a search's dominance filter (factors (K, S, d), their slots, keep) -> (K,) bool, applied with the
        # fanout and capacity tests; it must drop a partial choice only with all its completions (search.siblings)
        self.canonical = None

    # ----- construction -------------------------------------------------------------------
    def _bounds(self, slot: tuple[int, int], d: str) -> tuple[int, int]:
        l, axis = slot
        lv, lc, n = self.arch.levels[l], self.constraints.at(self.arch.levels[l].name), self.problem.dims[d]
        if axis == TEMPORAL:
            lo, hi = lc.temporal.get(d, FactorRule()).bounds(n)
            return (lo, 1) if l == 0 and d in self.resident_dims else (lo, hi)
        rules = lc.spatial_x if axis == X else lc.spatial_y
        if rules is not None and d not in rules:
            return (1, 1)
        lo, hi = (rules[d] if rules is not None else FactorRule()).bounds(n)
        return lo, min(hi, lv.fanout.x if axis == X else lv.fanout.y)

    def _least_instances(self, lv) -> int:
        """The fewest instances of ``lv``'s fanout a mapping may use: its own ``min_usage`` and the
        constraints', the stricter (1 without either)."""
        usage = self.constraints.at(lv.name).min_usage
        if usage is not None and lv.fanout is None:
            raise ConstraintError(f"{self.constraints.source}: level {lv.name}.min_usage: the level has no fanout")
        return 1 if lv.fanout is None else max(lv.fanout.min_instances, lv.fanout.least_instances(usage))

    def _coef(self, tensor) -> np.ndarray:
        """(axes, D) the index coefficients that capacity pruning and the search's bounds use. Where
        the model counts the positions read (``strided_windows: positions``) an axis of two or more
        terms is given unit coefficients: its hull then counts at most the positions the model
        counts (a window at stride 1 reads every position of its hull), so both stay relaxations."""
        relax = self.arch.strided_windows == "positions"
        return np.array([[(1 if relax and len(idx) > 1 and d in idx else idx.get(d, 0)) for d in self.dims]
                         for idx in tensor.indices], np.int64).reshape(-1, self.D)

    def _keep_configs(self) -> np.ndarray:
        per_level = []
        for l, lv in enumerate(self.arch.levels):
            allowed = [r for r in lv.keeps if lv.partitions is None or r in lv.partitions]
            fixed = self.constraints.at(lv.name).keep
            must = frozenset(self.arch.resident) if l == 1 else frozenset()  # held whole at level 1 between layers
            if l == 0:
                per_level.append([frozenset(ROLES)])
            elif fixed is not None and not must <= set(fixed):
                raise ConstraintError(f"{self.constraints.source}: level {lv.name} holds {sorted(must)} whole between layers "
                                      f"(resident): its keep must include them, not {sorted(fixed)}")
            elif fixed is not None:
                bad = sorted(set(fixed) - set(allowed))
                if bad:
                    raise ConstraintError(f"{self.constraints.source}: level {lv.name} may not keep {bad}; it may hold {allowed}")
                per_level.append([fixed])
            else:
                per_level.append([frozenset(c) for k in range(len(allowed) + 1)
                                  for c in combinations(allowed, k) if must <= set(c)])
        configs = [[[r in s for r in ROLES] for s in combo] for combo in product(*per_level)]
        return np.array(configs, bool).reshape(-1, self.L, len(ROLES))

    # ----- explanations -------------------------------------------------------------------
    def empty_reason(self) -> str | None:
        """Why no factorization exists for some dimension, or None."""
        for d, opts, b in zip(self.dims, self.options, self.bounds):
            if len(opts) == 0:
                fixed = [f"{self.arch.levels[l].name} {_AXIS[a]} in [{lo}, {hi}]"
                         for (l, a), (lo, hi) in zip(self.slots, b) if (lo, hi) != (1, self.problem.dims[d])]
                return (f"dimension {d}={self.problem.dims[d]} cannot be split over the levels: "
                        f"{'; '.join(fixed) or 'no slot'} (from {self.constraints.source} and the fanout sizes)")
        return None

    # ----- tilings ------------------------------------------------------------------------
    def tilings(self, keep: np.ndarray, candidates: list[np.ndarray] | None = None, prune: bool = True,
                stats: dict | None = None) -> np.ndarray:
        """Tilings for one bypass choice ``keep`` (L, 3) as option-row indices (K, D).

        ``candidates[d]`` restricts dimension d to some option rows. With ``prune`` the product
        is filtered by fanout sizes and capacities as it is built; ``stats`` (if given) receives,
        per capacity, the smallest tile that overflowed it (for error messages).
        """
        choices = candidates or [np.arange(len(o)) for o in self.options]
        return _product(choices, (lambda idx: self.fits(idx, keep, stats)) if prune else None)

    def outer(self, keep: np.ndarray, stats: dict | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Choices of the outermost level's loops (its temporal factors and its fanout).

        Returns the pruned product (K, D) of projection ids and the projections per dimension
        (factors on the outermost level's slots). Pruned by the outermost fanout and the
        capacity of level 1, whose tile these choices fix.
        """
        n0 = sum(1 for l, _ in self.slots if l == 0)
        projs = [np.unique(opts[:, :n0], axis=0) for opts in self.options]

        def check(idx: np.ndarray) -> np.ndarray:
            f0 = np.stack([projs[d][idx[:, d]] for d in range(idx.shape[1])], axis=2)  # (K, n0, d)
            ok = np.ones(len(idx), bool)
            for s in range(1, n0):
                lv = self.arch.levels[0]
                ok &= f0[:, s].prod(axis=1) <= (lv.fanout.x if self.slots[s][1] == X else lv.fanout.y)
            if self.L > 1:
                box = self.sizes[None, :idx.shape[1]] // f0.prod(axis=1)
                ok &= self._capacity_ok(1, box, keep[1], stats)
            return ok & self._usage_ok(f0, self.slots[:n0])

        return _product([np.arange(len(p)) for p in projs], check), projs

    def factors(self, idx: np.ndarray) -> np.ndarray:
        """Option indices (K, d) of the first d dims -> factors (K, S, d)."""
        return np.stack([self.options[d][idx[:, d]] for d in range(idx.shape[1])], axis=2)

    def fits(self, idx: np.ndarray, keep: np.ndarray, stats: dict | None = None) -> np.ndarray:
        """Whether a (partial) tiling can still fit every fanout and capacity (K,) bool."""
        return self._fits(self.factors(idx), self.slots, keep, stats)

    def fits_factors(self, f: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Whether tilings given as factors (K, S, D) fit every fanout and capacity (K,) bool."""
        return self._fits(f, self.slots, keep, None)

    def _fits(self, f: np.ndarray, slots: list[tuple[int, int]], keep: np.ndarray, stats: dict | None,
              partial: bool = False) -> np.ndarray:
        """Fanout and capacity test of factors ``f`` (K, len(slots), d) on the innermost ``slots``;
        ``partial``: some factors are not chosen yet (held at 1), so ``min_usage`` is not tested."""
        ok = np.ones(len(f), bool)
        box = np.ones((len(f), f.shape[2]), np.int64)
        for s in range(len(slots) - 1, -1, -1):
            l, axis = slots[s]
            box = box * f[:, s]
            if axis != TEMPORAL:
                lv = self.arch.levels[l]
                ok &= f[:, s].prod(axis=1) <= (lv.fanout.x if axis == X else lv.fanout.y)
            elif l > 0:  # the level's temporal slot comes first: box is now its whole tile (its largest: clipped)
                ok &= self._capacity_ok(l, np.minimum(box, self.sizes[:box.shape[1]]) if self.imperfect else box, keep[l], stats)
        if self.canonical is not None:
            ok &= self.canonical(f, slots, keep)
        return ok if partial else ok & self._usage_ok(f, slots)

    def _usage_ok(self, f: np.ndarray, slots: list[tuple[int, int]]) -> np.ndarray:
        """(K,) bool: each fanout's ``min_usage`` on factors ``f`` (K, len(slots), d): tested only
        once every dimension is chosen (d = D), as a partial tiling may still grow onto more instances."""
        ok = np.ones(len(f), bool)
        if f.shape[2] < self.D:
            return ok
        for l, least in enumerate(self.least_instances):
            if least > 1 and (l, X) in slots:
                sx, sy = slots.index((l, X)), slots.index((l, Y))
                ok = ok & (f[:, sx].prod(axis=1) * f[:, sy].prod(axis=1) >= least)
        return ok

    def rests(self, keep: np.ndarray, stats: dict | None = None, sample: int | None = None, seed: int = 0) -> np.ndarray:
        """Every choice of the slots below level 1's temporal loops (its fanout and every inner
        level) that fits the fanouts and the inner capacities, as factors (K, S_rest, D); the
        slots are ``self.slots[self.rest_start:]``. Level 1's temporal loops then follow from
        the level-1 tile. One empty choice when there is no level 1. With ``sample``, when the
        product of the per-dimension choices exceeds it, a seeded uniform sample of that many
        draws instead (the fitting, distinct ones): for the heuristic search of huge spaces.
        They depend on the keeps of levels 2 and below only (their capacities), so bypass
        choices that differ above share them."""
        if self.rest_start is None or not self.slots[self.rest_start:]:
            return np.ones((1, 0, self.D), np.int64)
        key = (self.rest_key(keep), sample, seed)
        if key not in self._rests:
            self._rests[key] = self._narrow(self._fitting_rests(keep, stats, sample, seed))
        return self._rests[key]

    def _narrow(self, f: np.ndarray) -> np.ndarray:
        """Factors as int32 where every dimension fits (half the memory of the rests held)."""
        return f.astype(np.int32) if self.sizes.max() < 2**31 else f

    def forget_rests(self) -> None:
        """Drop the rest choices kept for reuse (memory)."""
        self._rests.clear()
        self.forget_draws()

    def forget_draws(self) -> None:
        """Drop the sampled draws the rests are filtered from (memory; the same seed redraws them)."""
        self._draws.clear()

    @staticmethod
    def rest_key(keep: np.ndarray) -> bytes:
        """What ``rests`` depends on in a bypass choice: the keeps of levels 2 and below (their
        capacities). Bypass choices with one key share the rests and what is derived from them."""
        return keep[2:].tobytes()

    def _fitting_rests(self, keep: np.ndarray, stats: dict | None, sample: int | None, seed: int) -> np.ndarray:
        slots = self.slots[self.rest_start:]
        projs = self._rest_projections()
        if sample is not None and self.rest_count() > sample:
            if (sample, seed) not in self._draws:  # the same draws for every bypass choice
                self._draws[(sample, seed)] = self._draw(projs, sample, seed)
            f = self._draws[(sample, seed)]
            return f[self._fits(f, slots, keep, stats)]
        parts = list(self.rest_chunks(keep, stats))
        return np.concatenate(parts) if parts else np.zeros((0, len(slots), self.D), np.int64)

    def rest_chunks(self, keep: np.ndarray, stats: dict | None = None, chunk: int = CHUNK):
        """The choices ``rests(keep)`` lists (in the same order), yielded about ``chunk`` at a
        time: the product is built depth first, so at most about ``chunk`` rows per dimension
        are held whatever the total (the exact search streams huge spaces through its floors)."""
        if self.rest_start is None or not self.slots[self.rest_start:]:
            yield np.ones((1, 0, self.D), np.int64)
            return
        slots = self.slots[self.rest_start:]
        projs = self._rest_projections()

        def factors(i: np.ndarray) -> np.ndarray:
            return np.stack([projs[d][i[:, d]] for d in range(i.shape[1])], axis=2)

        for idx in _product_chunks([np.arange(len(p)) for p in projs], lambda i: self._fits(factors(i), slots, keep, stats),
                                   chunk):
            yield self._narrow(factors(idx).reshape(len(idx), len(slots), self.D))

    @staticmethod
    def _draw(projs: list[np.ndarray], sample: int, seed: int) -> np.ndarray:
        """``sample`` distinct rows of the product of ``projs`` (seeded), as factors (K, S_rest, D)."""
        rng = np.random.default_rng(seed)
        shape = tuple(len(p) for p in projs)
        if math.prod(shape) < 2**62:  # draw distinct positions in the product, without replacement
            idx = np.stack(np.unravel_index(rng.choice(math.prod(shape), sample, replace=False), shape), axis=1)
        else:  # beyond int64 positions: draw per dimension, keep the distinct rows
            idx = np.unique(np.stack([rng.integers(n, size=sample) for n in shape], axis=1), axis=0)
        return np.stack([p[idx[:, d]] for d, p in enumerate(projs)], axis=2)

    def rest_count(self) -> int:
        """The product of the per-dimension choices below level 1's temporal loops: what
        ``rests`` enumerates before the fanout and capacity pruning."""
        return math.prod(len(p) for p in self._rest_projections()) if self.rest_start is not None else 1

    def _rest_projections(self) -> list[np.ndarray]:
        if self._projections is None:
            self._projections = [np.unique(o[:, self.rest_start:], axis=0) for o in self.options]
        return self._projections

    @property
    def rest_start(self) -> int | None:
        """Index of the first slot below level 1's temporal loops (None without a level 1)."""
        return self.slots.index((1, TEMPORAL)) + 1 if self.L > 1 else None

    def split_rests(self, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rest choices (K, S_rest, D) -> the level-1 fanout factors (K, D) and the level-2 tile (K, D),
        in the rests' dtype (their products divide the sizes, so they fit it: half the memory of
        int64 where the rests are narrowed)."""
        spatial = np.ones((len(rest), self.D), rest.dtype)
        box = np.ones((len(rest), self.D), rest.dtype)
        for s, (l, _) in enumerate(self.slots[self.rest_start or 0:]):
            if l == 1:
                spatial *= rest[:, s]
            else:
                box *= rest[:, s]
        return spatial, box

    def _compressed(self, lv, role: str, values: np.ndarray) -> np.ndarray:
        """A tile's values as the model's occupancy counts its data: the nonzeros the level's
        ``sparse.occupancy`` rule reserves (expected: ceil(values * density)) where the level keeps
        the tensor in a compressed format (model.sparse, rule 4), else all of them."""
        tensor = self.problem.tensor(role)
        density = tensor.density
        if density is None or lv.sparse is None or lv.sparse.format_of(role) not in ("bitmask", "rle", "cp"):
            return values
        return density.occupancy_bound(values, self.problem.size(tensor), lv.sparse.occupancy, lv.sparse.occupancy_quantile)

    def _capacity_ok(self, l: int, box: np.ndarray, keep: np.ndarray, stats: dict | None) -> np.ndarray:
        lv = self.arch.levels[l]
        d = box.shape[1]
        # in words at the stored widths (outputs at theirs, not the wider partial sums': a relaxation);
        # a tensor in a compressed format at least its expected nonzeros (metadata left out: a relaxation)
        tiles = [lv.words_for(self._compressed(lv, r, np.prod((box - 1) @ c[:, :d].T + 1, axis=1)), self.problem.tensor(r).bits)
                 if keep[t] else None for t, (c, r) in enumerate(zip(self.coef, ROLES))]  # the tensors kept here only
        if lv.partitions is not None:
            ok = np.ones(len(box), bool)
            for t, r in enumerate(ROLES):
                if keep[t]:
                    cap = lv.capacity_of(r)
                    bad = tiles[t] > cap
                    ok &= ~bad
                    _note(stats, f"{lv.name} ({r} partition, {cap} words)", tiles[t][bad])
            return ok
        if lv.capacity_words is None:
            return np.ones(len(box), bool)
        cap = lv.capacity_of(ROLES[0])
        used = sum(tiles[t] for t in range(len(ROLES)) if keep[t])
        used = used if isinstance(used, np.ndarray) else np.zeros(len(box), np.int64)
        _note(stats, f"{lv.name} ({cap} words)", used[used > cap])
        return used <= cap

    # ----- loop orders --------------------------------------------------------------------
    def order_classes(self, l: int, active: tuple[bool, ...], keep: np.ndarray) -> np.ndarray:
        """Representative full permutations (n, D) of level ``l``'s order classes, outer -> inner."""
        below = tuple(keep[l + 1:].any(axis=0).tolist())  # per tensor: kept by some level below
        return _order_classes(self.relevance, self.partial_order[l], tuple(active), below)

    # ----- batches ------------------------------------------------------------------------
    def batch(self, idx: np.ndarray, perm: np.ndarray, keep: np.ndarray) -> MappingBatch:
        """MappingBatch of tilings ``idx`` (K, D), orders ``perm`` (K, L, D) and one ``keep`` (L, 3)."""
        return self.assemble(self.factors(idx), perm, keep)

    def assemble(self, f: np.ndarray, perm: np.ndarray, keep: np.ndarray) -> MappingBatch:
        """MappingBatch of tilings given as factors ``f`` (K, S, D) over ``self.slots``."""
        K = len(f)
        temporal = np.ones((K, self.L, self.D), np.int64)
        spatial = np.ones((K, self.L, 2, self.D), np.int64)
        for s, (l, axis) in enumerate(self.slots):
            if axis == TEMPORAL:
                temporal[:, l] = f[:, s]
            else:
                spatial[:, l, axis - 1] = f[:, s]
        return MappingBatch(temporal, perm, spatial, np.broadcast_to(keep, (K,) + keep.shape).copy())


def _product(choices: list[np.ndarray], check) -> np.ndarray:
    """Cartesian product of per-dimension choices (K, D), filtered by ``check`` after each
    dimension (sound when ``check`` is monotone: a partial row that fails never passes later)."""
    idx = np.zeros((1, 0), np.int64)
    for ch in choices:
        k = len(ch)
        parts = []
        step = max(1, CHUNK // max(k, 1))
        for a in range(0, len(idx), step):
            block = idx[a:a + step]
            grown = np.concatenate([np.repeat(block, k, axis=0), np.tile(ch, len(block))[:, None]], axis=1)
            parts.append(grown if check is None else grown[check(grown)])
        idx = np.concatenate(parts) if parts else np.zeros((0, idx.shape[1] + 1), np.int64)
    return idx


def _product_chunks(choices: list[np.ndarray], check, chunk: int):
    """``_product(choices, check)`` in chunks of at least ``chunk`` rows (the last may be
    smaller), in the same order, built depth first: one pending block of at most ``chunk`` rows
    per dimension is held, never a whole dimension's rows."""
    stack, out, n = [np.zeros((1, 0), np.int64)], [], 0
    while stack:
        idx = stack.pop()
        d = idx.shape[1]
        if len(idx) == 0:
            continue
        if d == len(choices):
            out.append(idx)
            n += len(idx)
            if n >= chunk:
                yield np.concatenate(out)
                out, n = [], 0
            continue
        ch = choices[d]
        step = max(1, chunk // max(len(ch), 1))
        if len(idx) > step:
            stack.append(idx[step:])  # the rest of this block, after the first part's subtree
            idx = idx[:step]
        grown = np.concatenate([np.repeat(idx, len(ch), axis=0), np.tile(ch, len(idx))[:, None]], axis=1)
        stack.append(grown[check(grown)])
    if out:
        yield np.concatenate(out)


def _note(stats: dict | None, key: str, overflow: np.ndarray) -> None:
    if stats is not None and len(overflow):
        stats[key] = min(stats.get(key, overflow.min()), int(overflow.min()))


@lru_cache(maxsize=4096)
def _order_classes(relevant: tuple[tuple[bool, ...], ...], partial: tuple[int, ...], active: tuple[bool, ...],
                   below: tuple[bool, ...]) -> np.ndarray:
    D = len(active)
    act = [d for d in range(D) if active[d]]
    listed = [d for d in partial if active[d]]
    rest = [d for d in range(D) if not active[d]]
    best: dict[tuple, tuple[int, ...]] = {}
    for order in permutations(act):
        if [d for d in order if d in listed] != listed:
            continue  # violates the constrained relative order
        sig = []
        for t, rel in enumerate(relevant):
            if not below[t]:
                continue  # no keeper of t below this level: its order cannot matter for t
            pos = [i for i, d in enumerate(order) if rel[d]]
            inner = frozenset(order[pos[-1] + 1:]) if pos else frozenset(order)
            sig.append((order[pos[-1]] if pos else -1, inner))
        best.setdefault(tuple(sig), tuple(order))
    sigs = list(best)
    keep = [s for s in sigs if not any(_dominates(o, s) for o in sigs if o != s)]
    return np.array([list(best[s]) + rest for s in keep], np.int64).reshape(-1, D)


def _dominates(a: tuple, b: tuple) -> bool:
    """Order class a is never worse than b: same innermost relevant loops, superset of reuse."""
    return all(x[0] == y[0] and x[1] >= y[1] for x, y in zip(a, b))
