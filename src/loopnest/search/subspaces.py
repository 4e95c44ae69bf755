"""Auto mode's guarantee under the heuristic: never worse than the exact optimum of any dataflow
preset's subspace that is cheap to search.

Where auto mode returns the heuristic's mapping (the space is too large to prove), every dataflow
preset of ``SUBSPACE_DATAFLOWS`` met with the space's own constraints is a subspace of it. Those
with at most ``SUBSPACE_RESTS`` choices below level 1's loops are searched exactly
(where that search finishes, its optimum over the subspace is proven), and the best mapping of
all is kept: the heuristic's result is then at least as good as each of those optima. A preset
that does not apply to the layer or the architecture (no storage inside the PEs, constraints
that cannot be met together) is skipped, as is a subspace above the limit.
"""

from __future__ import annotations

import time

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import ConstraintError, Constraints
from loopnest.mapping.dataflows import DATAFLOWS, dataflow_constraints
from loopnest.mapping.factors import MapspaceError
from loopnest.mapping.mapspace import Mapspace
from loopnest.search.mapper import EXACT, LayerSearch, search_layer
from loopnest.search.objective import Objective, better

# every preset but rs+ (Eyeriss v2): it holds rs's mappings (with one group per PE) and its
# subspaces are 14 to 130 times rs's (AlexNet, MobileNet v1 on eyeriss), so it would lengthen
# auto searches and move the figures of studies made before it; ask for it with a dataflow instead
SUBSPACE_DATAFLOWS = tuple(d for d in DATAFLOWS if d != "rs+")
SUBSPACE_RESTS = 200_000  # a dataflow subspace is searched exactly up to this many choices below level 1 (enumerated, not streamed)


def dataflow_subspaces(problem, arch: Architecture, constraints: Constraints | None,
                       limit: int = SUBSPACE_RESTS) -> list[tuple[str, Constraints]]:
    """Per dataflow preset that applies, its constraints met with ``constraints``, where the
    subspace has at most ``limit`` choices below level 1's loops and some choice at all."""
    out = []
    for name in SUBSPACE_DATAFLOWS:
        try:
            c = dataflow_constraints(name, problem, arch)
            c = c if constraints is None else constraints.meet(c)
            space = Mapspace(problem, arch, c)
        except (ConstraintError, MapspaceError):
            continue
        if space.rest_count() <= limit and space.empty_reason() is None:
            out.append((name, c))
    return out


def best_of_subspaces(out: LayerSearch, arch: Architecture, constraints: Constraints | None, obj: Objective,
                      deadline: float | None = None, start: np.ndarray | None = None) -> None:
    """Search each cheap dataflow subspace of ``out``'s space exactly and keep the best mapping
    in ``out`` (its result, the search counts, a note per subspace that beat the heuristic;
    ``out.subspaces``: preset -> its best first key, and whether proven). Stops at ``deadline``
    (seconds of ``time.perf_counter``) between subspaces. ``start``: the keys a mapping must beat
    where the search had a bound (``search_layer(bound=...)``), searched even where the heuristic
    found nothing below it."""
    if out.result is None and start is None:
        return

    def keys(r) -> np.ndarray:
        return obj.values(np.array([r.energy_pj]), np.array([r.cycles]))[0]

    best = first = start if out.result is None else keys(out.result)
    for name, c in dataflow_subspaces(out.problem, arch, constraints):
        if deadline is not None and time.perf_counter() > deadline:
            break
        left = None if deadline is None else max(1e-3, deadline - time.perf_counter())
        r = search_layer(out.problem, arch, c, obj, mode=EXACT, timeout_s=left, subspaces=False,
                         bound=None if start is None else float(best[0]))
        out.evaluated += r.evaluated
        if r.result is None:
            continue
        k = keys(r.result)
        out.subspaces[name] = {"value": float(k[0]), "proven": r.mode == EXACT and not r.timed_out}
        if better(k, best):
            below = "the heuristic found none under the bound" if out.result is None else \
                f"{1 - k[0] / first[0]:.1%} below the heuristic's mapping"
            best, out.result, out.reason = k, r.result, None
            out.notes.append(f"auto: the exact optimum of the {name} dataflow subspace, {below}")
