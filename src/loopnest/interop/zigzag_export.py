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

Accelerator (the inverse of the importer's rules): each level a memory (a level with partitions:
one memory per partition, ``<level>_<tensor>``), ``size`` = capacity x word bits (DRAM, unbounded
here, 1e10 bits as ZigZag's examples write it), ``r_cost``/``w_cost`` the pJ of one block access,
``operands`` what it keeps (I1, I2, O), ``served_dimensions`` the array dimensions of the fanouts
below it, one read and one write port per block's worth of bandwidth (``bandwidth_max`` = block x
word bits; ``read_bandwidth`` / ``write_bandwidth`` words/cycle as that many ports); the
``operational_array`` the D numbering above with the MAC's energy and area. What ZigZag has no
place for (network energies, an update energy other than the write's, a bandwidth that is not a
whole number of blocks) is named in the file's header.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from loopnest.arch.spec import Architecture
from loopnest.interop import InteropError
from loopnest.interop.zigzag import RENAME
from loopnest.mapping.mapping import Mapping, full_order, keeps
from loopnest.workload.problem import ROLES, Problem

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
    bypassed = [f"{lv.name}: {', '.join(r for r in lv.keeps if r not in keeps(lm, lv.keeps))}"
                for lv, lm in zip(arch.levels, mapping.levels) if set(keeps(lm, lv.keeps)) != set(lv.keeps)]
    head = [f"Array dimensions: {', '.join(axes) if axes else 'none (no fanout)'}",
            f"Temporal loops, innermost first, with their loopnest level: {'; '.join(where) if where else 'none'}",
            "ZigZag allocates these loops to its memories itself (innermost up, as they fit): the tiles, and the "
            "counts, match loopnest's where that allocation agrees with the levels above"]
    if bypassed:  # a ZigZag memory holds every operand it is given: a mapping cannot bypass it
        head.append(f"Bypassed by this loopnest mapping (a ZigZag mapping cannot say so: give those memories fewer "
                    f"operands): {'; '.join(bypassed)}")
    return entry, head


ZZ_OPERAND = {"inputs": "I1", "weights": "I2", "outputs": "O"}
DRAM_BITS = 10_000_000_000  # ZigZag needs a size; its examples give off-chip DRAM this one


def _ports(ops: list[str], block_bits: int, bits: int, read_bw: float | None, write_bw: float | None,
           where: str, notes: list[str]) -> list[dict]:
    """Read and write ports of ``block_bits`` each, as many as the bandwidth (words/cycle) holds blocks."""
    ports = []
    for kind, bw, alloc in (("read", read_bw, [f"{o}, tl" for o in ops] + (["O, th"] if "O" in ops else [])),
                            ("write", write_bw, [f"{o}, fh" for o in ops] + (["O, fl"] if "O" in ops else []))):
        n = 1 if bw is None else bw * bits / block_bits
        if n != int(n) or n < 1:
            notes.append(f"{where}: {kind} bandwidth {bw:g} words/cycle is not a whole number of {block_bits // bits}-word "
                         f"blocks: one {kind} port of {bw * bits:g} bits")
            ports.append({"name": f"{kind[0]}_port_1", "type": kind, "bandwidth_min": bits,
                          "bandwidth_max": bw * bits, "allocation": alloc})
            continue
        ports += [{"name": f"{kind[0]}_port_{k + 1}", "type": kind, "bandwidth_min": bits, "bandwidth_max": block_bits,
                   "allocation": alloc} for k in range(int(n))]
    return ports


