"""loopnest layer and mapping -> Timeloop problem and mapping YAML (the inverse of the importer's
problem and mapping parts, so an exported mapping imports back to the same loop nest).

Problem: the layer's dimensions and tensors as data-spaces (weights, inputs, outputs in that
order; the outputs ``read-write: true``); each coefficient above 1 becomes a named coefficient.
Mapping, per level: a temporal entry (every dimension's factor, the permutation INNER -> OUTER,
Timeloop's order), a spatial entry where the level has a fanout (X dimensions first, ``split`` =
their count; a dimension loopnest unrolls on both X and Y goes whole onto the axis that fits it,
since a Timeloop spatial level holds one factor per dimension) and a datatype entry (keep /
bypass by data-space name). The architecture is not
exported: word widths come with it, so a re-imported layer takes its bit width from the
architecture it is evaluated on.
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


def timeloop_mapping(problem: Problem, arch: Architecture, mapping: Mapping, folded: list[str] | None = None) -> list[dict]:
    """The mapping entries; ``folded`` collects 'level: dim' for each dimension moved onto one axis."""
    dims = list(problem.dim_names)
    names = {r: problem.tensor(r).name for r in ROLES}
    folded = [] if folded is None else folded
    out = []
    for lv, lm in zip(arch.levels, mapping.levels):
        inner_first = list(reversed(full_order(lm, problem)))
        out.append({"target": lv.name, "type": "temporal",
                    "factors": " ".join(f"{d}={lm.temporal.get(d, 1)}" for d in dims),
                    "permutation": _perm(inner_first)})
        if lv.fanout is not None and lv.fanout.size > 1:
            sx, sy = _one_axis_each(lv.name, lm.spatial_x, lm.spatial_y, lv.fanout.x, lv.fanout.y, folded)
            x = [d for d in dims if sx.get(d, 1) > 1]
            y = [d for d in dims if sy.get(d, 1) > 1]
            rest = [d for d in dims if d not in x and d not in y]
            factors = {**{d: sx[d] for d in x}, **{d: sy[d] for d in y}}
            out.append({"target": lv.name, "type": "spatial",
                        "factors": " ".join(f"{d}={factors.get(d, 1)}" for d in dims),
                        "permutation": _perm(x + y + rest), "split": len(x)})
        kept = keeps(lm, lv.keeps)
        out.append({"target": lv.name, "type": "datatype", "keep": [names[r] for r in ROLES if r in kept],
                    "bypass": [names[r] for r in ROLES if r not in kept]})
    return out


def write_timeloop(problem: Problem, arch: Architecture, mapping: Mapping, path: Path) -> Path:
    """One Timeloop YAML file holding the ``problem`` and ``mapping`` sections."""
    folded: list[str] = []
    data = {"problem": timeloop_problem(problem), "mapping": timeloop_mapping(problem, arch, mapping, folded)}
    head = (f"# {problem.name} on {arch.name}, exported by loopnest. Timeloop permutations are inner -> outer.\n")
    if folded:
        head += (f"# Unrolled on both X and Y in loopnest, on one axis here (same counts: they depend on the product): "
                 f"{', '.join(folded)}\n")
    try:
        path.write_text(head + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120))
    except OSError as e:
        raise InteropError(f"-o: {path}: cannot write ({e.strerror})") from None
    return path
