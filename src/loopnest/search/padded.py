"""The mapper's remainder folds: a dimension larger than a fanout axis that the axis does not
divide may run as ``ceil(n / side)`` folds, the last one partial. On a systolic fanout the partial
fold is costed padded (SCALE-Sim's rule; ``mapping.padded_dims``); on any other fanout the model
costs it exactly (remainder tiles, ``model/clipped.py``).

Rule: for every axis of every fanout (``x``, ``y``) and every dimension ``d`` with ``n_d > side``
and ``n_d % side != 0`` whose ``k = ceil(n_d / side)`` folds are fewer than the best exact split
on that axis needs (``n_d / q`` for ``q`` the largest divisor of ``n_d`` up to ``side``), the search
also tries the layer with ``d`` padded to ``k * side``, ``side`` of it on that axis (a
constraint: the axis then holds ``d`` alone), one padded dimension per axis, every combination
over the axes. Each variant's mappings are legal remainder tiles for the real layer (the padding
is under one iteration of ``d``'s outermost loop): any loop of ``d`` above the fanout covers at
least ``side`` values, more than the padding; where the padding is not under ``k`` (the fanout
loop's own iteration when it is ``d``'s outermost), ``d`` is kept off the loops below the fanout.
Axes of non-systolic fanouts are left out where the model refuses remainder tiles
(``mapping.remainder_refusal``: sparsity, a systolic fanout elsewhere, ...), and a variant whose
best mapping the model still refuses (``RemainderError``, or a user constraint that forces an
illegal fold) is skipped with a note. Each variant is searched as its own layer; its best
mapping is then costed as the layer's (``model.evaluate``), and the best of the exact splits and
the variants under the objective wins, its notes naming the folds. Proven optimal among exact splits only: the variants are searched, not all remainder
mappings. Remainder variants are searched least padded first, each from the bound that the best so
far puts on its padded cost (``real_share``: a floor of the layer's cost over the padded one).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints, FactorRule, LevelConstraint
from loopnest.mapping.mapping import MappingError, remainder_refusal
from loopnest.model import evaluate
from loopnest.search.objective import Objective
from loopnest.workload.problem import Problem


def _fewer_folds(n: int, side: int) -> bool:
    """Does a partial last fold need fewer folds of ``n`` on an axis of ``side`` than the best
    exact split (the largest divisor of ``n`` up to ``side`` on the axis)?"""
    return n > side and n % side != 0 and -(-n // side) < n // max(q for q in range(1, side + 1) if n % q == 0)


def padded_variants(problem: Problem, arch: Architecture,
                    remainder_folds: bool = True) -> list[tuple[dict[str, int], Constraints]]:
    """The padded layers the search tries: (padded sizes, the constraint that puts ``side`` of each
    on its axis), every combination of at most one padded dimension per fanout axis (systolic axes
    only without ``remainder_folds``), the unpadded layer left out."""
    clipped = remainder_folds and remainder_refusal(problem, arch) is None
    slots = []  # per fanout axis: its options, None (no padding) or (level index, axis, dim, side)
    for i, lv in enumerate(arch.levels):
        fan = lv.fanout
        if fan is None or (fan.systolic is None and not clipped):
            continue
        for axis, side in (("x", fan.x), ("y", fan.y)):
            slots.append([None] + [(i, axis, d, side) for d, n in problem.dims.items() if _fewer_folds(n, side)])
    out = []
    for choice in product(*slots):
        picked = [c for c in choice if c is not None]
        if not picked or len({d for _, _, d, _ in picked}) < len(picked):
            continue
        sizes, levels = {}, {}
        for i, axis, d, side in picked:
            sizes[d] = -(-problem.dims[d] // side) * side
            name = arch.levels[i].name
            levels[name] = replace(levels.get(name, LevelConstraint()), **{f"spatial_{axis}": {d: FactorRule(side, side)}})
        for i, axis, d, side in picked:
            if sizes[d] - problem.dims[d] >= sizes[d] // side:  # the fanout loop may not be d's outermost
                _off_below(arch, i, axis, d, problem, levels)
        out.append((sizes, Constraints(levels, "padded folds")))
    return out


def _off_below(arch: Architecture, i: int, axis: str, d: str, problem: Problem, levels: dict) -> None:
    """Keep ``d`` off every loop below axis ``axis`` of level ``i``'s fanout (in ``levels``)."""
    others = {e: FactorRule() for e in problem.dims if e != d}
    for j in range(i, len(arch.levels)):
        name = arch.levels[j].name
        lc = levels.get(name, LevelConstraint())
        if j > i:
            lc = replace(lc, temporal={**lc.temporal, d: FactorRule(1, 1)})
        for ax in (("x", "y") if j > i else ("y",) if axis == "x" else ()):
            rules = getattr(lc, f"spatial_{ax}")
            if arch.levels[j].fanout is not None:
                lc = replace(lc, **{f"spatial_{ax}": {e: r for e, r in (others if rules is None else rules).items() if e != d}})
        levels[name] = lc


