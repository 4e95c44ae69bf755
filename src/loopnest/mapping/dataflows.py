"""Dataflows as constraint presets (Chen, Emer, Sze, ISCA 2016; seed 000 "Evaluate Reuse in
Different Dataflows"). Each preset is a function of the layer and the architecture, so it applies
to any architecture whose levels allow it:

- the *PE array* is the largest fanout; the *PE-local* levels are the storage levels below it.
- ``ws`` weight stationary: weights stay in the PE: PE-local loops run only over dimensions that
  do not index weights; the array unrolls only dimensions that index weights.
- ``os`` output stationary: the same with outputs (psums accumulate in place).
- ``is`` input stationary: the same with inputs.
- ``nlr`` no local reuse: PE-local levels keep nothing; operands stream from the global buffer.
- ``os-a``, ``os-b``, ``os-c``: the output-stationary variants of ISCA 2016 (Sec. VI), which
  differ in what the array unrolls: output pixels of one channel (P, Q, and N: images are pixels
  too), pixels of several channels (P, Q, N, M: plain ``os``), output channels of one pixel (M).
- ``rs`` row stationary (Eyeriss): filter rows (R, all of them) on the array's Y axis and output
  rows (P) on its X axis; each PE runs a 1-D row convolution (the whole filter row S, one
  output row) and keeps filter row, input window and psums locally. As in ISCA 2016's
  processing passes, the array also takes several images (N) and filters (M) on X and several
  channels (C, M) on Y. Never the groups G: a depthwise layer (M = C = 1 per group) keeps at
  most R x P x N PEs busy.
- ``rs+`` row stationary plus (Eyeriss v2: Chen, Yang, Emer, Sze, IEEE JETCAS 2019): data tiled
  from all dimensions onto the array. What the paper states (its RS+ loop nest, as a public
  reading note transcribes it: docs/mapper.md): the groups (g1) and images (n1) join the spatial
  loops; several dimensions may share one physical axis of the array, and one dimension may be
  split over both axes; the filter rows may be tiled (r1) instead of all on the array at once.
  Our reading as constraints: either axis may unroll G, N, M, C, P and R, each with any factor
  (R no longer whole); PE-local levels run the whole filter row S (innermost) and one filter row
  (R = 1) of one group (G = 1: the nest has no PE-level group loop), and may hold several output
  rows (P: the nest's PE-level output loop besides the row's own). The transcribed nest runs the
  PE's 1-D convolution down a filter column; rows and columns are symmetric in a convolution, so
  we keep ``rs``'s orientation, and every ``rs`` mapping with G = 1 in the PE is an ``rs+``
  mapping.
"""

from __future__ import annotations

from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import (
    ConstraintError,
    Constraints,
    FactorRule,
    LevelConstraint,
)
from loopnest.names import did_you_mean
from loopnest.workload.problem import Problem

DATAFLOWS = {
    "ws": "weight stationary",
    "os": "output stationary",
    "is": "input stationary",
    "rs": "row stationary (Eyeriss: filter rows on Y, output rows, images and filters on X)",
    "rs+": "row stationary plus (Eyeriss v2: G, N, M, C, P, R on either axis of the array)",
    "nlr": "no local reuse",
    "os-a": "output stationary, the array over output pixels and images (P, Q, N)",
    "os-b": "output stationary, the array over pixels, images and output channels (P, Q, N, M)",
    "os-c": "output stationary, the array over output channels (M)",
}
_OS_ARRAY = {"os-a": ("P", "Q", "N"), "os-b": ("P", "Q", "N", "M"), "os-c": ("M",)}
_STATIONARY = {"ws": "weights", "os": "outputs", "is": "inputs"}
_RS_PLUS_ARRAY = ("G", "N", "M", "C", "P", "R")  # rs+: dimensions either array axis may unroll
_RS_LOCAL_ONE = {"rs": ("R", "P"), "rs+": ("R", "G")}  # dimensions whose PE-local loops are 1
ANY = FactorRule()
ONE = FactorRule(1, 1)
FULL = FactorRule(full=True)


def pe_array(arch: Architecture) -> int:
    """Index of the level whose fanout is the PE array: the largest fanout with a storage level
    (the PEs' own) below it, innermost on ties; the largest fanout if none has one (a fanout
    straight to the MACs inside a PE, as in edge-npu's 8 x 8 dot-product units, is not it)."""
    fans = [(lv.fanout.size, l) for l, lv in enumerate(arch.levels) if lv.fanout is not None and lv.fanout.size > 1]
    if not fans:
        raise ConstraintError(f"architecture {arch.name!r} has no PE array (no fanout larger than 1): dataflow presets need one")
    _, level = max([f for f in fans if f[1] < len(arch.levels) - 1] or fans)
    return level


def dataflow_constraints(name: str, problem: Problem, arch: Architecture) -> Constraints:
    """The constraint set of dataflow ``name`` for one layer on one architecture."""
    key = name.lower()
    if key not in DATAFLOWS:
        raise ConstraintError(f"unknown dataflow {name!r}{did_you_mean(key, DATAFLOWS)}; valid dataflows: {', '.join(f'{k} ({v})' for k, v in DATAFLOWS.items())}")
    array = pe_array(arch)
    if key in _OS_ARRAY:  # os, with the array unrolling only these dimensions
        allowed = {d: ANY for d in _OS_ARRAY[key]}
        only = LevelConstraint(spatial_x=allowed, spatial_y=dict(allowed))
        return dataflow_constraints("os", problem, arch).meet(Constraints({arch.levels[array].name: only}, f"dataflow {key} array"))
    local = [lv.name for lv in arch.levels[array + 1:]]
    if not local and key != "nlr":
        raise ConstraintError(f"dataflow {key} needs a storage level inside the PEs, but architecture {arch.name!r} "
                              f"has none below its PE array ({arch.levels[array].name} fanout)")
    dims = problem.dim_names
    levels: dict[str, LevelConstraint] = {}
    array_name = arch.levels[array].name
    if key in _STATIONARY:
        used = problem.relevant(problem.tensor(_STATIONARY[key]))
        axis = {d: ANY for d in used}
        levels[array_name] = LevelConstraint(spatial_x=axis, spatial_y=dict(axis))
        for n in local:
            levels[n] = LevelConstraint(temporal={d: ONE for d in used})
    elif key == "nlr":
        for n in local:
            levels[n] = LevelConstraint(keep=frozenset())
    else:  # rs, rs+
        if key == "rs+":
            x = {d: ANY for d in _RS_PLUS_ARRAY if d in dims}
            y = dict(x)
        else:
            x = {d: ANY for d in ("P", "N", "M") if d in dims}
            y = {d: ANY for d in ("C", "M") if d in dims}
            if "R" in dims:
                y["R"] = FULL
        levels[array_name] = LevelConstraint(spatial_x=x, spatial_y=y)
        for i, n in enumerate(local):
            t = {d: ONE for d in _RS_LOCAL_ONE[key] if d in dims}
            innermost = i == len(local) - 1
            if innermost and "S" in dims:
                t["S"] = FULL
            lv = arch.levels[arch.level_index(n)]
            levels[n] = LevelConstraint(temporal=t, keep=frozenset(lv.keeps) if innermost else None)
    return Constraints(levels, f"dataflow {key}")
