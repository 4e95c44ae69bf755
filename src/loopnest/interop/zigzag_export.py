"""loopnest layer and mapping -> ZigZag workload and mapping YAML (zigzag-dse 3.x), so that a
result can be checked in ZigZag. The workload part is the inverse of the ZigZag importer (an
exported layer imports back to the same problem).

Workload: one layer with operands O, W, I (``O[..]+=W[..]*I[..]``); loopnest's dimension names
become ZigZag's (N->B, M->K, P->OY, Q->OX, R->FY, S->FX; others kept, in lower case in the
equation); a tensor axis that is not one dimension with coefficient 1 is a named index defined in
``dimension_relations`` (``ix=2*ox+1*fx``); ``operand_precision`` the tensors' bits.

Mapping, ZigZag's two parts:
- ``spatial_mapping``: the architecture's fanout axes of size above 1 are numbered D1, D2, ...
  outer -> inner, X before Y (one fanout: D1 = X, D2 = Y, as the importer reads them); each axis
  lists its unrolled dimensions with their factors.
- ``temporal_ordering``: every temporal loop above 1, ZigZag's order INNERMOST FIRST: the innermost
  level's loops first, each level's order reversed (loopnest writes outer -> inner).
ZigZag gives each memory the loops that fit it, innermost up; it takes no per-level tiling from
a mapping file, so the tiles (and the counts) match loopnest's only where that allocation agrees.
The file header says so, and lists which level each loop belongs to in loopnest.
``memory_operand_links``: O -> O, W -> I2, I -> I1 (ZigZag's default links, as imported).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from loopnest.arch.spec import Architecture
from loopnest.interop import InteropError
from loopnest.interop.zigzag import RENAME
from loopnest.mapping.mapping import Mapping, full_order
from loopnest.workload.problem import Problem

OPERAND = {"outputs": "O", "weights": "W", "inputs": "I"}
LINKS = {"O": "O", "W": "I2", "I": "I1"}
TO_ZIGZAG = {v: k for k, v in RENAME.items()}  # N -> B, M -> K, ...


def zigzag_names(problem: Problem) -> dict[str, str]:
    """loopnest dimension -> ZigZag dimension (upper case); two dimensions with one ZigZag name
    (M and K, say) are refused."""
    names = {d: TO_ZIGZAG.get(d.upper(), d.upper()) for d in problem.dim_names}
    if len(set(names.values())) != len(names):
        raise InteropError(f"layer {problem.name}: dimensions {list(problem.dim_names)} collide in ZigZag's names "
                           f"({list(names.values())})")
    return names


def zigzag_layer(problem: Problem) -> dict:
    """The ZigZag workload layer (``equation``, ``dimension_relations``, loop dims and sizes, precision)."""
    names = zigzag_names(problem)
    var_of: dict[str, str] = {}  # relation right-hand side -> its index name
    ops = {}
    for role, op in OPERAND.items():
        idx = []
        for axis in problem.tensor(role).indices:
            if len(axis) == 1 and next(iter(axis.values())) == 1:
                idx.append(names[next(iter(axis))].lower())
                continue
            expr = "+".join(f"{c}*{names[d].lower()}" for d, c in axis.items())
            if expr not in var_of:
                dims = {names[d] for d in axis}
                var = "ix" if dims == {"OX", "FX"} else "iy" if dims == {"OY", "FY"} else ""
                var_of[expr] = var if var and var not in var_of.values() else f"i{len(var_of)}"
            idx.append(var_of[expr])
        ops[op] = op + "".join(f"[{i}]" for i in idx)
    bits = {op: problem.tensor(role).bits for role, op in OPERAND.items()}
    layer = {"id": 0, "name": problem.name, "operator_type": problem.kind,
             "equation": f"{ops['O']}+={ops['W']}*{ops['I']}"}
    if var_of:
        layer["dimension_relations"] = [f"{v}={e}" for e, v in var_of.items()]
    layer |= {"loop_dims": [names[d] for d in problem.dim_names],
              "loop_sizes": [int(problem.dims[d]) for d in problem.dim_names],
              "operand_precision": {"W": bits["W"], "I": bits["I"], "O": bits["O"], "O_final": bits["O"]}}
    return layer


def spatial_axes(arch: Architecture) -> list[tuple[int, str, str]]:
    """(level index, 'x' or 'y', 'D<n>') for every fanout axis of size above 1, outer -> inner."""
    out = []
    for i, lv in enumerate(arch.levels):
        if lv.fanout is None:
            continue
        for ax in ("x", "y"):
            if getattr(lv.fanout, ax) > 1:
                out.append((i, ax, f"D{len(out) + 1}"))
    return out


def zigzag_mapping(problem: Problem, arch: Architecture, mapping: Mapping) -> tuple[dict, list[str]]:
    """The ZigZag mapping entry for the layer, and the header lines: the D numbering and each
    temporal loop's loopnest level (innermost first, as in the entry)."""
    names = zigzag_names(problem)
    spatial = {}
    axes = []
    for i, ax, d in spatial_axes(arch):
        lm = mapping.levels[i]
        factors = lm.spatial_x if ax == "x" else lm.spatial_y
        axes.append(f"{d} = {arch.levels[i].name} fanout {ax.upper()} ({getattr(arch.levels[i].fanout, ax)})")
        unrolled = [f"{names[dim]}, {f}" for dim, f in factors.items() if f > 1]
        if unrolled:
            spatial[d] = unrolled
    temporal, where = [], []
    for lv, lm in reversed(list(zip(arch.levels, mapping.levels))):
        for dim in reversed(full_order(lm, problem)):
            if lm.temporal.get(dim, 1) > 1:
                temporal.append([names[dim], int(lm.temporal[dim])])
                where.append(f"{names[dim]} {lm.temporal[dim]} @ {lv.name}")
    entry = {"name": problem.name, "spatial_mapping": spatial, "temporal_ordering": temporal,
             "memory_operand_links": dict(LINKS)}
    head = [f"Array dimensions: {', '.join(axes) if axes else 'none (no fanout)'}",
            f"Temporal loops, innermost first, with their loopnest level: {'; '.join(where) if where else 'none'}",
            "ZigZag allocates these loops to its memories itself (innermost up, as they fit): the tiles, and the "
            "counts, match loopnest's where that allocation agrees with the levels above"]
    return entry, head


def write_zigzag(problem: Problem, arch: Architecture, mapping: Mapping, out: Path) -> dict[str, Path]:
    """``<stem>.workload.yaml`` (a one-layer ZigZag workload) and ``<stem>.mapping.yaml`` beside ``out``."""
    entry, head = zigzag_mapping(problem, arch, mapping)
    stem = out.name.removesuffix(".yaml").removesuffix(".yml")
    paths = {"workload": out.with_name(f"{stem}.workload.yaml"), "mapping": out.with_name(f"{stem}.mapping.yaml")}
    top = f"# {problem.name} on {arch.name}, exported by loopnest for ZigZag (zigzag-dse 3.x).\n"
    texts = {"workload": top + yaml.safe_dump([zigzag_layer(problem)], sort_keys=False, default_flow_style=None, width=120),
             "mapping": top + "".join(f"# {line}\n" for line in head)
             + yaml.safe_dump([entry], sort_keys=False, default_flow_style=None, width=120)}
    try:
        for k, p in paths.items():
            p.write_text(texts[k])
    except OSError as e:
        raise InteropError(f"-o: {out}: cannot write ({e.strerror})") from None
    return paths