def zigzag_accelerator(arch: Architecture) -> tuple[dict, list[str]]:
    """The ZigZag accelerator (``memories``, ``operational_array``) and the header lines naming
    what it leaves out."""
    if arch.energy_units != "pJ":
        raise InteropError(f"{arch.name}: energies in {arch.energy_units}; ZigZag's costs are in pJ: resolve it with a pJ table to export it (--table horowitz45)")
    if arch.compute.pim is not None:
        raise InteropError(f"{arch.name}: compute.pim: an analog PIM array is a feature the ZigZag export lacks")
    axes = spatial_axes(arch)
    notes: list[str] = []
    memories: dict = {}
    for i, lv in enumerate(arch.levels):
        served = [d for j, _, d in axes if j >= i]
        parts = [r for r in ROLES if r in lv.partitions] if lv.partitions is not None else [None]
        for part in parts:
            keeps = [part] if part is not None else [r for r in ROLES if r in lv.keeps]
            role = part or keeps[0]
            cap = lv.total_words if part is None else lv.partitions[part]
            name = lv.name if part is None else f"{lv.name}_{part}"
            ops = [ZZ_OPERAND[r] for r in keeps]
            read, write = lv.energy_of(role, "read"), lv.energy_of(role, "write")
            if any(lv.energy_of(r, "update") != lv.energy_of(r, "write") for r in keeps if r == "outputs"):
                notes.append(f"{name}: update {lv.energy_of('outputs', 'update'):.4g} pJ (ZigZag charges an update "
                             f"as a write, {lv.energy_of('outputs', 'write'):.4g} pJ)")
            area = (lv.area_um2 or 0.0) * (1.0 if part is None else cap / lv.total_words)
            memories[name] = {
                "size": DRAM_BITS if cap is None else cap * lv.word_bits,
                "r_cost": read, "w_cost": write, "area": area, "latency": 1, "operands": ops,
                "ports": _ports(ops, lv.block_words * lv.word_bits, lv.word_bits, lv.read_bandwidth,
                                lv.write_bandwidth, name, notes),
                "served_dimensions": served}
        if lv.fanout is not None and lv.fanout.size > 1:
            if (lv.fanout.energy_pj or 0) > 0:
                notes.append(f"{lv.name}: network energy {lv.fanout.energy_pj:.4g} pJ/word (ZigZag charges none)")
            if not lv.fanout.shares_all:
                notes.append(f"{lv.name}: fanout without multicast or spatial reduction in loopnest (ZigZag's array has both)")
    c = arch.compute
    array = {"unit_energy": c.energy_pj, "unit_area": c.area_um2 or 0.0,
             "dimensions": [d for _, _, d in axes] or ["D1"],
             "sizes": [getattr(arch.levels[i].fanout, ax) for i, ax, _ in axes] or [1]}
    return {"name": arch.name, "memories": memories, "operational_array": array}, notes


class _Plain(yaml.SafeDumper):
    """Writes repeated lists out in full (no YAML anchors)."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def accelerator_text(arch: Architecture) -> str:
    """The accelerator YAML with a header naming what ZigZag has no place for."""
    acc, notes = zigzag_accelerator(arch)
    head = f"# {arch.name}, exported by loopnest for ZigZag (zigzag-dse 3.x). Operands: I1 inputs, I2 weights, O outputs.\n"
    head += "".join(f"# Not represented: {n}\n" for n in notes)
    return head + yaml.dump(acc, Dumper=_Plain, sort_keys=False, default_flow_style=None, width=120)


def write_zigzag(problem: Problem, arch: Architecture, mapping: Mapping, out: Path,
                 with_arch: bool = False) -> dict[str, Path]:
    """``<stem>.workload.yaml`` (a one-layer ZigZag workload) and ``<stem>.mapping.yaml`` beside
    ``out`` (and, ``with_arch``, ``<stem>.accelerator.yaml``)."""
    entry, head = zigzag_mapping(problem, arch, mapping)
    stem = out.name.removesuffix(".yaml").removesuffix(".yml")
    paths = {"workload": out.with_name(f"{stem}.workload.yaml"), "mapping": out.with_name(f"{stem}.mapping.yaml")}
    top = f"# {problem.name} on {arch.name}, exported by loopnest for ZigZag (zigzag-dse 3.x).\n"
    texts = {"workload": top + yaml.safe_dump([zigzag_layer(problem)], sort_keys=False, default_flow_style=None, width=120),
             "mapping": top + "".join(f"# {line}\n" for line in head)
             + yaml.safe_dump([entry], sort_keys=False, default_flow_style=None, width=120)}
    if with_arch:
        paths["accelerator"] = out.with_name(f"{stem}.accelerator.yaml")
        texts["accelerator"] = accelerator_text(arch)
    try:
        for k, p in paths.items():
            p.write_text(texts[k])
    except OSError as e:
        raise InteropError(f"-o: {out}: cannot write ({e.strerror})") from None
    return paths
