"""loopnest layer and mapping -> Timeloop problem and mapping YAML (the inverse of the importer's
problem and mapping parts, so an exported mapping imports back to the same loop nest).

Problem: the layer's dimensions and tensors as data-spaces (weights, inputs, outputs in that
order; the outputs ``read-write: true``); each coefficient above 1 becomes a named coefficient.
Mapping, per level: a temporal entry (every dimension's factor, the permutation INNER -> OUTER,
Timeloop's order), a spatial entry where the level has a fanout (X dimensions first, ``split`` =
their count; a dimension loopnest unrolls on both X and Y goes whole onto the axis that fits it,
since a Timeloop spatial level holds one factor per dimension) and a datatype entry (keep /
bypass by data-space name). A level with partitions (Eyeriss's scratchpads) is one Timeloop
component per partition, ``<level>_<tensor>``, each holding its tensor; the last holds the loops
and the fanout, the others none, which gives every tensor the same tiles. With the architecture (``with_arch``): a v0.3 tree with one
container per fanout, the resolved energies as an Accelergy ERT (pJ per block access) and the areas
as an ART; network energies have no place there and are named in the header. Without it, a
re-imported layer takes its bit width from the architecture it is evaluated on.
"""

from __future__ import annotations

from math import prod
from pathlib import Path

import yaml

from loopnest.arch.spec import Architecture
from loopnest.interop import InteropError
from loopnest.mapping.mapping import Mapping, full_order, keeps
from loopnest.workload.problem import ROLES, Problem


def timeloop_problem(problem: Problem) -> dict:
    coefficients: list[dict] = []
    spaces = []
    for role in ("weights", "inputs", "outputs"):
        t = problem.tensor(role)
        proj = []
        for axis in t.indices:
            terms = []
            for d, c in axis.items():
                if c == 1:
                    terms.append([d])
                else:
                    name = f"{t.name}_{d}_{len(coefficients)}"
                    coefficients.append({"name": name, "default": c})
                    terms.append([d, name])
            proj.append(terms)
        spaces.append({"name": t.name, "projection": proj, **({"read-write": True} if role == "outputs" else {})})
    shape = {"name": problem.name, "dimensions": list(problem.dim_names)}
    if coefficients:
        shape["coefficients"] = coefficients
    shape["data-spaces"] = spaces
    return {"shape": shape, "instance": dict(problem.dims)}


def _perm(dims: list[str]) -> str | list[str]:
    return "".join(dims) if all(len(d) == 1 for d in dims) else dims


def _one_axis_each(name: str, sx: dict, sy: dict, cap_x: int, cap_y: int, folded: list[str]) -> tuple[dict, dict]:
    """The spatial factors with every dimension whole on one axis. A Timeloop spatial level holds
    one factor per dimension (NVlabs/timeloop issue 162), so a dimension loopnest unrolls on both X
    and Y goes whole onto one axis, and other dimensions move where that is needed to fit the
    fanout (the fewest moves). loopnest's counts depend on each dimension's product only, so the
    results are unchanged; ``folded`` collects 'level: dim' for each dimension moved."""
    dims = [d for d in dict.fromkeys([*sx, *sy]) if sx.get(d, 1) * sy.get(d, 1) > 1]
    if not any(sx.get(d, 1) > 1 and sy.get(d, 1) > 1 for d in dims):
        return dict(sx), dict(sy)
    total = {d: sx.get(d, 1) * sy.get(d, 1) for d in dims}
    best = None
    for bits in range(1 << len(dims)):
        on_x = [d for i, d in enumerate(dims) if bits >> i & 1]
        on_y = [d for d in dims if d not in on_x]
        if prod(total[d] for d in on_x) > cap_x or prod(total[d] for d in on_y) > cap_y:
            continue
        moved = [d for d in dims if (d in on_x and sx.get(d, 1) != total[d]) or (d in on_y and sy.get(d, 1) != total[d])]
        if best is None or len(moved) < len(best[2]):
            best = (on_x, on_y, moved)
    if best is None:
        both = next(d for d in dims if sx.get(d, 1) > 1 and sy.get(d, 1) > 1)
        raise InteropError(f"level {name}: dimension {both} is unrolled on both X and Y, and no placement of whole "
                           f"dimensions on the axes fits the {cap_x} x {cap_y} fanout; a Timeloop spatial level holds "
                           "one factor per dimension (NVlabs/timeloop issue 162), so this mapping cannot be exported")
    on_x, on_y, moved = best
    folded += [f"{name}: {d}" for d in moved]
    return {d: total[d] for d in on_x}, {d: total[d] for d in on_y}


