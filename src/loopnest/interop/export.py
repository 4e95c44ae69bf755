"""loopnest layer and mapping -> Timeloop problem and mapping YAML (the inverse of the importer's
problem and mapping parts, so an exported mapping imports back to the same loop nest).

Problem: the layer's dimensions and tensors as data-spaces (weights, inputs, outputs in that
order; the outputs ``read-write: true``); each coefficient above 1 becomes a named coefficient.
Mapping, per level: a temporal entry (every dimension's factor, the permutation INNER -> OUTER,
Timeloop's order), a spatial entry where the level has a fanout (X dimensions first, ``split`` =
their count) and a datatype entry (keep / bypass by data-space name). The architecture is not
exported: word widths come with it, so a re-imported layer takes its bit width from the
architecture it is evaluated on.
"""

from __future__ import annotations

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


def timeloop_mapping(problem: Problem, arch: Architecture, mapping: Mapping) -> list[dict]:
    dims = list(problem.dim_names)
    names = {r: problem.tensor(r).name for r in ROLES}
    out = []
    for lv, lm in zip(arch.levels, mapping.levels):
        inner_first = list(reversed(full_order(lm, problem)))
        out.append({"target": lv.name, "type": "temporal",
                    "factors": " ".join(f"{d}={lm.temporal.get(d, 1)}" for d in dims),
                    "permutation": _perm(inner_first)})
        if lv.fanout is not None and lv.fanout.size > 1:
            x = [d for d in dims if lm.spatial_x.get(d, 1) > 1]
            y = [d for d in dims if lm.spatial_y.get(d, 1) > 1]
            both = [d for d in x if d in y]
            if both:
                raise InteropError(f"level {lv.name}: dimension {both[0]} is unrolled on both X and Y; a Timeloop "
                                   "spatial mapping holds one factor per dimension per level (NVlabs/timeloop issue "
                                   "162: Timeloop needs an extra level for it), so this mapping cannot be exported")
            rest = [d for d in dims if d not in x and d not in y]
            factors = {**{d: lm.spatial_x[d] for d in x}, **{d: lm.spatial_y[d] for d in y}}
            out.append({"target": lv.name, "type": "spatial",
                        "factors": " ".join(f"{d}={factors.get(d, 1)}" for d in dims),
                        "permutation": _perm(x + y + rest), "split": len(x)})
        kept = keeps(lm, lv.keeps)
        out.append({"target": lv.name, "type": "datatype", "keep": [names[r] for r in ROLES if r in kept],
                    "bypass": [names[r] for r in ROLES if r not in kept]})
    return out


def write_timeloop(problem: Problem, arch: Architecture, mapping: Mapping, path: Path) -> Path:
    """One Timeloop YAML file holding the ``problem`` and ``mapping`` sections."""
    data = {"problem": timeloop_problem(problem), "mapping": timeloop_mapping(problem, arch, mapping)}
    head = (f"# {problem.name} on {arch.name}, exported by loopnest. Timeloop permutations are inner -> outer.\n")
    try:
        path.write_text(head + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120))
    except OSError as e:
        raise InteropError(f"-o: {path}: cannot write ({e.strerror})") from None
    return path
