"""The mapper as the analyses use it: dataflows by name, including the ISCA 2016 output-stationary
variants, and whole networks mapped (``loopnest.search.network.map_network``: each distinct
layer shape searched once) into ``Result.to_dict()`` records.

Output-stationary variants (Chen, Emer, Sze, ISCA 2016, Sec. VI): all keep psums in the PE;
they differ in what the array unrolls. OS-A: output pixels of one output channel (P, Q; and N,
images being pixels too); OS-B: pixels of several channels (P, Q, N, M: the plain ``os``
constraint); OS-C: output channels of one pixel (M).
"""

from __future__ import annotations

from collections.abc import Callable

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import (
    ConstraintError,
    Constraints,
    FactorRule,
    LevelConstraint,
)
from loopnest.mapping.dataflows import DATAFLOWS, dataflow_constraints, pe_array
from loopnest.search.network import map_network
from loopnest.workload.network import Network
from loopnest.workload.problem import Problem

_OS_ARRAY = {"os-a": ("P", "Q", "N"), "os-b": ("P", "Q", "N", "M"), "os-c": ("M",)}
NAMES = tuple(DATAFLOWS) + tuple(_OS_ARRAY)


def dataflow_spec(name: str | None, arch: Architecture) -> tuple[str | None, Constraints | None]:
    """(the mapper's dataflow preset, extra constraints) for a dataflow name (None: unconstrained)."""
    if name is None:
        return None, None
    key = name.lower()
    if key not in NAMES:
        raise ConstraintError(f"unknown dataflow {name!r}; valid: {', '.join(NAMES)}")
    if key not in _OS_ARRAY:
        return key, None
    allowed = {d: FactorRule() for d in _OS_ARRAY[key]}
    array = arch.levels[pe_array(arch)].name
    return "os", Constraints({array: LevelConstraint(spatial_x=allowed, spatial_y=dict(allowed))}, f"dataflow {key} array")


def constraints_for(name: str | None, problem: Problem, arch: Architecture) -> Constraints:
    """The full constraint set of a dataflow name for one layer (empty for None)."""
    preset, extra = dataflow_spec(name, arch)
    base = dataflow_constraints(preset, problem, arch) if preset else Constraints()
    return base.meet(extra) if extra is not None else base


def no_bypass(arch: Architecture) -> Constraints:
    """Every level keeps every tensor it may hold (no bypass): the ISCA 2016 framework, where data
    moves DRAM -> buffer -> array -> RF for every dataflow."""
    return Constraints({lv.name: LevelConstraint(keep=frozenset(lv.keeps)) for lv in arch.levels[1:]}, "no bypass")


def best_records(network: Network, arch: Architecture, dataflow: str | None, objective: str = "energy",
                 mode: str = "exact", jobs: int | None = None, progress: Callable[[str], None] | None = None,
                 constraints: Constraints | None = None) -> tuple[list[dict], list[dict]]:
    """Map every layer (``constraints`` met with the dataflow's): (``Result.to_dict()`` records of
    the mapped layers with their ``kind``, ``[{"layer", "reason"}]`` of the layers no mapping fits)."""
    preset, extra = dataflow_spec(dataflow, arch)
    if constraints is not None:
        extra = constraints if extra is None else extra.meet(constraints)
    tick = (lambda done, total, name: progress(f"{arch.name}: {done}/{total} shapes mapped ({name})")) if progress else None
    net = map_network(network, arch, preset, extra, objective, mode, jobs=jobs, progress=tick)
    records = [{**lo.result.to_dict(), "layer": lo.name, "kind": lo.problem.kind} for lo in net.mapped]
    return records, [{"layer": lo.name, "reason": lo.search.reason} for lo in net.unmapped]