def timeloop_mapping(problem: Problem, arch: Architecture, mapping: Mapping, folded: list[str] | None = None,
                     split: bool = False) -> list[dict]:
    """The mapping entries; ``folded`` collects 'level: dim' for each dimension moved onto one axis;
    ``split``: target the per-partition components ``timeloop_arch`` writes (else the level names)."""
    dims = list(problem.dim_names)
    names = {r: problem.tensor(r).name for r in ROLES}
    folded = [] if folded is None else folded
    out = []
    for lv, lm in zip(arch.levels, mapping.levels):
        kept = keeps(lm, lv.keeps)
        parts = _partitions(lv) if split else []
        for part in parts[:-1]:  # the outer partitions: no loops, their own tensor only
            out.append({"target": component_name(lv, part), "type": "temporal",
                        "factors": " ".join(f"{d}=1" for d in dims), "permutation": _perm(dims[::-1])})
            out.append({"target": component_name(lv, part), "type": "datatype",
                        "keep": [names[part]] if part in kept else [],
                        "bypass": [names[r] for r in ROLES if r != part or r not in kept]})
        last = parts[-1] if parts else None
        target = component_name(lv, last)
        inner_first = list(reversed(full_order(lm, problem)))
        out.append({"target": target, "type": "temporal",
                    "factors": " ".join(f"{d}={lm.temporal.get(d, 1)}" for d in dims),
                    "permutation": _perm(inner_first)})
        if lv.fanout is not None and lv.fanout.size > 1:
            sx, sy = _one_axis_each(lv.name, lm.spatial_x, lm.spatial_y, lv.fanout.x, lv.fanout.y, folded)
            x = [d for d in dims if sx.get(d, 1) > 1]
            y = [d for d in dims if sy.get(d, 1) > 1]
            rest = [d for d in dims if d not in x and d not in y]
            factors = {**{d: sx[d] for d in x}, **{d: sy[d] for d in y}}
            out.append({"target": target, "type": "spatial",
                        "factors": " ".join(f"{d}={factors.get(d, 1)}" for d in dims),
                        "permutation": _perm(x + y + rest), "split": len(x)})
        mine = [r for r in ROLES if r in kept and (last is None or r == last)]
        out.append({"target": target, "type": "datatype", "keep": [names[r] for r in mine],
                    "bypass": [names[r] for r in ROLES if r not in mine]})
    return out


_CLASS = {"dram": "DRAM", "sram": "SRAM", "regfile": "regfile", "register": "regfile"}


def _partitions(lv) -> list[str]:
    return [r for r in ROLES if r in lv.partitions] if lv.partitions is not None else []


def _components(arch: Architecture):
    """(level index, partition role or None, level) outer -> inner: a level with partitions is one
    Timeloop component per partition (in ROLES order; the last holds the loops and the fanout)."""
    for i, lv in enumerate(arch.levels):
        for part in _partitions(lv) or [None]:
            yield i, part, lv


def component_name(lv, part: str | None) -> str:
    return lv.name if part is None else f"{lv.name}_{part}"


