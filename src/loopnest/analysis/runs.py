"""The mapper as the analyses use it: dataflow constraints by name (with the ISCA 2016
output-stationary variants), and a list of layers mapped with each distinct shape searched once
(``Problem.shape_key``), every layer getting its best ``Result.to_dict()`` record or the reason
none exists.

Output-stationary variants (Chen, Emer, Sze, ISCA 2016, Sec. VI): all keep psums in the PE;
they differ in what the array unrolls. OS-A: output pixels of one output channel (P, Q; and N,
images being pixels too); OS-B: pixels of several channels (P, Q, N, M: the plain ``os``
constraint); OS-C: output channels of one pixel (M).
"""

from __future__ import annotations

from typing import Callable

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints, FactorRule, LevelConstraint
from loopnest.mapping.dataflows import dataflow_constraints, pe_array
from loopnest.search.mapper import search_layer
from loopnest.workload.problem import Problem

Progress = Callable[[str], None] | None
_OS_ARRAY = {"os-a": ("P", "Q", "N"), "os-b": ("P", "Q", "N", "M"), "os-c": ("M",)}


def constraints_for(dataflow: str, problem: Problem, arch: Architecture) -> Constraints:
    """The constraint set of one compared dataflow (OS variants narrow the array of ``os``)."""
    key = dataflow.lower()
    if key not in _OS_ARRAY:
        return dataflow_constraints(key, problem, arch)
    base = dataflow_constraints("os", problem, arch)
    allowed = {d: FactorRule() for d in _OS_ARRAY[key] if d in problem.dims}
    narrow = Constraints({arch.levels[pe_array(arch)].name: LevelConstraint(spatial_x=allowed, spatial_y=dict(allowed))},
                         f"dataflow {dataflow} array")
    return base.meet(narrow)


def best_records(layers: tuple[Problem, ...] | list[Problem], arch: Architecture,
                 constraints: Callable[[Problem], Constraints | None], objective: str = "energy", mode: str = "exact",
                 progress: Progress = None) -> tuple[list[dict], list[dict]]:
    """(records of the mapped layers in order, [{"layer", "reason"}] of the unmapped ones)."""
    done: dict[str, tuple[dict | None, str | None]] = {}
    records, unmapped = [], []
    for layer in layers:
        key = layer.shape_key()
        if key not in done:
            found = search_layer(layer, arch, constraints(layer), objective, mode=mode)
            done[key] = (found.result.to_dict() if found.result else None, found.reason)
            if progress:
                progress(f"{arch.name} {layer.name}: " + (f"{done[key][0]['energy_per_mac_pj']:.4g} {arch.energy_units}/MAC, "
                                                         f"{found.seconds:.1f} s" if done[key][0] else "no mapping"))
        rec, reason = done[key]
        if rec is None:
            unmapped.append({"layer": layer.name, "reason": reason})
        else:
            records.append({**rec, "layer": layer.name, "kind": layer.kind})
    return records, unmapped


def arch_constraints(arch: Architecture, dataflow: str | None) -> Callable[[Problem], Constraints | None]:
    """Constraints per layer: ``dataflow``, else the architecture's own dataflow, else none."""
    name = dataflow or arch.dataflow
    return (lambda p: None) if name is None else (lambda p: constraints_for(name, p, arch))