def best_with_padded_folds(problem: Problem, arch: Architecture, constraints: Constraints | None,
                           obj: Objective, search, plain, remainder_folds: bool = True):
    """The best of ``plain`` (the unpadded search's LayerSearch) and ``search(padded problem,
    constraints, bound)`` for every padded variant, each costed as ``problem``; ``search`` runs one
    layer's search with padded folds off, seeking only mappings whose objective is at most
    ``bound`` (None: any). Where ``plain`` has no mapping (declined or unmapped, with its reason)
    it is returned as is: a variant must beat a searched exact split. Remainder variants are
    searched least padded first, each bounded by the best so far over ``real_share``: a padded
    mapping above that bound costs the layer at least the best so far (``real_share``), so it
    cannot win and is pruned unvisited."""
    if plain.result is None:  # the exact splits unmapped or declined (with why): no fold improves on that
        return plain
    best, best_key = plain, _key(obj, plain)
    seconds, skipped, pruned = plain.seconds, [], 0
    variants = padded_variants(problem, arch, remainder_folds)
    how = "padded" if any(lv.fanout is not None and lv.fanout.systolic for lv in arch.levels) else "remainder"
    if how == "remainder":
        variants.sort(key=lambda v: -real_share(problem, v[0], obj))  # the most promising first: the tightest bounds early
    for sizes, pad in variants:
        met = pad if constraints is None else constraints.meet(pad)
        if any(d not in (getattr(met.at(name), f"spatial_{axis}") or {}) for name, lc in pad.levels.items()
               for axis in ("x", "y") for d, r in (getattr(lc, f"spatial_{axis}") or {}).items() if r.lo > 1):
            continue  # the user's constraints keep the padded dimension off that axis
        padded = problem.with_dims(**sizes)
        found = search(padded, met, best_key[0] / real_share(problem, sizes, obj) if how == "remainder" else None)
        seconds += found.seconds
        if found.result is None:
            pruned += how == "remainder"  # bounded: nothing below the best so far
            continue
        what = ", ".join(f"{d} {problem.dims[d]} -> {n}" for d, n in sizes.items())
        try:
            found.result = evaluate(problem, arch, found.result.mapping)  # the layer's own MACs
        except MappingError as e:  # RemainderError: a feature the remainder model refuses
            skipped.append(f"{what} ({e})")
            continue
        found.problem = problem
        key = _key(obj, found)
        if key < best_key:
            where = [f"{name} {axis}" for name, lc in pad.levels.items() for axis in ("x", "y")
                     if any(r.lo > 1 for r in (getattr(lc, f"spatial_{axis}") or {}).values())]
            found.notes.append(f"{how} folds on the fanout ({', '.join(where)}): {what} (a partial last fold; "
                               f"the best of {len(variants)} fold variants searched, {pruned} before it with no mapping under "
                               f"its bound; below the exact splits' best; not proven optimal over all remainder "
                               f"mappings)")
            found.lower_bound = None  # the floors bound exact splits only, which this fold beats
            found.folds = {d: (problem.dims[d], n) for d, n in sizes.items()}
            best, best_key = found, key
    if skipped:
        best.notes.append("fold variants the model refuses, skipped: " + "; ".join(skipped))
    best.seconds = seconds
    return best


def _key(obj: Objective, found) -> tuple | None:
    if found.result is None:
        return None
    r = found.result
    return tuple(obj.values(np.array([r.energy_pj]), np.array([float(r.cycles)]))[0])


def real_share(problem: Problem, sizes: dict[str, int], obj: Objective) -> float:
    """A floor of (the layer's cost) / (the padded layer's cost) for any mapping of a variant that
    pads each dimension ``d`` of ``sizes`` from ``n`` to ``N``: ``(n - 1) / N`` per dimension,
    multiplied (squared where the objective's first key has the EDP, a product of two such
    shares). Every count of the remainder model is a product over dimensions of a digit count
    (at least ``n / N`` of the padded one) or a sum over ``d``'s chunks of a tile size affine in
    the chunk's extent with non-negative coefficients (at least ``(n - 1) / N`` of it:
    docs/mapper.md, "Remainder and padded folds"); psum read-backs, a difference of two counts,
    are not covered by that argument and are checked on sampled mappings (tests/test_padded_folds.py)."""
    share = float(np.prod([(problem.dims[d] - 1) / n for d, n in sizes.items()]))
    return share * share if any(m == "edp" for m, _ in obj.keys[0]) else share
