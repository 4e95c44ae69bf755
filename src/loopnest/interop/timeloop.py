"""Timeloop/Accelergy YAML -> loopnest architecture, layer and mapping spec data.

The files are read together as Timeloop does (their top-level sections merged; a section given
twice is an error): ``architecture`` (see :mod:`loopnest.interop.timeloop_arch`), ``problem``,
``mapping``, ``ERT``/``ART`` (Accelergy energy and area tables), ``variables`` (names an
architecture attribute may use: ``depth: glb_depth * 2``; an attribute may also name the
attributes in scope, its own and its containers') and, read for bypass only,
``architecture_constraints``/``mapspace_constraints``/``mapspace``.

Problem: ``shape`` (``dimensions``, ``coefficients`` with defaults, ``data-spaces`` with
``projection``: one list of terms per axis, a term ``[dim]`` or ``[dim, coefficient]``, and
``read-write: true`` on the output) and ``instance`` (dimension sizes, coefficient values) become
a layer of type ``einsum`` with the same dimension names, except K, renamed M (loopnest's name
for output channels) where the problem has no M. Roles: the read-write data-space is
``outputs``; of the other two, one named like weights/filter is ``weights`` (else the first
listed, Timeloop's CNN-layer order), the other ``inputs``. Word width: the compute's datawidth
when the architecture is imported with it, else 16 bits.

Mapping: ``target``, ``type`` (temporal | spatial | bypass | datatype | dataspace), ``factors``
(``"R=3 P=1"``, ``"R3 P1"`` or a list), ``permutation`` (Timeloop lists loops INNER -> OUTER;
loopnest writes them outer -> inner, so the order is reversed), ``split`` (spatial: the first
``split`` dimensions of the permutation go to X, the rest to Y; default all X), ``keep``/``bypass``.
"""

from __future__ import annotations

import re
from pathlib import Path

from loopnest.datafile import DataFileError, read_yaml
from loopnest.interop import Imported, InteropError, Notes
from loopnest.interop import timeloop_arch as tarch
from loopnest.interop.accelergy import read_tables
from loopnest.workload.problem import ROLES

SECTIONS = ("architecture", "problem", "mapping", "ERT", "ART", "architecture_constraints", "mapspace_constraints",
            "mapspace", "variables")
_NOT_READ = ("mapper", "components", "compound_components", "globals", "sparse_optimizations",
             "ERT_summary", "ART_summary")
_FACTOR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*?)=?(\d+)$")


def import_files(paths: list[str | Path]) -> Imported:
    """Read Timeloop/Accelergy files into loopnest spec data (validated later by the loaders)."""
    notes = Notes()
    found: dict[str, tuple[str, object]] = {}
    for path in paths:
        try:
            data = read_yaml(path, tagged=True)
        except DataFileError as e:
            raise InteropError(str(e)) from None
        if not isinstance(data, dict):
            raise InteropError(f"{path}: a Timeloop file is a mapping of sections ({', '.join(SECTIONS[:3])}, ...)")
        for key, value in data.items():
            if key in _NOT_READ:
                notes.add(f"section {key!r} (not read by the importer)", str(path))
                continue
            if key not in SECTIONS:
                raise InteropError(f"{path}: top-level key {key!r} is not a Timeloop section; "
                                   f"known: {', '.join(SECTIONS + _NOT_READ)}")
            if key in found:
                raise InteropError(f"{path}: section {key!r} is given twice (also in {found[key][0]})")
            found[key] = (str(path), value)
    out = Imported(notes=notes)
    roles, layer_dims, rename = {"Weights": "weights", "Inputs": "inputs", "Outputs": "outputs"}, None, {}
    problem = None
    if "problem" in found:
        src, p = found["problem"]
        problem, roles, layer_dims = _problem(p, src, notes)
        if "K" in layer_dims and "M" not in layer_dims:  # loopnest's name for output channels (docs/architecture.md)
            rename = {"K": "M"}
            problem = _renamed(problem, rename)
            notes.add("dimension K renamed M (loopnest's name for output channels)", f"{src}: problem.shape.dimensions")
    stem = Path(str(paths[0])).stem.split(".")[0] if paths else "timeloop"
    if "architecture" in found:
        src, a = found["architecture"]
        ert = read_tables({"ERT": found["ERT"][1]}, "ERT", found["ERT"][0], notes) if "ERT" in found else {}
        art = read_tables({"ART": found["ART"][1]}, "ART", found["ART"][0], notes) if "ART" in found else {}
        variables = found.get("variables", (None, {}))[1]
        if not isinstance(variables, dict):
            raise InteropError(f"{found['variables'][0]}: variables: a mapping of names to values is required")
        comps = tarch.flatten(a, src, notes, {k: v for k, v in variables.items() if k != "version"})
        _arch_constraints(found, comps, roles, notes)
        out.arch = tarch.build(comps, roles, ert, art, notes, f"{stem}-imported")
        if ert:
            for lv in out.arch["levels"]:
                if "fanout" in lv:
                    lv["fanout"]["energy_pj"] = 0.0
                    notes.add("network energy 0 pJ (the ERT gives none; Timeloop's default networks charge none)",
                              lv["name"])
    elif "ERT" in found or "ART" in found:
        notes.add("ERT/ART without an architecture (nothing to attach them to)", found.get("ERT", found.get("ART"))[0])
    if problem is not None:
        bits = out.arch["compute"].get("operand_bits") if out.arch else None
        if bits is None:
            notes.add("word width of the problem's data: 16 bits (no compute datawidth given)", found["problem"][0])
        out.layers = [{"layer": {**problem, "bits": bits or 16}}]
    if "mapping" in found:
        src, m = found["mapping"]
        out.mapping = {"mapping": [_renamed_level(lv, rename) for lv in _mapping(m, src, roles, layer_dims, out.arch, notes)]}
    return out


