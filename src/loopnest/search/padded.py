"""The mapper's padded folds on systolic arrays: a dimension larger than an axis of a systolic
fanout that the axis does not divide may run as ``ceil(n / side)`` folds, the last one partial
(SCALE-Sim's rule; ``mapping.padded_dims``).

Rule: for every axis of every systolic fanout (``x`` rows, ``y`` columns) and every dimension
``d`` with ``n_d > side`` and ``n_d % side != 0`` the search also tries the layer with ``d``
padded to ``ceil(n_d / side) * side``, ``side`` of it on that axis (a constraint: the axis then
holds ``d`` alone), one padded dimension per axis, every combination over the axes. That
factor makes each variant's mappings legal partial folds: one iteration of ``d``'s outermost loop
covers at least ``side`` values, more than the padding. Each variant is searched as its own
layer; its best mapping is then costed as the layer's (``model.evaluate``: the cycles and the
storage and network counts of the padded layer, the MACs, their energy and the utilization the
layer's own), and the best of the unpadded search and the variants under the objective wins.
Its notes name the padded sizes.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints, FactorRule, LevelConstraint
from loopnest.model import evaluate
from loopnest.search.objective import Objective
from loopnest.workload.problem import Problem


def padded_variants(problem: Problem, arch: Architecture) -> list[tuple[dict[str, int], Constraints]]:
    """The padded layers the search tries: (padded sizes, the constraint that puts ``side`` of each
    on its axis), every combination of at most one padded dimension per systolic axis, the
    unpadded layer left out."""
    slots = []  # per systolic axis: its options, None (no padding) or (level, axis, dim, side)
    for lv in arch.levels:
        fan = lv.fanout
        if fan is None or fan.systolic is None:
            continue
        for axis, side in (("x", fan.x), ("y", fan.y)):
            slots.append([None] + [(lv.name, axis, d, side) for d, n in problem.dims.items() if n > side and n % side])
    out = []
    for choice in product(*slots):
        picked = [c for c in choice if c is not None]
        if not picked or len({d for _, _, d, _ in picked}) < len(picked):
            continue
        sizes, levels = {}, {}
        for name, axis, d, side in picked:
            sizes[d] = -(-problem.dims[d] // side) * side
            lc = levels.get(name, LevelConstraint())
            levels[name] = replace(lc, **{f"spatial_{axis}": {d: FactorRule(side, side)}})
        out.append((sizes, Constraints(levels, "padded folds")))
    return out


def best_with_padded_folds(problem: Problem, arch: Architecture, constraints: Constraints | None,
                           obj: Objective, search, plain):
    """The best of ``plain`` (the unpadded search's LayerSearch) and ``search(padded problem,
    constraints)`` for every padded variant, each costed as ``problem``; ``search`` runs one
    layer's search with padded folds off."""
    best, best_key = plain, _key(obj, plain)
    seconds = plain.seconds
    for sizes, pad in padded_variants(problem, arch):
        met = pad if constraints is None else constraints.meet(pad)
        if any(d not in (getattr(met.at(name), f"spatial_{axis}") or {}) for name, lc in pad.levels.items()
               for axis in ("x", "y") for d in (getattr(lc, f"spatial_{axis}") or {})):
            continue  # the user's constraints keep the padded dimension off that axis
        padded = problem.with_dims(**sizes)
        found = search(padded, met)
        seconds += found.seconds
        if found.result is None:
            continue
        found.result = evaluate(problem, arch, found.result.mapping)  # the layer's own MACs
        found.problem = problem
        key = _key(obj, found)
        if best_key is None or key < best_key:
            what = ", ".join(f"{d} {problem.dims[d]} -> {n}" for d, n in sizes.items())
            found.notes.append(f"padded folds on the systolic array: {what} (a partial last fold)")
            best, best_key = found, key
    best.seconds = seconds
    return best


def _key(obj: Objective, found) -> tuple | None:
    if found.result is None:
        return None
    r = found.result
    return tuple(obj.values(np.array([r.energy_pj]), np.array([float(r.cycles)]))[0])
