"""The pair floor of the exact search (docs/mapper.md, "Level by level"): ``InsideFloor`` bounds the
traffic into level 2 of (outer, rest) pairs from below, over the rest choices of a bypass choice
grouped by their union tile (``RestGroups``), so pairs that cannot beat the best cost found are
never evaluated. The other floors it combines with are in ``bounds``."""

from __future__ import annotations

import numpy as np

from loopnest.mapping.mapspace import Mapspace
from loopnest.search.arrays import unique_rows
from loopnest.search.bounds import (
    _delta,
    _fill_prices,
    _least_delta,
    _own_pass,
    _signature,
    _tile,
    _touched,
    divides,
    floor_prices,
    sibling_keepers,
)
from loopnest.search.rest_bounds import deep_floor
from loopnest.workload.problem import ROLES

PARTS_BYTES = 32 << 20  # per InsideFloor and per RestGroups, the cached order-signature parts (recomputed beyond)


class RestGroups:
    """The rest choices of a bypass choice, split into the level-1 fanout factors ``spatial`` and
    the level-2 tile ``box2``, and grouped by their union tile ``spatial * box2`` (rests with
    one union tile make the same level-1 loops: group g holds ``members[starts[g]:ends[g]]``).
    Bypass choices with the same rests share one, and with it the rest-only quantities
    ``memo`` keeps (tiles, footprints, sliding steps) and the rest-only factors of the inside
    floors ``shared`` keeps (within ``PARTS_BYTES``)."""

    def __init__(self, space: Mapspace, rest: np.ndarray):
        self.rest = rest  # for the deep floors of InsideFloor's sibling keepers
        self.spatial, self.box2 = space.split_rests(rest)
        self.union = self.spatial * self.box2
        self.n_inst = np.prod(self.spatial, axis=-1).astype(float)
        self.unions, self.group = unique_rows(self.union)
        self.members = np.argsort(self.group, kind="stable")  # rests sorted by group
        self.starts = np.searchsorted(self.group[self.members], np.arange(len(self.unions)))
        self.ends = np.append(self.starts[1:], len(self.members))
        self._memo: dict = {}
        self._shared: dict = {}
        self._shared_bytes = 0

    def per_group(self, x: np.ndarray, how=np.minimum) -> np.ndarray:
        """Per rest group, the least (or with ``how``, e.g. the most) of a per-rest array (..., K)."""
        return how.reduceat(x[..., self.members], self.starts, axis=-1)

    def memo(self, key, make, *args):
        """``make(*args)``, computed once per key."""
        if key not in self._memo:
            self._memo[key] = make(*args)
        return self._memo[key]

    def shared(self, key, make, *args) -> dict:
        """``make(*args)`` (a dict of arrays), computed once per key while the arrays kept stay
        within ``PARTS_BYTES`` (bounded memory: what was dropped is recomputed when needed)."""
        if key not in self._shared:
            value = make(*args)
            size = sum(v.nbytes for v in value.values() if isinstance(v, np.ndarray))
            if self._shared_bytes + size > PARTS_BYTES:
                self._shared.clear()
                self._shared_bytes = 0
            self._shared[key] = value
            self._shared_bytes += size
        return self._shared[key]