# --- problem --------------------------------------------------------------------------------

def _keys(factors: dict, rename: dict[str, str]) -> dict:
    return {rename.get(d, d): v for d, v in factors.items()}


def _renamed(problem: dict, rename: dict[str, str]) -> dict:
    """The einsum layer data with dimensions renamed."""
    return {**problem, "dims": _keys(problem["dims"], rename),
            "tensors": [{**t, "indices": [_keys(i, rename) for i in t["indices"]]} for t in problem["tensors"]]}


def _renamed_level(lv: dict, rename: dict[str, str]) -> dict:
    """One level of the mapping data with dimensions renamed."""
    out = dict(lv)
    if "temporal" in lv:
        out["temporal"] = _keys(lv["temporal"], rename)
        out["order"] = [rename.get(d, d) for d in lv["order"]]
    if "spatial" in lv:
        out["spatial"] = {a: _keys(fs, rename) for a, fs in lv["spatial"].items()}
    return out


def _problem(p: object, src: str, notes: Notes) -> tuple[dict, dict[str, str], list[str]]:
    where = f"{src}: problem"
    if not isinstance(p, dict) or not isinstance(p.get("shape"), dict) or not isinstance(p.get("instance"), dict):
        raise InteropError(f"{where}: shape and instance (mappings) are required")
    shape, inst = p["shape"], p["instance"]
    for k in p:
        if k not in ("shape", "instance", "version"):
            notes.add(f"problem key {k!r} (not read)", where)
    dims = shape.get("dimensions")
    if not isinstance(dims, list) or not dims or not all(isinstance(d, str) for d in dims):
        raise InteropError(f"{where}.shape.dimensions: a list of dimension names is required")
    coefs: dict[str, object] = {}
    for i, c in enumerate(shape.get("coefficients") or []):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise InteropError(f"{where}.shape.coefficients[{i}]: name (and default) are required")
        coefs[c["name"]] = c.get("default", 1)
    for k, v in inst.items():
        if k in coefs:
            coefs[k] = v
        elif k not in dims:
            why = "densities: loopnest's sparsity model is not read from here" if k == "densities" else "not read"
            notes.add(f"problem instance key {k!r} (not a dimension or coefficient; {why})", f"{where}.instance")
    sizes = {}
    for d in dims:
        if d not in inst:
            raise InteropError(f"{where}.instance.{d}: missing (every dimension needs a size)")
        sizes[d] = tarch._int(inst[d], f"{where}.instance.{d}")
    spaces = shape.get("data-spaces", shape.get("data_spaces"))
    if not isinstance(spaces, list) or len(spaces) != 3:
        raise InteropError(f"{where}.shape.data-spaces: three data-spaces are required (loopnest models two "
                           f"operands and one result), got {len(spaces) if isinstance(spaces, list) else spaces!r}")
    tensors, names = [], []
    for i, ds in enumerate(spaces):
        w = f"{where}.shape.data-spaces[{i}]"
        if not isinstance(ds, dict) or not isinstance(ds.get("name"), str):
            raise InteropError(f"{w}: name and projection are required")
        w = f"{w} ({ds['name']})"
        names.append(ds["name"])
        tensors.append({"name": ds["name"], "indices": _projection(ds.get("projection"), w, dims, coefs),
                        "rw": bool(ds.get("read-write", ds.get("read_write", False)))})
    roles = _roles(tensors, where)
    out = {"type": "einsum", "name": str(shape.get("name") or Path(src).stem), "dims": sizes,
           "tensors": [{"name": t["name"], "role": roles[t["name"]], "indices": t["indices"],
                        "static": roles[t["name"]] == "weights" and _weightish(t["name"])} for t in tensors]}
    return out, roles, list(dims)


