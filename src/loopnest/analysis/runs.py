"""The mapper as the analyses use it: dataflows by name (``loopnest.mapping.dataflows``, the
ISCA 2016 output-stationary variants included) and whole networks mapped
(``loopnest.search.network.map_network``: each distinct layer shape searched once) into
``Result.to_dict()`` records.
"""

from __future__ import annotations

from collections.abc import Callable

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints, LevelConstraint
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.search.mapper import REMAINDER_FOLDS
from loopnest.search.network import map_network
from loopnest.workload.network import Network
from loopnest.workload.problem import Problem


def constraints_for(name: str | None, problem: Problem, arch: Architecture) -> Constraints:
    """The full constraint set of a dataflow name for one layer (empty for None)."""
    return dataflow_constraints(name, problem, arch) if name else Constraints()


def no_bypass(arch: Architecture) -> Constraints:
    """Every level keeps every tensor it may hold (no bypass): the ISCA 2016 framework, where data
    moves DRAM -> buffer -> array -> RF for every dataflow."""
    return Constraints({lv.name: LevelConstraint(keep=frozenset(lv.keeps)) for lv in arch.levels[1:]}, "no bypass")


def best_records(network: Network, arch: Architecture, dataflow: str | None, objective: str = "energy",
                 mode: str = "auto", jobs: int | None = None, progress: Callable[[str], None] | None = None,
                 constraints: Constraints | None = None, seed: int = 0,
                 remainder_folds: bool = REMAINDER_FOLDS) -> tuple[list[dict], list[dict]]:
    """Map every layer (``constraints`` met with the dataflow's; ``remainder_folds``: ``map_network``'s):
    (``Result.to_dict()`` records of the mapped layers with their ``kind`` and the ``search_mode``
    that ran, ``[{"layer", "reason"}]`` of the layers no mapping fits)."""
    tick = (lambda done, total, name: progress(f"{arch.name}: {done}/{total} shapes mapped ({name})")) if progress else None
    net = map_network(network, arch, dataflow, constraints, objective, mode, seed, jobs=jobs, progress=tick,
                      remainder_folds=remainder_folds)
    records = [{**lo.result.to_dict(), "layer": lo.name, "kind": lo.problem.kind, "search_mode": lo.search.mode}
               for lo in net.mapped]
    return records, [{"layer": lo.name, "reason": lo.search.reason} for lo in net.unmapped]
