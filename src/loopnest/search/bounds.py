"""Lower bounds of a mapping's energy from part of its choices (docs/mapper.md derives them).

Every bound here is below what the cost model charges for any completion of the partial
choice, so pruning by them never removes an optimum:

- ``mac_floor``: the MAC energy, the MAC operand reads from each operand's innermost keeper
  (at most one read per MAC per multicast instance), the psum read-backs (every update but the
  first write of an element in an instance), the network words they cross (one per MAC), plus the compulsory outermost traffic (each element once) of tensors whose first
  inner keeper lies below level 2 (the other tensors' outer traffic is bounded elsewhere).
- ``inside_floor``: the traffic into level 2 (from level 1, or from level 0 when level 1 is
  bypassed), given the level-1 tile (fixed by the outer choice), the level-1 fanout split and
  the level-2 tile (which fix the level-1 loops). With a relevant loop at level 1, every
  relevant level-1 loop refetches the tile and the innermost one fetches at least the sliding
  window's new part, per iteration of the outermost level (the order of the level-1 loops is
  left free: the least over the innermost loop is taken; irrelevant loops are assumed to reuse);
  without one, each instance fetches at least its footprint once.
"""

from __future__ import annotations

import numpy as np

from loopnest.mapping.mapspace import Mapspace
from loopnest.workload.problem import ROLES


