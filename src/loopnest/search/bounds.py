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


def _fetch_floor(coef: np.ndarray, box: np.ndarray, t1: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """Least words of one tensor fetched per outermost iteration into a ``box`` tile, given the
    level-1 loops ``t1`` (..., D): every relevant level-1 loop refetches except the innermost one
    ``d1``, which fetches only a sliding window's new part (the model's delta rule, with the
    window's step ``reach`` = the d1 extent below level 1). Minimized over the choice of d1."""
    rel = (coef > 0).any(axis=0)
    single = (coef > 0).sum(axis=0) == 1
    ext = (box - 1) @ coef.T + 1  # (..., A)
    tile = np.prod(ext, axis=-1)
    relevant = np.prod(np.where(rel, t1, 1), axis=-1)
    best = np.full(tile.shape, np.inf)
    for d in np.flatnonzero(rel):
        b1 = np.maximum(t1[..., d], 1)  # t1 is 0 where the inner choice does not divide the tile (masked by callers)
        delta = tile
        if single[d]:
            a = int(np.argmax(coef[:, d] > 0))
            delta = tile // ext[..., a] * np.minimum(ext[..., a], coef[a, d] * reach[..., d])
        best = np.where(b1 > 1, np.minimum(best, (tile + (b1 - 1) * delta) / b1), best)
    return np.where(relevant > 1, relevant * np.where(np.isinf(best), 0, best), np.nan)  # nan: no relevant level-1 loop


def inside_floor(space: Mapspace, keep: np.ndarray, box1: np.ndarray, spatial: np.ndarray, box2: np.ndarray) -> np.ndarray:
    """Energy floor of the fetches into level 2; arrays broadcast over leading axes, last axis D."""
    arch, problem = space.arch, space.problem
    sizes = np.array([problem.dims[d] for d in space.dims], np.int64)
    p0 = problem.macs / np.prod(box1, axis=-1)  # iterations of the outermost level's loops
    n_inst = np.prod(spatial, axis=-1)
    union = spatial * box2
    t1 = box1 // union  # the level-1 temporal loops
    fan = arch.levels[1].fanout
    net = (fan.energy_pj or 0.0) if fan is not None else 0.0
    total = np.zeros(np.broadcast_shapes(p0.shape, n_inst.shape))
    for t, role in enumerate(ROLES):
        if not keep[2, t]:
            continue
        coef = space.coef[t]
        per = _fetch_floor(coef, box2, t1, union)
        own = n_inst * np.where(np.isnan(per), _tile(coef, sizes // spatial), p0 * np.nan_to_num(per))
        if fan is not None and (fan.reduction if role == "outputs" else fan.multicast):
            per_u = _fetch_floor(coef, union, t1, union)
            shared = np.where(np.isnan(per_u), problem.size(problem.tensor(role)), p0 * np.nan_to_num(per_u))
        else:
            shared = own
        src = arch.levels[1 if keep[1, t] else 0]
        e = shared * src.energy_of(role, _action(role)) / src.block_words
        if role == "outputs":
            e = e + own * net  # fills at level 2 are psum refills: their floor is 0
        else:
            e = e + own * (arch.levels[2].energy_of(role, "write") / arch.levels[2].block_words + net)
        total = total + e
    return total


def inside_floor_rows(space: Mapspace, keep: np.ndarray, box1: np.ndarray) -> np.ndarray:
    """Per outer choice (level-1 tiles ``box1`` (R, D)), a floor of ``inside_floor`` over every
    inner choice dividing it; cheaper and looser: the sliding-window term is taken at its least
    over all relevant dimensions, which makes the bound a product of a row factor and an inner
    factor, so inner choices dominated in every factor are dropped first."""
    arch, problem = space.arch, space.problem
    spatial, box2 = space.inside(keep, 1)
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
