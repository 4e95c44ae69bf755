"""Sibling levels: per-PE storage written as a chain of levels with no fanout between them
(AccelForge's Eyeriss: an input, a weight and an output scratchpad, one tensor each), searched
through two dominance rules that keep the search exact (docs/mapper.md, "Sibling levels").

The chain is every level from the innermost fanout's child down (levels >= 2: the rests' own
temporal loops), when it has at least two levels. On it the cost model sees the temporal loops
as one sequence, outer -> inner, cut at each keeper (a keeper's tile spans the loops below its
cut, its fills depend on the sequence above it). Two moves of a loop factor never raise any
count the model charges, and each leaves every tile (so every capacity) as it was:

1. *Sink.* A factor of dimension d at chain level A, d irrelevant to every tensor kept below
   A, moves to the innermost level. Keepers at or above A hold it inside their tiles either
   way; each keeper below A stops seeing an irrelevant loop above it (its fills only drop; its
   tile does not grow); with no fanout at or below A, no multicast fold changes (a fold only
   tests the loops over dimensions relevant to the tensor).
2. *Lift.* With the innermost level B keeping exactly one tensor t without a sliding window and
   A the level above it (after rule 1 every loop at A is relevant to t), a factor at A of a
   dimension irrelevant to every tensor A keeps moves to level A - 1, innermost there (A - 1 a
   chain level). For A's tensors it is then the innermost loop above them, irrelevant: reused,
   no fill; A - 1's tensors hold it inside their tiles either way; t's fills are its tile
   times every loop above B down to its innermost relevant loop, and every loop at A is
   relevant to t, so they are the tile times all loops above B, before and after.

So some optimum has no factor that either rule would move: the other rests can be dropped
(``CanonicalRests``). Each rule applies to a dimension only where the constraints set no
factor rule and no order for it on the levels it moves between (the moved mapping must still
meet them), never with sparsity (its counts are not checked against these moves). A partial
rest (unfixed factors at 1) that breaks a rule breaks it in every completion, so the filter
prunes partial rests as well.

``packed_siblings`` gives the subspace with every chain loop on the innermost level (the same
hardware's partitioned form): the streamed exact search seeds its best cost from it too.
"""

from __future__ import annotations

import numpy as np

from loopnest.mapping.constraints import ConstraintError, parse_constraints
from loopnest.mapping.factors import MapspaceError
from loopnest.mapping.mapspace import TEMPORAL, Mapspace
from loopnest.model.sparse import plan as sparse_plan


class CanonicalRests:
    """The rests the two rules keep, as a filter ``(factors (K, S, d), slots, keep) -> (K,) bool``
    that ``Mapspace._fits`` applies (``Mapspace.canonical``). ``chain``: the sibling levels, outer -> inner."""

    def __init__(self, space: Mapspace, chain: list[int]):
        self.space, self.chain = space, chain
        rel = np.array(space.relevance, bool)  # (3, D)
        self.relevance = rel
        self.sliding = [bool(((c > 0).sum(axis=1) > 1).any()) for c in space.coef]
        cons = [space.constraints.at(lv.name) for lv in space.arch.levels]
        self.free = np.array([[d not in c.temporal and d not in c.order for d in space.dims] for c in cons], bool)  # (L, D)
        self._memo: dict = {}

    def forbidden(self, keep: np.ndarray) -> dict[int, np.ndarray]:
        """Per chain level, the dimensions (D,) bool whose factor there the rules move away,
        under bypass choice ``keep`` (L, 3)."""
        key = keep.tobytes()
        if key in self._memo:
            return self._memo[key]
        rel, free, inner = self.relevance, self.free, self.chain[-1]
        out = {}
        for a in self.chain[:-1]:
            below = keep[a + 1:].any(axis=0)  # tensors kept below level a
            sink = ~rel[below].any(axis=0) & free[a] & free[inner]
            out[a] = sink
        a = inner - 1
        kept_b = np.flatnonzero(keep[inner])
        if a - 1 in self.chain and len(kept_b) == 1 and not self.sliding[kept_b[0]]:
            lift = rel[kept_b[0]] & ~rel[keep[a]].any(axis=0) & free[a] & free[a - 1]
            out[a] = out[a] | lift
        out = {l: m for l, m in out.items() if m.any()}
        self._memo[key] = out
        return out

    def __call__(self, f: np.ndarray, slots: list[tuple[int, int]], keep: np.ndarray) -> np.ndarray:
        ok = np.ones(len(f), bool)
        for level, dims in self.forbidden(keep).items():
            if (level, TEMPORAL) not in slots:
                continue
            s = slots.index((level, TEMPORAL))
            d = np.flatnonzero(dims[:f.shape[2]])
            if len(d):
                ok &= (f[:, s][:, d] == 1).all(axis=1)
        return ok


def canonical_rests(space: Mapspace) -> CanonicalRests | None:
    """The filter of the sibling levels of ``space``, or None where there is no chain of at
    least two levels below the innermost fanout (and at or below level 2), or the layer is
    sparse, counts strided positions or takes remainder tiles."""
    arch = space.arch
    start = space.L  # the chain: levels >= 2 with no fanout at or below them
    while start > 2 and arch.levels[start - 1].fanout is None:
        start -= 1
    chain = list(range(start, space.L))
    if (len(chain) < 2 or space.imperfect or arch.strided_windows == "positions"
            or sparse_plan(space.problem, arch) is not None):
        return None
    return CanonicalRests(space, chain)



def packed_siblings(space: Mapspace) -> Mapspace | None:
    """The subspace of ``space`` (whose ``canonical`` filter is set) with no temporal loop on
    the sibling levels but the innermost: the mappings of the same hardware written as one
    partitioned level (docs/mapper.md). Its rests are far fewer, so a heuristic sampling them
    finds a good first bound for the streamed exact search (any of its mappings is one of
    ``space``'s); None without sibling levels or where the constraints cannot take it."""
    if space.canonical is None:
        return None
    names = [space.arch.levels[l].name for l in space.canonical.chain[:-1]]
    packed = parse_constraints([{"level": n, "temporal": {d: 1 for d in space.dims}} for n in names], "sibling levels")
    try:
        sub = Mapspace(space.problem, space.arch, space.constraints.meet(packed))
    except (ConstraintError, MapspaceError):
        return None
    return sub if sub.empty_reason() is None else None