def _projection(proj: object, where: str, dims: list[str], coefs: dict) -> list[dict[str, int]]:
    if isinstance(proj, str):
        raise InteropError(f"{where}.projection: a projection written as an expression string is a feature "
                           "loopnest lacks; write it in list form [[[dim, coefficient], ...], ...]")
    if not isinstance(proj, list) or not proj:
        raise InteropError(f"{where}.projection: a list of axes is required")
    axes = []
    for a, axis in enumerate(proj):
        if not isinstance(axis, list) or not axis:
            raise InteropError(f"{where}.projection[{a}]: a list of terms [dim] or [dim, coefficient] is required")
        index: dict[str, int] = {}
        for t, term in enumerate(axis):
            w = f"{where}.projection[{a}][{t}]"
            if not isinstance(term, list) or not 1 <= len(term) <= 2:
                raise InteropError(f"{w}: a term is [dim] or [dim, coefficient], got {term!r}")
            dim = next((x for x in term if x in dims), None)
            if dim is None:
                raise InteropError(f"{w}: names no dimension of {dims}")
            coef: object = 1
            if len(term) == 2:
                other = term[1] if term[0] == dim else term[0]
                coef = coefs.get(other, other) if isinstance(other, str) else other
            value = tarch._int(coef, f"{w} (coefficient {term[-1]!r}; loopnest reads positive coefficients)")
            index[dim] = index.get(dim, 0) + value
        axes.append(index)
    return axes


def _weightish(name: str) -> bool:
    return any(w in name.lower() for w in ("weight", "filter", "kernel"))


def _roles(tensors: list[dict], where: str) -> dict[str, str]:
    outs = [t["name"] for t in tensors if t["rw"]]
    if len(outs) != 1:
        raise InteropError(f"{where}.shape.data-spaces: exactly one data-space needs read-write: true (the "
                           f"result), got {len(outs)}")
    rest = [t["name"] for t in tensors if not t["rw"]]
    w = next((n for n in rest if _weightish(n)), rest[0])
    return {outs[0]: "outputs", w: "weights", next(n for n in rest if n != w): "inputs"}


# --- constraints (bypass only) ----------------------------------------------------------------

def _arch_constraints(found: dict, comps: list, roles: dict, notes: Notes) -> None:
    """Bypass constraints of a v0.3 constraints section narrow what a level keeps."""
    for key in ("architecture_constraints", "mapspace_constraints", "mapspace"):
        if key not in found:
            continue
        src, body = found[key]
        targets = body.get("targets") if isinstance(body, dict) else None
        if targets is None and isinstance(body, dict) and isinstance(body.get("constraints"), (list, dict)):
            inner = body["constraints"]
            targets = inner.get("targets") if isinstance(inner, dict) else inner
        if not isinstance(targets, list):
            raise InteropError(f"{src}: {key}.targets: a list is required")
        by_name = {c.name: c for c in comps}
        for i, t in enumerate(targets):
            w = f"{src}: {key}.targets[{i}]"
            if not isinstance(t, dict) or t.get("target") not in by_name:
                raise InteropError(f"{w}.target: {t.get('target') if isinstance(t, dict) else t!r} is not a "
                                   f"component; components are {', '.join(by_name)}")
            if t.get("type") in ("bypass", "datatype", "dataspace") and "bypass" in t:
                c = by_name[t["target"]]
                c.constraints = {"dataspace": {"bypass": list(t["bypass"] or [])}}
                if t.get("keep"):
                    notes.add("constraint keep (loopnest's mapper chooses among the tensors a level may hold)", w)
            else:
                notes.add(f"{t.get('type')} constraint (give loopnest constraints with --constraints)", w)


# --- mapping ----------------------------------------------------------------------------------

