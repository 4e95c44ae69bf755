"""Lower bounds of a mapping's energy (and cycles) from part of its choices (docs/mapper.md derives them).

Every bound here is below what the cost model charges for any completion of the partial
choice, so pruning by them never removes an optimum:

- ``mac_floor``: the MAC energy, the MAC operand reads from each operand's innermost keeper
  (at most one read per MAC per multicast instance), the psum read-backs (every update but the
  first write of an element in an instance), the network words they cross (one per MAC), plus
  the compulsory outermost traffic (each element once) of tensors whose first inner keeper
  lies below level 2 (the other tensors' outer traffic is bounded elsewhere).
- ``InsideFloor`` (in ``inside_floor``, with the parts below): the traffic into level 2 (from level 1, or from level 0 when level 1 is
  bypassed) of (outer, rest) pairs: the least over the level-1 order classes of what the model
  charges each tensor under that class, psum read-backs and refills included.
- ``InsideFloor.rows``: per outer choice, a cheaper floor of the pair floor over every rest
  dividing its tile.
- ``refetch_floor``: the traffic into level 2 from a rest choice alone (the innermost loop above
  level 2 refetches the tensors relevant to it), for the streamed search's filter of rests.
- ``compute_cycles_floor``: the cycles, from the MAC units a rest choice's fanouts use (the
  MACs over them), so that the cycles and EDP objectives prune rests as the energy one does.
- ``bypass_read_words``: the level-0 reads of the operands that bypass level 1 (each element
  once), for the level-0 bandwidth floor of the cycles.

The floors that depend on the rest choice alone (the MACs' traffic counted exactly, the
transfers into keepers at level 3 and deeper) are in ``rest_bounds``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from weakref import WeakKeyDictionary

import numpy as np

from loopnest.mapping.factors import divisors
from loopnest.mapping.mapspace import TEMPORAL, Mapspace
from loopnest.model.precision import Prices, prices
from loopnest.model.sparse import plan as sparse_plan
from loopnest.workload.problem import ROLES


def floor_prices(space: Mapspace) -> Prices:
    """The prices every floor here charges its dense counts: the layer's prices times, per
    level, tensor and action, the least fraction of the dense count the sparse model keeps
    (``SparsePlan.floor_factors``), and the MACs' energy times the fraction performed; the
    layer's own prices where nothing is sparse. A dense floor of each count priced so stays
    below the sparse cost of every completion (docs/sparsity.md, "The mapper"). Computed once
    per mapspace (the floors ask for them per outer choice and per rest group)."""
    if space not in _FLOOR_PRICES:
        pr = prices(space.problem, space.arch)
        sp = sparse_plan(space.problem, space.arch)
        if sp is not None:
            storage, network = sp.floor_factors()
            out = ROLES.index("outputs")
            pr = replace(pr, storage=pr.storage * storage, psum_storage=pr.psum_storage * storage[:, out],
                         network=pr.network * network, psum_network=pr.psum_network * network[:, out],
                         mac_pj=pr.mac_pj * sp.mac_actual)
        _FLOOR_PRICES[space] = pr
    return _FLOOR_PRICES[space]


_FLOOR_PRICES: WeakKeyDictionary = WeakKeyDictionary()  # mapspace -> its floor prices (dropped with it)


def _tile(coef: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Halo-rule tile size over boxes (..., D)."""
    return np.prod((box - 1) @ coef.T + 1, axis=-1)