def timeloop_arch(arch: Architecture, problem: Problem) -> dict:
    """The ``architecture`` (v0.3 tree: a container per fanout, ``NAME[0..n-1]``, absolute meshX),
    ``ERT`` and ``ART`` sections of a resolved architecture (energies in pJ per block access, as
    loopnest charges them) and the bypass constraints of levels that may not hold every tensor."""
    if arch.energy_units != "pJ":
        raise InteropError(f"{arch.name}: energies in {arch.energy_units}; Accelergy's tables are in pJ: "
                           "resolve it with a pJ table to export it (--table horowitz45)")
    if arch.compute.pim is not None:
        raise InteropError(f"{arch.name}: compute.pim: an analog PIM array is a feature the Timeloop export lacks")
    names = {r: problem.tensor(r).name for r in ROLES}
    ert, art, cons = [], [], []
    root: dict = {"name": "system", "attributes": {"technology": f"{arch.technology_nm:g}nm",
                                                   "global_cycle_seconds": 1e-6 / arch.clock_mhz}, "local": []}
    node, path, mesh_x = root, "system", 1
    for i, part, lv in _components(arch):
        keeps = lv.keeps if part is None else (part,)
        capacity = lv.capacity_words if part is None else lv.partitions[part]
        name = component_name(lv, part)
        attrs: dict = {"word-bits": lv.word_bits, "block-size": lv.block_words, "width": lv.word_bits * lv.block_words}
        if capacity is not None:
            if capacity % lv.block_words:
                raise InteropError(f"levels[{i}] ({lv.name}): capacity {capacity} words is not a whole number "
                                   f"of {lv.block_words}-word blocks (Timeloop's depth)")
            attrs["depth"] = capacity // lv.block_words
        for k in ("read_bandwidth", "write_bandwidth"):
            if getattr(lv, k) is not None:
                attrs[k] = getattr(lv, k)
        if lv.double_buffered:
            attrs["multiple-buffering"] = 2
        if mesh_x > 1:
            attrs["meshX"] = mesh_x
        node["local"].append({"name": name, "class": _CLASS[lv.cls], "attributes": attrs})
        role = part or "inputs"
        ert.append({"name": f"{path}.{name}", "actions": [{"name": a, "energy": lv.energy_of(r, a)} for a, r in
                                                           (("read", role), ("write", role), ("update", part or "outputs"))]})
        share = 1.0 if part is None else capacity / lv.total_words  # a partition's share of the level's area
        art.append({"name": f"{path}.{name}", "area": (lv.area_um2 or 0.0) * share})
        if set(keeps) != set(ROLES):
            cons.append({"target": name, "type": "bypass", "bypass": [names[r] for r in ROLES if r not in keeps]})
        if lv.fanout is not None and lv.fanout.size > 1 and (part is None or part == _partitions(lv)[-1]):
            mesh_x *= lv.fanout.x
            child = {"name": f"{lv.name}_array[0..{lv.fanout.size - 1}]", "local": []}
            node["subtree"] = [child]
            node, path = child, f"{path}.{lv.name}_array[0..{lv.fanout.size - 1}]"
    c = arch.compute
    mac = {"datawidth": c.operand_bits, **({"meshX": mesh_x} if mesh_x > 1 else {})}
    node["local"].append({"name": c.name, "class": "fpmac" if c.arithmetic == "fp" else "intmac", "attributes": mac})
    ert.append({"name": f"{path}.{c.name}", "actions": [{"name": "mac_random", "energy": c.energy_pj}]})
    art.append({"name": f"{path}.{c.name}", "area": c.area_um2 or 0.0})
    out = {"architecture": {"version": 0.3, "subtree": [root]}, "ERT": {"version": 0.3, "tables": ert},
           "ART": {"version": 0.3, "tables": art}}
    if cons:
        out["architecture_constraints"] = {"targets": cons}
    return out


def write_timeloop(problem: Problem, arch: Architecture, mapping: Mapping, path: Path,
                   with_arch: bool = False) -> Path:
    """One Timeloop YAML file holding the ``problem`` and ``mapping`` sections (and, ``with_arch``,
    the architecture, its ERT and ART and its bypass constraints)."""
    folded: list[str] = []
    data = {"problem": timeloop_problem(problem), "mapping": timeloop_mapping(problem, arch, mapping, folded, with_arch)}
    head = (f"# {problem.name} on {arch.name}, exported by loopnest. Timeloop permutations are inner -> outer.\n")
    if with_arch:
        data = {**timeloop_arch(arch, problem), **data}
        if any(lv.fanout is not None and (lv.fanout.energy_pj or 0) > 0 for lv in arch.levels):
            head += ("# Network energies are not in the ERT (Timeloop's default networks charge none): "
                     + ", ".join(f"{lv.name} {lv.fanout.energy_pj:.4g} pJ/word" for lv in arch.levels
                                 if lv.fanout is not None and (lv.fanout.energy_pj or 0) > 0) + "\n")
        plain = [lv.name for lv in arch.levels if lv.fanout is not None and not lv.fanout.shares_all]
        if plain:
            head += (f"# Fanouts without multicast or spatial reduction in loopnest: {', '.join(plain)}; Timeloop's default "
                     "network has both\n")
    if folded:
        head += (f"# Unrolled on both X and Y in loopnest, on one axis here (same counts: they depend on the product): "
                 f"{', '.join(folded)}\n")
    try:
        path.write_text(head + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120))
    except OSError as e:
        raise InteropError(f"-o: {path}: cannot write ({e.strerror})") from None
    return path
