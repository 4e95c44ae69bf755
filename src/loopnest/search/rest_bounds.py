"""Energy floors that depend on the rest choice alone (everything below level 1's temporal
loops: the level-1 fanout and every inner level), added to the pair floors of the exact search
(docs/mapper.md derives them):

- the MACs' traffic with each operand's innermost keeper: the cost model's own count, since it
  depends on the spatial factors and the loops below level 1 only (the MACs read on every
  temporal step; which fanouts fold a word is set by the loops between them and the MACs);
- the transfers into keepers at level 3 and deeper: a tensor's fills are set by its innermost
  relevant loop above the keeper; where that loop lies at level 2 or deeper, the rest fixes
  everything but that level's order, and the floor takes each tensor's best order there.

``RestFloor`` returns what these add to ``mac_floor`` (never negative: the model's count of the
MACs' traffic is at least ``mac_transfer_floor``, which assumes every fanout folds every word).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from loopnest.mapping.mapspace import TEMPORAL, Mapspace
from loopnest.model import evaluate_batch
from loopnest.model.precision import prices
from loopnest.search.bounds import (
    _action,
    _delta,
    _tile,
    _touched,
    floor_prices,
    innermost_keepers,
    mac_transfer_floor,
)
from loopnest.workload.problem import ROLES

CHUNK = 1 << 16  # rest choices per model call


class RestFloor:
    """The rest floor of one layer's bypass choices, each part computed once: the MACs' traffic
    depends on the rests and each tensor's innermost keeper only, the deep floor on the rests
    and the transfers into keepers at level 3 or deeper, and the rests on the keeps of levels 2
    and below (``Mapspace.rests``)."""

    def __init__(self, space: Mapspace):
        self.space = space
        self.applies = space.rest_start is not None and space.arch.levels[0].fanout is None
        self._mac: dict = {}  # (rests, tensor, its innermost keeper) -> pJ per rest
        self._deep: dict = {}

    def __call__(self, keep: np.ndarray, rest: np.ndarray) -> np.ndarray:
        """(R,) pJ per rest choice ``rest`` (R, S_rest, D) of bypass choice ``keep``: the MACs'
        traffic beyond ``mac_transfer_floor`` plus ``deep_floor``. Only where it ``applies``: a
        level 1 and no fanout on level 0 (whose loops the rests leave out)."""
        rests = self.space.rest_key(keep)
        out = sum(parts[0] for parts in self._mac_parts(keep, rest)) - mac_transfer_floor(self.space, keep)
        transfers = deep_transfers(keep)
        if transfers:
            if (rests, transfers) not in self._deep:
                self._deep[(rests, transfers)] = _chunked(deep_floor, self.space, transfers, rest)
            out = out + self._deep[(rests, transfers)]
        return out

    def _mac_parts(self, keep: np.ndarray, rest: np.ndarray) -> list[np.ndarray]:
        """Per tensor, ``mac_traffic``'s (energy, port words, instances) (3, R) at its innermost keeper, cached."""
        rests = self.space.rest_key(keep)
        innermost = [(rests, t, p) for t, p in enumerate(innermost_keepers(keep))]
        if any(k not in self._mac for k in innermost):
            self._mac.update(zip(innermost, _chunked(mac_traffic, self.space, keep, rest).transpose(1, 0, 2)))
        return [self._mac[k] for k in innermost]

    def cycles(self, keep: np.ndarray, rest: np.ndarray) -> np.ndarray:
        """(R,) cycles at or below the model's for every completion of each rest (any outer
        choice, any loop orders): the model's cycles are at least, per level with a bandwidth,
        the words each instance reads over its read bandwidth and writes (fills and updates)
        over its write bandwidth; the MACs' operand reads and output updates at their innermost
        keeper are part of those words and fixed by the rest (``mac_traffic``). Zero where the
        floor does not apply. Computed as the model computes a level's bound (a sum in tensor
        order, over the instances, over the bandwidth) from a subset of its non-negative terms,
        so it is at most the model's cycles in floating point too, and equal where those terms
        are all: a tie with the best mapping's cycles is then seen as one (the energy
        objective breaks its ties by cycles)."""
        out = np.zeros(len(rest))
        if not self.applies:
            return out
        per_level: dict = {}
        for (t, p), (_, words, inst) in zip(enumerate(innermost_keepers(keep)), self._mac_parts(keep, rest)):
            port = "write" if ROLES[t] == "outputs" else "read"
            total, _ = per_level.get((p, port), (0.0, inst))
            per_level[(p, port)] = (total + words, inst)
        for (p, port), (words, inst) in per_level.items():
            level = self.space.arch.levels[p]
            bandwidth = level.write_bandwidth if port == "write" else level.read_bandwidth
            if bandwidth:
                out = np.maximum(out, words / inst / bandwidth)
        return out