class InsideFloor:
    """Energy floor of the traffic into level 2 for (outer, rest) pairs: the outer choice fixes
    the outermost loops ``outer0`` and the level-1 tile ``box1``, the rest choice (``groups``) the
    level-1 fanout split ``spatial`` and the level-2 tile ``box2``, and with them the level-1
    loops ``box1 / (spatial * box2)``.

    A tensor's fills of level 2 are set by the order of the level holding its innermost relevant
    loop above level 2: level 1 if it has a relevant loop, else level 0 (the tensor passes
    through level 1's loops, all of which reuse it). For each of the two levels, the floor takes
    the least over that level's order classes of the sum over the tensors it sets of what the
    model charges under that class: the tile is fetched once per pass of the innermost relevant
    loop ``d1`` for every iteration of the loops outside it (at level 1, every outermost
    iteration included), each pass fetching the whole tile and then a sliding window's new part
    per step (its step taken at its least, the d1 extent of the union tile); never less than each
    instance's footprint once. Psums add their read-backs from the parent and their refills
    (every version of an element after its first). Every factor is a product of an outer-only
    and a rest-only part, computed once per class signature, so a pair costs a few gathers.

    Rests with the same union tile ``spatial * box2`` make the same level-1 loops; ``groups=True``
    prices a group with the least of its members' rest-only parts (the floor grows with each of
    them, and falls with ``firsts``, taken at its most): a floor of every member, to prune whole
    groups before their members are priced.

    ``credit`` (per rest, pJ) is added to every pair of that rest: the floors that depend on the
    rest alone (``rest_bounds.RestFloor``).

    *Sibling keepers* (``sibling_keepers``): a tensor without a sliding window whose first keeper
    below level 1 is a level c >= 3 with no fanout at levels 2..c-1 is priced as if kept at
    level 2 (with level c's write price): its tile there is the level-2 tile over the relevant
    loops of levels 2..c-1, and the model fetches it at least as often as such a level-2 keeper
    would (every loop above the level-2 one is above c, and c's innermost relevant loop is at or
    below the level-2 one's). ``credit`` already holds ``deep_floor`` of that transfer, a floor of
    the same traffic, so the pair floor adds only what this floor exceeds it by (never a sum of
    two floors of one count).
    """

    def __init__(self, space: Mapspace, keep: np.ndarray, outer0: np.ndarray, box1: np.ndarray, groups: RestGroups,
                 credit: np.ndarray):
        self.space, self.keep, self.outer0, self.box1, self.groups = space, keep, outer0, box1, groups
        self.sizes = space.sizes
        self.spatial, self.box2, self.union, self.n_inst = groups.spatial, groups.box2, groups.union, groups.n_inst
        self.p0 = space.problem.macs / np.prod(box1, axis=-1).astype(float)  # iterations of the outermost loops
        self.kept = [t for t in range(len(ROLES)) if keep[2, t]]
        self.deeper = sibling_keepers(space, keep)  # tensor -> its keeper below level 2, priced as at level 2
        self.tensors = self.kept + list(self.deeper)
        active = {0: (outer0 > 1).any(axis=0), 1: (self.union < self.sizes).any(axis=0)}  # loops that can exist
        self.sigs = {l: list(dict.fromkeys(tuple(_signature(space.coef[t], perm, tuple(bool(a) for a in active[l]))
                                                 for t in self.tensors)
                                           for perm in space.order_classes(l, tuple(bool(a) for a in active[l]), keep)))
                     for l in (0, 1)}  # classes the floor cannot tell apart counted once
        self.parts: dict = {}  # (tensor, signature, level, groups) -> outer-only and rest-only factors
        self._bytes = 0  # held by self.parts (at most PARTS_BYTES)
        self.cache: dict = {}  # tensor -> its order-free parts
        self.credit = credit
        self.group_credit = groups.per_group(credit)
        self.grid_parts: dict = {}  # bypass -> ``grid``'s per-group parts

    def __call__(self, oi: np.ndarray, ri: np.ndarray, groups: bool = False) -> np.ndarray:
        """Floor (n,) of the pairs (outer ``oi``, rest ``ri``), or of (outer, group ``ri``)."""
        out = (self.group_credit if groups else self.credit)[ri]
        through = {}  # per tensor: no relevant level-1 loop, so level 0's order sets its fills
        for t in self.tensors:
            q = self._part(t, (-1, ()), 1, groups)
            through[t] = q["rel_outer"][oi] == q["rel_union"][ri]
        for level in (0, 1):
            sets = [t for t in self.tensors if (through[t] if level == 0 else ~through[t]).any()]
            if not sets:
                continue
            cache: dict = {}
            least = None
            for sig in self.sigs[level]:
                total = 0.0
                for t, s in zip(self.tensors, sig):
                    if t in sets:
                        if (t, s) not in cache:
                            e = self._energy(t, s, level, oi, ri, groups)
                            cache[(t, s)] = np.where(through[t] if level == 0 else ~through[t], e, 0.0)
                        total = total + cache[(t, s)]
                least = total if least is None else np.minimum(least, total)
            out = out + least
        return out

    def _energy(self, t: int, sig: tuple, level: int, oi: np.ndarray, ri: np.ndarray, groups: bool) -> np.ndarray:
        """Energy floor of tensor ``t``'s traffic into level 2 when ``level``'s order, of
        signature ``sig``, sets its fills."""
        q = self._part(t, sig, level, groups)
        if sig[0] < 0:  # no relevant loop: the tile is fetched once
            own, shared = q["own_pass"][ri], q["shared_pass"][ri]
        else:  # passes * (delta + (tile - delta) / bound of d1), split into outer and rest factors
            a, b = q["passes"][oi], q["step"][oi]
            own = np.maximum(a * (q["own0"][ri] + q["own1"][ri] * b), q["own_pass"][ri])
            shared = np.maximum(a * (q["sh0"][ri] + q["sh1"][ri] * b), q["shared_pass"][ri]) if q["folds"] else own
        e = shared * q["e_src"] + own * q["e_own"]
        if ROLES[t] == "outputs":
            refills = np.maximum(0.0, own - q["firsts"][ri])  # per instance: every version but the first
            readbacks = np.maximum(0.0, shared - q["size"]) if q["folds"] else refills  # the parent serves them
            e = e + readbacks * q["e_read"] + refills * q["e_refill"]
        if t not in self.deeper:
            return e
        # a sibling keeper: less what ``mac_floor`` charges (each element once from level 0 where
        # level 1 bypasses it) and what ``credit`` holds of it (its deep floor), kept 1e-9 low (rounding)
        e = e - (0.0 if self.keep[1, t] else q["size"] * q["e_src"])
        transfer = (t, 1 if self.keep[1, t] else 0, self.deeper[t])  # (tensor, parent, keeper): the rests' groups
        deep = self.groups.memo(("deep", transfer, groups), self._deep, transfer, groups)  # are shared by bypass choices
        return np.maximum(0.0, e * (1 - 1e-9) - deep[ri])

    def _deep(self, transfer: tuple[int, int, int], groups: bool) -> np.ndarray:
        """``deep_floor`` of a sibling keeper's transfer per rest (per group: the most of its members')."""
        deep = deep_floor(self.space, (transfer,), self.groups.rest)
        return self.groups.per_group(deep, np.maximum) if groups else deep

    def _part(self, t: int, sig: tuple, level: int, groups: bool) -> dict:
        key = (t, sig, level, groups)
        if key not in self.parts:
            fixed = self._tensor(t)
            q = {**fixed, **self._outer_factors(sig, level),
                 **self.groups.shared((t, sig, level, groups, fixed["folds"]), self._rest_factors, t, sig, level, groups,
                                      fixed)}
            size = sum(v.nbytes for v in q.values() if isinstance(v, np.ndarray))
            if self._bytes + size > PARTS_BYTES:  # bounded memory: recompute what was dropped when needed again
                self.parts.clear()
                self._bytes = 0
            self.parts[key] = q
            self._bytes += size
        return self.parts[key]

    def _outer_factors(self, sig: tuple, level: int) -> dict:
        """The outer-only factors of a tensor's fills under signature ``sig`` of ``level``'s order:
        the passes of its innermost relevant loop ``d1`` and the inverse of d1's bound."""
        d1, outside = sig
        if d1 < 0:
            return {}
        out = list(outside)
        if level == 1:  # the loops' bounds are box1 / union: outer part times rest part (``_rest_factors``)
            return {"passes": self.p0 * np.prod(self.box1[:, out], axis=-1), "step": 1.0 / self.box1[:, d1]}
        return {"passes": np.prod(self.outer0[:, out], axis=-1).astype(float), "step": 1.0 / self.outer0[:, d1]}

    def _rest_factors(self, t: int, sig: tuple, level: int, groups: bool, fixed: dict) -> dict:
        """The rest-only factors of tensor ``t``'s fills under signature ``sig`` (with ``groups``,
        per rest group the least of its members', ``firsts`` the most): they depend on the rests and
        on whether the level-1 fanout folds the tensor alone, so the bypass choices sharing the rests
        share them (``RestGroups.shared``)."""
        q = {k: fixed[k] for k in ("own_pass", "shared_pass", "firsts", "rel_union")}
        d1, outside = sig
        if d1 >= 0:
            out = list(outside)
            d2, du = self._deltas(t, d1)
            inv, u1 = (1.0 / np.prod(self.union[:, out], axis=-1), self.union[:, d1]) if level == 1 else (1.0, 1.0)
            q.update(own0=self.n_inst * d2 * inv, own1=self.n_inst * (fixed["tile2"] - d2) * u1 * inv,
                     sh0=du * inv, sh1=(fixed["tileu"] - du) * u1 * inv)
        if groups:
            q = {k: self.groups.per_group(v, np.maximum if k == "firsts" else np.minimum) for k, v in q.items()}
        return q

    def _tensor(self, t: int) -> dict:
        """A tensor's parts that no order signature changes."""
        if t not in self.cache:
            self.cache[t] = self._fixed(t)
        return self.cache[t]

    def _fixed(self, t: int) -> dict:
        keep, role = self.keep, ROLES[t]
        pr = floor_prices(self.space)
        child = self.deeper.get(t, 2)
        folds, e_src, e_own = _fill_prices(self.space, keep, t, child)
        q = self.groups.memo(t, self._rest_only, t)
        return {**q, "folds": folds, "shared_pass": np.full(len(q["own_pass"]), q["size"]) if folds else q["own_pass"],
                "e_src": e_src, "e_own": e_own,
                "e_read": pr.energy(1 if keep[1, t] else 0, role, "read"),
                "e_refill": pr.energy(child, role, "write") + pr.network[1, t],
                "rel_outer": np.prod(np.where(q["rel"], self.box1, 1), axis=-1)}

    def _rest_only(self, t: int) -> dict:
        """A tensor's parts that depend on the rests alone."""
        coef = self.space.coef[t]
        rel = (coef > 0).any(axis=0)
        size = float(_touched(coef, self.sizes))
        return {"rel": rel, "size": size,
                "own_pass": _own_pass(coef, self.sizes, self.spatial),  # each instance's footprint
                "firsts": size * np.prod(np.where(rel, 1, self.spatial), axis=-1),  # instances sharing an element
                "rel_union": np.prod(np.where(rel, self.union, 1), axis=-1),
                "tile2": _tile(coef, self.box2).astype(float), "tileu": _tile(coef, self.union).astype(float)}

    def _deltas(self, t: int, d1: int) -> tuple[np.ndarray, np.ndarray]:
        """Words one step of loop ``d1`` brings into the level-2 tile and into the union tile."""
        coef = self.space.coef[t]
        return (self.groups.memo((t, d1), _delta, coef, self.box2, self.union, d1),
                self.groups.memo((t, d1, "u"), _delta, coef, self.union, self.union, d1))

    def rows(self, bypass: bool = True, at: np.ndarray | None = None) -> np.ndarray:
        """Per outer choice (R,), a floor of the pair floor over every rest dividing its level-1
        tile: the least over the rest groups of ``grid``. ``bypass=False`` leaves out the level-0
        reads of tensors that bypass level 1 (for use with ``bypass_floor``); ``at`` picks outer
        choices (default: all)."""
        at = np.arange(len(self.box1)) if at is None else at
        out = np.full(len(at), np.inf)
        step = max(1, (1 << 22) // max(1, len(self.groups.unions)))  # bounded memory: (rows, groups) at a time
        for a in range(0, len(at), step):
            out[a:a + step] = self.grid(bypass, at[a:a + step]).min(axis=1)
        return out

    def grid(self, bypass: bool, at: np.ndarray) -> np.ndarray:
        """(len(at), G) per outer choice ``at`` and rest group, a floor of the pair floor of every
        member dividing the outer choice's level-1 tile (inf where none divides); cheaper and
        looser: each tensor's most favourable level-1 loop, the sliding-window term at its least
        over all relevant dimensions, no read-backs, the members priced with the least of their
        parts. ``bypass``: as in ``rows``."""
        box1 = self.box1[at]
        if bypass not in self.grid_parts:
            self.grid_parts[bypass] = self._grid_parts(bypass)
        A, F, RU = self.grid_parts[bypass]
        fits = divides(box1, self.groups.unions, self.sizes)
        p0 = self.space.problem.macs / np.prod(box1, axis=-1)
        f32 = np.float32  # the matrices in single precision (twice as fast), the result lowered by
        lb = np.repeat(self.group_credit[None].astype(f32), len(box1), axis=0)  # far more than its rounding
        for i, t in enumerate(self.kept):  # error (~1e-6) to stay a floor
            rb = self._tensor(t)["rel_outer"][at].astype(float)
            z = (p0 * rb).astype(f32)[:, None]
            lb += np.where(rb[:, None] > RU[i][None], z * A[i][None], F[i][None])
        return np.where(fits, lb, np.inf).astype(float) * (1 - 1e-4)

    def _grid_parts(self, bypass: bool) -> tuple:
        """``grid``'s per-group parts (T, G): the sliding-window and whole-tile terms (single
        precision) and the relevant extents of the union tiles."""
        A, F, RU = [], [], []
        for t in self.kept:
            q, coef = self._tensor(t), self.space.coef[t]
            e_src = q["e_src"] if bypass or self.keep[1, t] else 0.0
            ru = q["rel_union"].astype(float)
            own_y = self.n_inst * self.groups.memo(("least", t), _least_delta, coef, self.box2, self.union) / ru
            sh_y = self.groups.memo(("least_u", t), _least_delta, coef, self.union, self.union) / ru if q["folds"] else own_y
            A.append(e_src * sh_y + q["e_own"] * own_y)
            F.append(e_src * q["shared_pass"] + q["e_own"] * q["own_pass"])
            RU.append(ru)
        if not self.kept:
            return (), (), ()
        A, F, RU = (self.groups.per_group(np.stack(x)) for x in (A, F, RU))
        return A.astype(np.float32), F.astype(np.float32), RU