def _touched(coef: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A floor of the distinct elements a ``box`` (..., D) of iterations touches (the model
    fetches at least these: a tile's hull holds its elements). Per axis: one dimension touches
    its extent; two dimensions (coefficients a <= b) touch their whole hull when a = 1 and the
    first spans b (no gaps, as in a convolution window at stride <= R), else at least the larger
    extent; more dimensions at least the largest extent."""
    box = np.asarray(box)
    out = np.ones(box.shape[:-1], np.int64)
    for row in coef:
        dims = sorted((int(c), d) for d, c in enumerate(row) if c > 0)
        ext = [box[..., d] for _, d in dims]
        if len(dims) == 2:
            (a, _), (b, _) = dims
            hull = (ext[0] - 1) * a + (ext[1] - 1) * b + 1
            out = out * np.where((a == 1) & (ext[0] >= b), hull, np.maximum(*ext))
        elif dims:
            out = out * np.max(np.stack(ext), axis=0)
    return out


def _action(role: str) -> str:
    return "update" if role == "outputs" else "read"


def mac_floor(space: Mapspace, keep: np.ndarray) -> float:
    """The MAC energy, ``mac_transfer_floor`` and the compulsory outermost traffic (each element
    once) of tensors whose first keeper below level 0 lies below level 2, or at level 2 where
    the inside floors do not apply (the other tensors' outer traffic is bounded elsewhere)."""
    pr = floor_prices(space)
    floor = space.problem.macs * pr.mac_pj + mac_transfer_floor(space, keep)
    for t, role in enumerate(ROLES):
        first = next((c for c in range(1, space.L) if keep[c, t]), None)  # None: the MACs read level 0
        bounded = first is None or first == 1 or (first == 2 and inside_applies(space))
        if not bounded:
            touched = float(_touched(space.coef[t], space.sizes))
            floor += touched * pr.energy(0, role, _action(role))
    return floor


def mac_transfer_floor(space: Mapspace, keep: np.ndarray, folds: dict | None = None):
    """The MACs' traffic with each operand's innermost keeper, whatever the mapping: one read
    per MAC per multicast instance, the psum read-backs (every update but the first write of an
    element in an instance) and one network word per MAC per fanout crossed. A folding fanout
    shares a word among at most its size of MACs; ``folds[(level, tensor)]`` (an array over
    partial rests) replaces that size by the product of the fanout's factors over the
    dimensions irrelevant to the tensor, where they are fixed (``rest_tree``): the MACs it
    feeds with one word are those differing in those dimensions only."""
    arch, problem = space.arch, space.problem
    pr = floor_prices(space)
    macs = problem.macs
    floor = 0.0
    for (t, role), p in zip(enumerate(ROLES), innermost_keepers(keep)):
        shared = 1
        for q in range(p, space.L):
            fan = arch.levels[q].fanout
            if fan is not None:
                sx, sy = fan.shares(role)
                if sx or sy:  # at most the sharing axes' size, at most the fixed irrelevant factors (folds)
                    full = (fan.x if sx else 1) * (fan.y if sy else 1)
                    shared = shared * (np.minimum(folds[(q, t)], full) if folds and (q, t) in folds else full)
                floor += macs * pr.network[q, t]
        floor = floor + macs / shared * pr.energy(p, role, _action(role))
        if role == "outputs":  # read-modify-write: every update but each instance's first write per element reads
            first = problem.size(problem.tensor(role)) * arch.instances(p)
            floor = floor + np.maximum(0.0, macs / shared - first) * pr.energy(p, role, "read")
    return floor if folds else float(floor)


def compute_cycles_floor(space: Mapspace, instances: np.ndarray) -> np.ndarray:
    """(K,) cycles below the compute cycles of every mapping whose fanouts below level 0 use at
    most ``instances`` (K,) MAC units (the product of the rest's spatial factors; any bound of it
    for a partial rest): the model's compute cycles are the product of every temporal factor
    times ``cycles_per_mac`` (a systolic fill/drain only adds), and each dimension's factors
    multiply to at least its size, so the temporal product is at least the MACs over the
    instances used (a level-0 fanout, outside the rests, counted at its full size), rounded up:
    it is an integer. Dense, that integer times ``cycles_per_mac`` is the model's own product
    (same operations, so rounding never puts it above): a mapping at the compute floor then ties
    with it exactly, and the cycles objective prunes those ties by their energy floor (before
    2026-12-07 the floor sat one part in 1e9 under, and every such pair was evaluated). Times the
    sparse cycle fraction (skipped MACs take no cycle) one part in 1e9 under, for rounding."""
    arch = space.arch
    fan0 = arch.levels[0].fanout
    used = np.rint(np.asarray(instances, float) * (1.0 if fan0 is None else float(fan0.size))).astype(np.int64)
    sp = sparse_plan(space.problem, arch)
    if sp is None:  # every instance count here is an integer
        return -(-space.problem.macs // np.maximum(used, 1)) * float(arch.compute.cycles_per_mac)
    return space.problem.macs / used * float(arch.compute.cycles_per_mac) * sp.cycle_fraction * (1.0 - 1e-9)


def bypass_read_words(space: Mapspace, keep: np.ndarray) -> np.ndarray:
    """(3,) per tensor, the words of level 0 that every mapping reads of the operands (weights,
    inputs) level 1 does not keep (``keep`` (L, 3)); 0 for the others. Level 0 is the only other
    copy, so each element the MACs touch is read from it at least once (whatever keeps it below,
    or none), at level 0's word width. With ``outer_costs``' level-0 reads of the tensors level
    1 keeps, a floor of level 0's read-bandwidth cycles: on ``eyeriss`` the weights bypass the
    global buffer, and a batch-4 FC layer's weights alone take 10.5x its compute cycles. 0 with
    sparsity (compressed reads may be fewer) and for tensors resident on chip."""
    out = np.zeros(len(ROLES))
    if space.L < 2 or sparse_plan(space.problem, space.arch) is not None:
        return out
    words = prices(space.problem, space.arch).words[0]
    for t, role in enumerate(ROLES):
        if role != "outputs" and not keep[1, t] and role not in space.arch.resident:
            out[t] = float(_touched(space.coef[t], space.sizes)) * words[t]
    return out


def rest_instances(space: Mapspace, rest: np.ndarray) -> np.ndarray:
    """(K,) MAC units the rest choices ``rest`` (K, S_rest, D) use: the product of their spatial
    factors (a partial rest's unfixed factors are 1)."""
    out = np.ones(len(rest), float)
    for s, (_, axis) in enumerate(space.slots[space.rest_start or 0:]):
        if axis != TEMPORAL:
            out *= rest[:, s].prod(axis=1, dtype=float)
    return out


def fill_floor(space: Mapspace, keep: np.ndarray, spatial: np.ndarray) -> np.ndarray:
    """(K,) pJ: the traffic into level 2 that ``InsideFloor`` charges every pair at least, from
    the level-1 fanout factors ``spatial`` (K, D) alone: each instance fills its footprint once
    (its writes and network words) and the parent serves each element once where the fanout
    folds the tensor, each instance's footprint elsewhere (``InsideFloor`` charges each tensor
    at least these, read-backs and refills on top). Zero where the inside floors do not apply."""
    out = np.zeros(len(spatial))
    if not inside_applies(space):
        return out
    for t in np.flatnonzero(keep[2]):
        folds, e_src, e_own = _fill_prices(space, keep, int(t))
        coef = space.coef[t]
        own = _own_pass(coef, space.sizes, spatial)
        out += (float(_touched(coef, space.sizes)) if folds else own) * e_src + own * e_own
    return out


def refetch_floor(space: Mapspace, keep: np.ndarray, spatial: np.ndarray, box2: np.ndarray,
                  deep: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """(K,) pJ: a floor of the traffic into level 2 from the rest choices alone (level-1 fanout
    factors ``spatial``, level-2 tiles ``box2``), at least ``fill_floor``. The loops above level
    2 (levels 0 and 1, bounds multiplying to ``B = sizes / (spatial * box2)``) have an innermost
    one, over some dimension x; a tensor relevant to x has it as its innermost relevant loop, so
    the model fills it ``prod(B) / b * (tile + (b - 1) * delta) >= prod(B) * delta`` times per
    instance (b that loop's bound, delta <= tile the words one step brings, its step at least the
    union tile's x extent), the others at least their footprint; the least over x is below
    every completion's count, and the parent's reads are counted alike on the union tile.
    ``deep``: per sibling keeper (``sibling_keepers``), its ``deep_floor`` per rest, which the
    caller's floor already holds: each is counted alike as if kept at level 2 (``InsideFloor``
    says why that is a floor) and only what that exceeds its deep floor by is added, less what
    ``mac_floor`` charges of it (each element once from level 0 where level 1 bypasses it)."""
    out = fill_floor(space, keep, spatial)
    deep = deep or {}
    kept = [(int(t), 2) for t in np.flatnonzero(keep[2])] + [(t, c) for t, c in sibling_keepers(space, keep).items() if t in deep]
    if not inside_applies(space) or not kept:
        return out
    sizes = space.sizes
    union = spatial * box2
    B = sizes // union
    passes, n_inst = B.prod(axis=-1).astype(float), np.prod(spatial, axis=-1).astype(float)
    least = np.full(len(spatial), np.inf)
    for x in np.flatnonzero((B > 1).any(axis=0)):
        total = np.zeros(len(spatial))
        for t, child in kept:
            folds, e_src, e_own = _fill_prices(space, keep, t, child)
            coef = space.coef[t]
            own = _own_pass(coef, sizes, spatial)
            touched = float(_touched(coef, sizes))
            shared = np.full(len(spatial), touched) if folds else own
            if (coef[:, x] > 0).any():
                own = np.maximum(own, n_inst * passes * _delta(coef, box2, union, x))
                shared = np.maximum(shared, passes * _delta(coef, union, union, x)) if folds else own
            if child == 2:
                total += shared * e_src + own * e_own
            else:  # a sibling keeper: beyond its deep floor and mac_floor's share, 1e-9 low (rounding)
                e = shared * e_src + own * e_own - (0.0 if keep[1, t] else touched * e_src)
                total += np.maximum(0.0, e * (1 - 1e-9) - deep[t])
        least = np.minimum(least, np.where(B[:, x] > 1, total, np.inf))
    return np.where(np.isfinite(least), np.maximum(out, least), out)


def sibling_keepers(space: Mapspace, keep: np.ndarray) -> dict[int, int]:
    """Tensor -> keeper level c >= 3 of each tensor that ``InsideFloor`` prices as if kept at
    level 2: level 2 does not keep it, c is its first keeper below level 1, no level 2..c-1 has a
    fanout, and it has no sliding window (a halo tile may count gaps that the smaller tiles below
    never fetch); none with sparsity or remainder tiles (dense, whole tiles only)."""
    if not inside_applies(space) or space.imperfect or sparse_plan(space.problem, space.arch) is not None:
        return {}
    out = {}
    for t in range(len(ROLES)):
        below = np.flatnonzero(keep[2:, t]) + 2
        coef = space.coef[t]
        if keep[2, t] or len(below) == 0 or ((coef > 0).sum(axis=1) > 1).any():
            continue
        c = int(below[0])
        if all(space.arch.levels[k].fanout is None for k in range(2, c)):
            out[t] = c
    return out


def _own_pass(coef: np.ndarray, sizes: np.ndarray, spatial: np.ndarray) -> np.ndarray:
    """Per level-1 fanout split ``spatial`` (K, D): the elements its instances touch, each
    instance's footprint once (every level-2 keeper fills at least these)."""
    return np.prod(spatial, axis=-1).astype(float) * _touched(coef, sizes // spatial)


def _fill_prices(space: Mapspace, keep: np.ndarray, t: int, child: int = 2) -> tuple[bool, float, float]:
    """Of tensor ``t``'s fills of level 2 (or of its keeper ``child`` below, with no fanout in
    between: ``InsideFloor``'s sibling keepers): whether the level-1 fanout folds them, pJ per
    value its parent serves and pJ per value filled (network words and, but for outputs, the write)."""
    arch, role = space.arch, ROLES[t]
    fan = arch.levels[1].fanout
    pr = floor_prices(space)
    folds = fan is not None and any(fan.shares(role))  # one axis sharing: fold all (a lower bound still)
    net = pr.network[1, t]  # 0 without a fanout
    return folds, pr.energy(1 if keep[1, t] else 0, role, _action(role)), net + (0.0 if role == "outputs" else pr.energy(child, role, "write"))


def innermost_keepers(keep: np.ndarray) -> tuple[int, ...]:
    """Per tensor (ROLES order), the innermost level that keeps it under bypass choice ``keep``:
    the one the MACs read and update."""
    return tuple(int(np.flatnonzero(keep[:, t])[-1]) for t in range(len(ROLES)))


def inside_applies(space: Mapspace) -> bool:
    """The inside floors need three levels and no fanout on the outermost one."""
    return space.L >= 3 and space.arch.levels[0].fanout is None


def bypassing(space: Mapspace, keep: np.ndarray) -> list[int]:
    """The tensors ``bypass_floor`` applies to under bypass choice ``keep`` (L, 3): those that
    bypass level 1 and are kept at level 2, where the inside floors apply."""
    if not inside_applies(space):
        return []
    return [t for t in range(len(ROLES)) if keep[2, t] and not keep[1, t]]


def bypass_floor(space: Mapspace, t: int, outer0: np.ndarray, box1: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """(K,) pJ: per outer choice (its outermost loops ``outer0`` (K, D), level-1 tile ``box1``)
    under an outermost order ``perm`` (K, D, outer -> inner), a floor of the level-0 traffic of
    tensor ``t``, one of ``bypassing``: it bypasses level 1 and is kept at level 2. Within one
    iteration of the outermost loops the inner loops sweep the whole level-1 tile, so every pass
    of the tensor's innermost relevant outermost loop ``d1`` (each iteration of the loops outside
    it) fetches each element the pass touches at least once: the elements of the level-1 tile
    swept along d1, times the product of the bounds outside d1 (a loop of bound 1 adds a factor 1;
    integer counts, so the product is exact). No relevant loop: the tile once. It depends on no
    other tensor's bypass choice. The per-outer floor (``InsideFloor.rows(bypass=False)``) leaves
    these words out."""
    coef, role = space.coef[t], ROLES[t]
    e = floor_prices(space).energy(0, role, _action(role))
    K = len(box1)
    pos = np.empty_like(perm)
    pos[np.arange(K)[:, None], perm] = np.arange(perm.shape[1])  # each dimension's place in the order
    inner = np.where((outer0 > 1) & (coef > 0).any(axis=0), pos, -1)  # the relevant loops, where they are
    d1, rows = inner.argmax(axis=1), np.arange(K)
    swept = box1.copy()
    swept[rows, d1] *= outer0[rows, d1]  # the data one pass of d1 touches
    passes = np.where(pos < pos[rows, d1][:, None], outer0, 1).prod(axis=1)
    return e * np.where(inner.max(axis=1, initial=-1) >= 0, _touched(coef, swept) * passes, _touched(coef, box1))


def _signature(coef: np.ndarray, perm: np.ndarray, active: tuple[bool, ...]) -> tuple[int, tuple[int, ...]]:
    """A tensor's view of a level-1 order (outer -> inner): its innermost relevant loop (-1 if
    none) and the loops outside it, that loop included, in ascending order (the floors depend on
    that set, not on its order: orders that differ outside the innermost relevant loop share it)."""
    rel = (coef > 0).any(axis=0)
    loops = [int(d) for d in perm if active[d]]
    pos = [i for i, d in enumerate(loops) if rel[d]]
    return (loops[pos[-1]], tuple(sorted(loops[:pos[-1] + 1]))) if pos else (-1, ())


def _delta(coef: np.ndarray, box: np.ndarray, reach: np.ndarray, d: int) -> np.ndarray:
    """Words one step of a loop over dimension ``d`` brings into a ``box`` tile: a sliding
    window's new part (its step is ``reach``, the d extent below level 1), else the whole tile."""
    ext = (box - 1) @ coef.T + 1  # (..., A)
    tile = np.prod(ext, axis=-1)
    if (coef[:, d] > 0).sum() != 1:
        return tile.astype(float)
    a = int(np.argmax(coef[:, d] > 0))
    return (tile // ext[..., a] * np.minimum(ext[..., a], coef[a, d] * reach[..., d])).astype(float)


def divides(box: np.ndarray, parts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(R, G) whether every extent of ``parts[g]`` divides ``box[r]`` (extents divide ``sizes``),
    through per-dimension tables over the divisors instead of R x G x D remainders."""
    out = np.ones((len(box), len(parts)), bool)
    for d, n in enumerate(sizes):
        if (box[:, d] == n).all() and (parts[:, d] == 1).all():
            continue
        if len(divisors(int(n))) > TABLE_DIVISORS:  # the table would not fit: remainders for this dimension
            out &= box[:, None, d] % parts[None, :, d] == 0
            continue
        divs, table = _divisor_table(int(n))
        out &= table[np.searchsorted(divs, box[:, d])][:, np.searchsorted(divs, parts[:, d])]
    return out


TABLE_DIVISORS = 4096  # divisor tables up to 4096^2 entries (16 MB); a size with more divisors uses remainders


@lru_cache(maxsize=256)
def _divisor_table(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The divisors of n and whether one divides another: table[i, j] = divs[j] | divs[i]."""
    divs = np.array(divisors(n))
    return divs, divs[:, None] % divs[None, :] == 0


def _least_delta(coef: np.ndarray, box: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """Least, over the relevant dimensions, of the words one step of that loop fetches into a
    ``box`` tile (the whole tile, or a sliding window's new part)."""
    return np.min([_delta(coef, box, reach, d) for d in np.flatnonzero((coef > 0).any(axis=0))], axis=0)