def _chunked(part, space: Mapspace, what, rest: np.ndarray) -> np.ndarray:
    """``part(space, what, rest)`` a chunk of rests at a time (bounded memory); the rests on the
    last axis."""
    return np.concatenate([part(space, what, rest[a:a + CHUNK]) for a in range(0, len(rest), CHUNK)], axis=-1)


def deep_transfers(keep: np.ndarray) -> tuple[tuple[int, int, int], ...]:
    """(tensor, parent level, keeper level) of every transfer into a keeper at level 3 or deeper
    under bypass choice ``keep``: what ``deep_floor`` prices."""
    return tuple((t, int(p), int(c)) for t in range(len(ROLES)) for p, c in pairwise(np.flatnonzero(keep[:, t])) if c >= 3)


def mac_traffic(space: Mapspace, keep: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """(3, 3, R), per tensor: pJ of the MACs' reads, psum updates and read-backs at its innermost
    keeper and the network words they cross, counted by the cost model on one completion of each
    rest (every outer loop on level 0): no completion changes them. That keeper serves only the
    MACs, and the fanouts at or below it carry only their words. With sparsity: the model's
    actual reads and updates there (a leader's tile at the MACs is one value: no completion
    changes them either), and the dense network words at ``floor_prices``. Second: the words
    through the port of that keeper the MACs use (an operand's reads, the outputs' updates;
    outputs at the narrower of their word and partial-sum widths); third: the keeper's instances
    (both for ``RestFloor.cycles``)."""
    arch, L = space.arch, space.L
    rows = list(enumerate(innermost_keepers(keep)))
    pr, fp = prices(space.problem, arch), floor_prices(space)
    read = np.array([pr.energy(p, r, "read") for (_, p), r in zip(rows, ROLES)])
    update = np.array([pr.energy(p, r, "update") for (_, p), r in zip(rows, ROLES)])
    net = fp.network  # (L, 3), 0 where no fanout
    outer = (space.sizes // rest.prod(axis=1))[:, None]
    f = np.concatenate([outer, np.ones_like(outer), rest], axis=1)
    cost = evaluate_batch(space.problem, arch, space.assemble(f, np.tile(np.arange(space.D), (len(f), L, 1)), keep))
    c = cost.counts
    reads, updates = (c.reads, c.updates) if cost.sparse is None else (cost.sparse.actual[..., 0], cost.sparse.actual[..., 2])
    out, words = [], []  # words: the keeper's total (the model divides the sum of a level's words by its instances)
    for t, p in rows:
        if ROLES[t] == "outputs":
            words.append(updates[:, p, t] * min(pr.words[p, t], pr.psum_words[p]))
        else:
            words.append(reads[:, p, t] * pr.words[p, t])
        e_read, e_update, e_net = read[t], update[t], c.network[:, p:, t] @ net[p:, t]
        if ROLES[t] == "outputs" and pr.psums_differ:
            # where the keeper reads psums back it holds partial sums, and so does every fanout
            # below it: the accumulator width (the model's flag can only add outer levels)
            wide = (c.reads[:, p, t] > 0) | (c.fills[:, p, t] > 0)
            e_read = np.where(wide, pr.psum_storage[p, 0], read[t])
            e_update = np.where(wide, pr.psum_storage[p, 2], update[t])
            e_net = np.where(wide, c.network[:, p:, t] @ fp.psum_network[p:], e_net)
        out.append(reads[:, p, t] * e_read + updates[:, p, t] * e_update + e_net)
    return np.stack([np.stack(out), np.stack(words), c.active[:, [p for _, p in rows]].T.astype(float)])


def deep_floor(space: Mapspace, transfers: tuple[tuple[int, int, int], ...], rest: np.ndarray) -> np.ndarray:
    """(R,) pJ: a floor of the ``transfers`` (``deep_transfers``) into keepers at level 3 or
    deeper: the keeper's fills, its parent's reads or psum updates and read-backs, the network
    words in between.

    Per instance, the model fetches a tile once per pass of the tensor's innermost relevant loop
    above the keeper, for every iteration of the loops outside it: where that loop lies at level
    k >= 2, ``A * prod(levels 2..k-1) * prod(relevant loops of level k but d1) * (tile + (T_d1 - 1)
    * delta)``, A the product of the level-0 and level-1 loops (the problem over the rest's
    factors), the level's irrelevant loops inside d1 and d1 the best relevant loop; elsewhere at
    least the elements the instance touches. The parent serves at least the fetches over the
    instances its folding fanouts feed at once; a psum version is read back except the first of
    each element in each instance. Where the parent is level 0, only what exceeds the
    compulsory traffic ``mac_floor`` charges is added.

    Also a floor for a partial rest (``rest_tree``: every fanout fixed, the temporal factors of
    levels m and below fixed, those of levels 2..m-1 at 1) of every completion: for a keeper at
    level c >= m, a relevant loop found at a level k >= m gives the completion's own count (the
    loops above k multiply to the sizes over the fixed factors), and otherwise the count is the
    elements touched, which every completion's count is at least (each is at least that, above);
    a keeper above m gets that least count too; the terms below only grow with the count."""
    arch, L, D = space.arch, space.L, space.D
    pr = floor_prices(space)
    out = np.zeros(len(rest))
    T = np.ones((len(rest), L, D), np.int64)  # temporal factors of levels >= 2
    S = np.ones((len(rest), L, D), np.int64)  # fanout factors (x * y) below each level
    for s, (l, axis) in enumerate(space.slots[space.rest_start:]):
        (T if axis == TEMPORAL else S)[:, l] *= rest[:, s]
    box = np.ones((len(rest), L + 1, D), np.int64)  # per-instance box of each level (the model's cum)
    for l in range(L - 1, -1, -1):
        box[:, l] = box[:, l + 1] * T[:, l] * S[:, l]
    outer01 = np.prod(space.sizes / rest.prod(axis=1), axis=1)  # product of the level-0 and level-1 loops
    for t, p, c in transfers:
        role, coef = ROLES[t], space.coef[t]
        rel = np.flatnonzero((coef > 0).any(axis=0))
        above = S[:, :c].prod(axis=1)  # (R, D) fanout instances above the keeper, per dimension
        n_inst = above.prod(axis=1).astype(float)
        first = n_inst * _touched(coef, space.sizes // above)  # what each instance touches
        own = first.copy()
        tile = _tile(coef, box[:, c]).astype(float)
        found = np.zeros(len(rest), bool)
        for k in range(c - 1, 1, -1):  # the innermost level with a relevant loop sets the fills
            here = np.flatnonzero(~found & (T[:, k][:, rel] > 1).any(axis=1))
            if len(here) == 0:
                continue
            Tk, tk = T[here, k], tile[here]
            best = np.full(len(here), np.inf)
            for d1 in rel:
                delta = tk
                if _sliding(coef, d1):
                    delta = _delta(coef, box[here, c], S[here, k] * box[here, k + 1], d1)
                others = np.prod(Tk[:, [e for e in rel if e != d1]], axis=1)
                best = np.minimum(best, others * (tk + (Tk[:, d1] - 1) * delta))
            found_own = n_inst[here] * outer01[here] * np.prod(T[here, 2:k], axis=(1, 2)) * best
            own[here] = np.maximum(own[here], found_own)  # the fills hold every element touched, whatever the order
            found[here] = True
        folded = np.prod([S[:, q].prod(axis=1) for q in range(p, c) if _folds(arch.levels[q], role)] or [1], axis=0)
        shared = own / folded
        net = sum(pr.network[q, t] for q in range(p, c))  # 0 where no fanout
        served = np.maximum(0.0, shared - float(_touched(coef, space.sizes))) if p == 0 else shared
        out += served * pr.energy(p, role, _action(role))
        if role == "outputs":  # versions after an element's first are read back, then refilled
            refills = np.maximum(0.0, own - first)
            out += np.maximum(0.0, shared - first) * pr.energy(p, role, "read")
            out += refills * (pr.energy(c, role, "write") + net) + own * net
        else:
            out += own * (pr.energy(c, role, "write") + net)
    return out


def _sliding(coef: np.ndarray, d: int) -> bool:
    """Does a loop over d slide a window (d shares its one axis with another dimension)?
    Elsewhere a step of it fetches the whole tile."""
    axes = np.flatnonzero(coef[:, d] > 0)
    return len(axes) == 1 and (coef[axes[0]] > 0).sum() > 1


def _folds(level, role: str) -> bool:
    fan = level.fanout
    return fan is not None and any(fan.shares(role))  # one axis sharing: fold all (a lower bound still)