def _factors(value: object, where: str) -> dict[str, int]:
    items = value.split() if isinstance(value, str) else value
    if isinstance(items, dict):
        items = [f"{k}={v}" for k, v in items.items()]
    if not isinstance(items, list):
        raise InteropError(f"{where}.factors: 'D=n D=n ...' or a list of them is required")
    out = {}
    for item in items:
        m = _FACTOR.match(str(item).strip())
        if m is None:
            raise InteropError(f"{where}.factors: {item!r} is not D=n")
        out[m.group(1)] = int(m.group(2))
    return out


def _permutation(value: object, where: str, dims: list[str] | None) -> list[str]:
    """Timeloop's permutation, inner -> outer, as a list of dimension names."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        text = "".join(value.split())
        if dims and any(len(d) > 1 for d in dims):
            raise InteropError(f"{where}.permutation: a string permutation needs one-letter dimensions; give a list")
        return list(text)
    raise InteropError(f"{where}.permutation: a string or a list is required")


def _mapping(m: object, src: str, roles: dict, dims: list[str] | None, arch: dict | None, notes: Notes) -> list[dict]:
    entries = m.get("mapping", m.get("targets")) if isinstance(m, dict) else m
    if not isinstance(entries, list):
        raise InteropError(f"{src}: mapping: a list of targets is required")
    names = list(dims) if dims else None
    levels: dict[str, dict] = {}
    level_keeps = {lv["name"]: lv.get("keeps", list(ROLES)) for lv in arch["levels"]} if arch else {}
    compute = arch["compute"].get("name") if arch else None
    for i, e in enumerate(entries):
        w = f"{src}: mapping[{i}]"
        if not isinstance(e, dict) or not isinstance(e.get("target"), str):
            raise InteropError(f"{w}: target (a level name) is required")
        target, kind = e["target"], e.get("type", "temporal")
        w = f"{w} ({target} {kind})"
        if arch and target not in level_keeps:
            if target == compute:
                continue
            raise InteropError(f"{w}.target: {target!r} is not a storage level; levels are {', '.join(level_keeps)}")
        lv = levels.setdefault(target, {"level": target})
        if kind in ("temporal", "spatial"):
            factors = _factors(e.get("factors", ""), w)
            for d, f in factors.items():
                if names is not None and d not in names:
                    raise InteropError(f"{w}.factors: {d} is not a dimension of the problem ({', '.join(names)})")
                if f == 0:
                    raise InteropError(f"{w}.factors: {d}=0 (a constraint wildcard) has no meaning in a mapping")
            perm = _permutation(e.get("permutation"), w, names)
            bad = [d for d in perm if names is not None and d not in names]
            if bad:
                raise InteropError(f"{w}.permutation: {bad} are not dimensions of the problem ({', '.join(names)})")
            big = {d: f for d, f in factors.items() if f > 1}
            if kind == "temporal":
                if "temporal" in lv:
                    raise InteropError(f"{w}: a second temporal entry for {target}")
                outer_first = [d for d in reversed(perm) if d in big] + [d for d in big if d not in perm]
                lv["temporal"] = {d: big[d] for d in outer_first}
                lv["order"] = outer_first
            else:
                if "spatial" in lv:
                    raise InteropError(f"{w}: a second spatial entry for {target}")
                split = e.get("split", len(perm) if perm else len(factors))
                xdims = set(perm[:split]) if perm else set(big)
                lv["spatial"] = {"x": {d: f for d, f in big.items() if d in xdims},
                                 "y": {d: f for d, f in big.items() if d not in xdims}}
                if not perm:
                    notes.add("spatial entry without a permutation: every factor on X", w)
        elif kind in ("bypass", "datatype", "dataspace"):
            keep = [tarch.role_of(n, roles, f"{w}.keep") for n in e.get("keep") or []]
            gone = {tarch.role_of(n, roles, f"{w}.bypass") for n in e.get("bypass") or []}
            allowed = level_keeps.get(target, list(ROLES))
            lv["keep"] = [r for r in ROLES if r in keep or (r in allowed and r not in gone and "keep" not in e)]
        else:
            raise InteropError(f"{w}.type: {kind!r}; a mapping target is temporal, spatial, bypass or datatype")
        for k in e:
            if k not in ("target", "type", "factors", "permutation", "split", "keep", "bypass"):
                notes.add(f"mapping key {k!r} (not read)", w)
    order = list(level_keeps) if arch else list(levels)
    return [levels[n] for n in order if n in levels]