def _tile(coef: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Halo-rule tile size over boxes (..., D)."""
    return np.prod((box - 1) @ coef.T + 1, axis=-1)


def _action(role: str) -> str:
    return "update" if role == "outputs" else "read"


def mac_floor(space: Mapspace, keep: np.ndarray) -> float:
    arch, problem = space.arch, space.problem
    macs = problem.macs
    floor = macs * (arch.compute.energy_pj or 0.0)
    for t, role in enumerate(ROLES):
        p = int(np.flatnonzero(keep[:, t])[-1])
        shared = 1
        for q in range(p, space.L):
            fan = arch.levels[q].fanout
            if fan is not None:
                if fan.multicast if role != "outputs" else fan.reduction:
                    shared *= fan.size
                floor += macs * (fan.energy_pj or 0.0)
        floor += macs / shared * arch.levels[p].energy_of(role, _action(role)) / arch.levels[p].block_words
        if role == "outputs":  # read-modify-write: every update but each instance's first write per element reads
            first = problem.size(problem.tensor(role)) * arch.instances(p)
            floor += max(0.0, macs / shared - first) * arch.levels[p].energy_of(role, "read") / arch.levels[p].block_words
        first = next((c for c in range(1, space.L) if keep[c, t]), None)  # None: the MACs read level 0
        bounded = first is None or first == 1 or (first == 2 and inside_applies(space))
        if not bounded:
            floor += problem.size(problem.tensor(role)) * arch.levels[0].energy_of(role, _action(role)) / arch.levels[0].block_words
    return floor


def inside_applies(space: Mapspace) -> bool:
    """``inside_floor`` needs three levels and no fanout on the outermost one."""
    return space.L >= 3 and space.arch.levels[0].fanout is None


class InsideFloor:
    """Energy floor of the traffic into level 2 for (outer, rest) pairs: the outer choice fixes
    the level-1 tile ``box1``, the rest choice the level-1 fanout split ``spatial`` and the
    level-2 tile ``box2``, and with them the level-1 loops ``box1 / (spatial * box2)``.

    The floor is the least, over the level-1 order classes, of the sum over tensors of what the
    model charges under that class: with a relevant level-1 loop, the tile is fetched once per
    pass of the innermost relevant loop ``d1`` for every iteration of the loops outside it (all
    outermost-level iterations included), each pass fetching the whole tile and then a sliding
    window's new part per step; without one, each instance fetches at least its footprint once.
    Psums add their read-backs from the parent and their refills (every version of an element
    after its first). Every factor is a product of an outer-only and a rest-only part, so the
    rest-only parts are computed once (per class signature) and pairs cost a few gathers.
    """

    def __init__(self, space: Mapspace, keep: np.ndarray, spatial: np.ndarray, box2: np.ndarray):
        self.space, self.keep = space, keep
        problem = space.problem
        self.sizes = np.array([problem.dims[d] for d in space.dims], np.int64)
        self.union = spatial * box2
        active = tuple(bool(a) for a in (self.union < self.sizes).any(axis=0))  # level-1 loops that can exist
        self.kept = [t for t in range(len(ROLES)) if keep[2, t]]
        self.sigs = [[_signature(space.coef[t], perm, active) for t in self.kept]
                     for perm in space.order_classes(1, active, keep)]
        n_inst = np.prod(spatial, axis=-1).astype(float)
        self.rest = {}  # per tensor: rest-only arrays
        for t in self.kept:
            coef = space.coef[t]
            rel = (coef > 0).any(axis=0)
            own_pass = n_inst * _tile(coef, self.sizes // spatial)
            self.rest[t] = dict(
                n_inst=n_inst, tile2=_tile(coef, box2).astype(float), tileu=_tile(coef, self.union).astype(float),
                delta2={d: _delta(coef, box2, self.union, d) for d in np.flatnonzero(rel)},
                deltau={d: _delta(coef, self.union, self.union, d) for d in np.flatnonzero(rel)},
                rel_union=np.prod(np.where(rel, self.union, 1), axis=-1),
                own_pass=own_pass, replicas=np.prod(np.where(rel, 1, spatial), axis=-1).astype(float))

    def __call__(self, box1: np.ndarray, oi: np.ndarray, ri: np.ndarray) -> np.ndarray:
        """Floor (n,) of the pairs (``box1[oi]``, rest ``ri``); ``box1`` (R, D) outer tiles."""
        if not self.kept:
            return np.zeros(len(oi))
        p0 = self.space.problem.macs / np.prod(box1, axis=-1).astype(float)
        cache: dict = {}
        out = None
        for sig in self.sigs:
            total = 0.0
            for t, s in zip(self.kept, sig):
                if (t, s) not in cache:
                    cache[(t, s)] = self._tensor(t, s, box1, p0, oi, ri)
                total = total + cache[(t, s)]
            out = total if out is None else np.minimum(out, total)
        return out

    def _tensor(self, t: int, sig: tuple, box1, p0, oi, ri) -> np.ndarray:
        space, keep, r = self.space, self.keep, self.rest[t]
        arch, problem = space.arch, space.problem
        role, coef = ROLES[t], space.coef[t]
        size = float(problem.size(problem.tensor(role)))
        fan = arch.levels[1].fanout
        net = (fan.energy_pj or 0.0) if fan is not None else 0.0
        folds = fan is not None and (fan.reduction if role == "outputs" else fan.multicast)
        own_pass = r["own_pass"][ri]
        shared_pass = np.full(len(ri), size) if folds else own_pass
        d1, outside = sig
        if d1 < 0:
            own, shared = own_pass, shared_pass
        else:
            rel = (coef > 0).any(axis=0)
            passes = (p0 * np.prod(box1[:, list(outside)], axis=-1))[oi] / np.prod(self.union[:, list(outside)], axis=-1)[ri]
            step = self.union[ri, d1] / box1[oi, d1]  # 1 / (the bound of loop d1)
            d2, du = r["delta2"][d1][ri], r["deltau"][d1][ri]
            own = passes * r["n_inst"][ri] * (d2 + (r["tile2"][ri] - d2) * step)
            shared = passes * (du + (r["tileu"][ri] - du) * step) if folds else own
            through = np.prod(np.where(rel, box1, 1), axis=-1)[oi] == r["rel_union"][ri]  # no relevant level-1 loop
            own, shared = np.where(through, own_pass, own), np.where(through, shared_pass, shared)
        src = arch.levels[1 if keep[1, t] else 0]
        e = shared * src.energy_of(role, _action(role)) / src.block_words + own * net
        if role != "outputs":
            return e + own * arch.levels[2].energy_of(role, "write") / arch.levels[2].block_words
        refills = np.maximum(0.0, own - size * r["replicas"][ri])  # per instance: all versions but the first
        readbacks = refills if not folds else np.maximum(0.0, shared - size)  # the parent serves the refills
        return (e + readbacks * src.energy_of(role, "read") / src.block_words
                + refills * (arch.levels[2].energy_of(role, "write") / arch.levels[2].block_words + net))


def _signature(coef: np.ndarray, perm: np.ndarray, active: tuple[bool, ...]) -> tuple[int, tuple[int, ...]]:
    """A tensor's view of a level-1 order (outer -> inner): its innermost relevant loop (-1 if
    none) and the loops outside it, that loop included."""
    rel = (coef > 0).any(axis=0)
    loops = [int(d) for d in perm if active[d]]
    pos = [i for i, d in enumerate(loops) if rel[d]]
    return (loops[pos[-1]], tuple(loops[:pos[-1] + 1])) if pos else (-1, ())


def _delta(coef: np.ndarray, box: np.ndarray, reach: np.ndarray, d: int) -> np.ndarray:
    """Words one step of a loop over dimension ``d`` brings into a ``box`` tile: a sliding
    window's new part (its step is ``reach``, the d extent below level 1), else the whole tile."""
    ext = (box - 1) @ coef.T + 1  # (..., A)
    tile = np.prod(ext, axis=-1)
    if (coef[:, d] > 0).sum() != 1:
        return tile.astype(float)
    a = int(np.argmax(coef[:, d] > 0))
    return (tile // ext[..., a] * np.minimum(ext[..., a], coef[a, d] * reach[..., d])).astype(float)


def inside_floor_rows(space: Mapspace, keep: np.ndarray, box1: np.ndarray) -> np.ndarray:
    """Per outer choice (level-1 tiles ``box1`` (R, D)), a floor of ``inside_floor`` over every
    inner choice dividing it; cheaper and looser: the sliding-window term is taken at its least
    over all relevant dimensions, which makes the bound a product of a row factor and an inner
    factor, so inner choices dominated in every factor are dropped first."""
    arch, problem = space.arch, space.problem
    spatial, box2 = space.inside(keep)
    if len(spatial) == 0:
        return np.full(len(box1), np.inf)
    sizes = np.array([problem.dims[d] for d in space.dims], np.int64)
    union = spatial * box2
    n_inst = np.prod(spatial, axis=-1).astype(float)
    fan = arch.levels[1].fanout
    net = (fan.energy_pj or 0.0) if fan is not None else 0.0
    kept = [t for t in range(len(ROLES)) if keep[2, t]]
    A, F, RU, RB = [], [], [], []
    for t in kept:
        role, coef = ROLES[t], space.coef[t]
        rel = (coef > 0).any(axis=0)
        src = arch.levels[1 if keep[1, t] else 0]
        e_src = src.energy_of(role, _action(role)) / src.block_words
        e_own = net + (0.0 if role == "outputs" else arch.levels[2].energy_of(role, "write") / arch.levels[2].block_words)
        ru = np.prod(np.where(rel, union, 1), axis=-1).astype(float)
        own_y = n_inst * _least_delta(coef, box2, union) / ru
        own_f = n_inst * _tile(coef, sizes // spatial)
        if fan is not None and (fan.reduction if role == "outputs" else fan.multicast):
            sh_y, sh_f = _least_delta(coef, union, union) / ru, np.full(len(ru), float(problem.size(problem.tensor(role))))
        else:
            sh_y, sh_f = own_y, own_f
        A.append(e_src * sh_y + e_own * own_y)
        F.append(e_src * sh_f + e_own * own_f)
        RU.append(ru)
        RB.append(np.prod(np.where(rel, box1, 1), axis=-1).astype(float))
    if not kept:
        return np.zeros(len(box1))
    A, F, RU, RB = (np.stack(x) for x in (A, F, RU, RB))  # (T, K) and RB (T, R)
    p0 = problem.macs / np.prod(box1, axis=-1)
    groups, inv = np.unique(union, axis=0, return_inverse=True)
    inv = inv.ravel()
    cols = []  # per group, the inner choices not dominated in every factor
    for g in range(len(groups)):
        members = np.flatnonzero(inv == g)
        feats = np.concatenate([A[:, members], F[:, members]]).T  # (n, 2T)
        worse = (feats[:, None, :] >= feats[None, :, :]).all(axis=2) & (feats[:, None, :] > feats[None, :, :]).any(axis=2)
        cols.append(members[~worse.any(axis=1)])
    owner = np.concatenate([np.full(len(c), g) for g, c in enumerate(cols)])
    cols = np.concatenate(cols)
    out = np.full(len(box1), np.inf)
    step = max(1, (1 << 22) // max(1, len(cols) * space.D))
    for a in range(0, len(box1), step):
        b1 = box1[a:a + step]
        divides = (b1[:, None, :] % groups[None, :, :] == 0).all(axis=2)[:, owner]  # (r, cols)
        lb = np.zeros(divides.shape)
        for i in range(len(kept)):
            z = (p0[a:a + step] * RB[i, a:a + step])[:, None]
            lb += np.where(RB[i, a:a + step][:, None] > RU[i, cols][None], z * A[i, cols][None], F[i, cols][None])
        out[a:a + step] = np.where(divides, lb, np.inf).min(axis=1)
    return out


def _least_delta(coef: np.ndarray, box: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """Least, over the relevant dimensions, of the words one step of that loop fetches into a
    ``box`` tile (the whole tile, or a sliding window's new part)."""
    ext = (box - 1) @ coef.T + 1
    tile = np.prod(ext, axis=-1)
    single = (coef > 0).sum(axis=0) == 1
    least = tile.astype(float)
    for d in np.flatnonzero((coef > 0).any(axis=0)):
        if single[d]:
            a = int(np.argmax(coef[:, d] > 0))
            least = np.minimum(least, tile // ext[..., a] * np.minimum(ext[..., a], coef[a, d] * reach[..., d]))
    return least
