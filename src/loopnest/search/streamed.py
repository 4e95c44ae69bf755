"""The streamed exact search's filter of the choices below level 1 (the rests).

Beyond ``mapper.STREAM_RESTS`` rests, the exact search first takes a heuristic's best cost, then
streams the rests level by level through their floors (``RestTree``) and keeps only those that
can still beat it with the least base of any outer choice; the branch and bound then runs over
the kept ones, so its result is still proven optimal (docs/mapper.md, "Streamed rests"). Past
``KEPT_BYTES`` of kept rests, or auto mode's budget of partial rests, it stops (``TooMany``) and
the heuristic's mapping stands, said so.
"""

from __future__ import annotations

import numpy as np

from loopnest.search.bounds import (
    compute_cycles_floor,
    innermost_keepers,
    mac_floor,
    rest_instances,
)
from loopnest.search.objective import better_rows
from loopnest.search.rest_bounds import RestFloor
from loopnest.search.rest_tree import RestTree

REST_CHUNK = 1 << 16  # rest choices streamed at a time (their factors and floors: a few MB)
KEPT_BYTES = 256 << 20  # the kept rests' factors beyond which the streamed exact search gives up (memory)


class TooMany(Exception):
    """The streamed exact search would keep more rests than ``KEPT_BYTES`` allows, or priced more
    partial rests than auto mode's budget."""


def outer_key(keep: np.ndarray) -> bytes:
    """What the outer choices and ``outer_costs`` depend on in a bypass choice (L, 3): level 1's
    keeps (its capacity; the level-0 <-> level-1 traffic), which tensors some level below the
    outermost keeps (the outermost order classes) and level 2's keeps (``bypass_floor``). The
    bypass choices differing in level 1's keeps share each tensor's part (``OuterCosts``)."""
    return keep[1:3].tobytes() + keep[1:].any(axis=0).tobytes()


def surviving_rests(search) -> dict:
    """Per bypass choice of ``search`` (the mapper's exact search, its best cost set), the rest
    choices (with their ``RestFloor`` and cycles floor) that can still beat the best cost found so
    far (the heuristic's mapping) with the least base of any outer choice: ``base + RestFloor`` is
    below the floor of every pair of that
    rest (docs/mapper.md), so the others cannot hold an optimum. The rests are enumerated
    ``REST_CHUNK`` at a time, once per set of bypass choices sharing them, each bypass choice
    floored and priced only where no partial floor has dropped it (``RestTree.chunks``), with
    a fresh ``RestFloor`` per chunk and innermost keepers: the working set stays bounded
    whatever their number."""
    space, groups, shared = search.space, {}, search.outer_shared
    least = {}  # keep index -> (least base, least cycles floor) over its outer choices
    for ki, keep in enumerate(space.keep_configs):
        key = outer_key(keep)
        if key not in shared:
            shared[key] = [*space.outer(keep, search.stats), None]
        outer, projs, costs = shared[key]
        if len(outer) == 0:
            continue
        if costs is None:
            costs = shared[key][2] = search.outer_costs(outer, projs, keep)
        least[ki] = ((costs[0] + mac_floor(space, keep)).min(), search.outer_cycles_floor(costs[2]).min())
        groups.setdefault(space.rest_key(keep), []).append(ki)
    kept: dict = {ki: ([], [], []) for ki in least}
    held = 0  # bytes of the kept rests' factors
    tree, applies = RestTree(space), RestFloor(space).applies
    for members in groups.values():
        def can_win(f: np.ndarray, depth: int, alive: np.ndarray) -> np.ndarray:  # per bypass choice alive
            search.clock()
            search.out.rests_partial += len(f)
            if search.budget is not None and search.out.rests_partial > search.budget:
                raise TooMany(f"auto: exact search stopped after {search.budget:.0e} partial choices below level "
                               f"{space.arch.levels[1].name}'s loops (time); the heuristic's mapping, not proven optimal")
            if not applies:
                return alive
            alive = alive.copy()
            cycles = compute_cycles_floor(space, tree.instances(f, depth))
            for m, ki in enumerate(members):
                at = np.flatnonzero(alive[:, m])
                base, cyc = least[ki]
                floor = base + tree.partial_floor(space.keep_configs[ki], f[at], depth)
                alive[at, m] = better_rows(search.obj.values(floor, np.maximum(cyc, cycles[at])), search.best_keys)
            return alive

        for chunk, alive in tree.chunks(space.keep_configs[members[0]], can_win, search.stats, REST_CHUNK, len(members)):
            search.clock()
            cycles = compute_cycles_floor(space, rest_instances(space, chunk))
            inner: dict = {}  # innermost keepers -> the members that share them (one RestFloor: the MACs' traffic)
            for m, ki in enumerate(members):
                inner.setdefault(innermost_keepers(space.keep_configs[ki]), []).append(m)
            for ms in inner.values():
                union = alive[:, ms].any(axis=1)  # priced once for these members together
                if not union.any():
                    continue
                rest_floor, rest, rest_cycles = RestFloor(space), chunk[union], cycles[union]
                for m in ms:
                    ki, keep = members[m], space.keep_configs[members[m]]
                    credit, floor = (tree.rest_floor(rest_floor, keep, rest) if applies
                                     else (np.zeros(len(rest)),) * 2)
                    rcyc = np.maximum(rest_cycles, rest_floor.cycles(keep, rest))
                    base, cyc = least[ki]
                    ok = alive[union, m] & better_rows(search.obj.values(base + floor, np.maximum(cyc, rcyc)), search.best_keys)
                    kept[ki][0].append(rest[ok])
                    kept[ki][1].append(credit[ok])
                    kept[ki][2].append(rcyc[ok])
                    search.out.rests_streamed += len(rest)
                    held += kept[ki][0][-1].nbytes
                    if held > KEPT_BYTES:
                        raise TooMany(f"exact search stopped: more than {KEPT_BYTES >> 20} MB of the choices below level "
                                       f"{space.arch.levels[1].name}'s loops can beat the heuristic's mapping (memory); "
                                       "the heuristic's mapping, not proven optimal")
    return {ki: tuple(np.concatenate(x) for x in parts) for ki, parts in kept.items() if parts[0]}
