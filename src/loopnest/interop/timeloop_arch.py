"""Timeloop/Accelergy architecture -> loopnest architecture spec data.

Read: the v0.2/v0.3 tree (``subtree`` containers holding ``local`` components; ``NAME[0..n-1]``
makes n instances of a container or component; ``meshX`` attributes) and the v0.4 node list
(``!Container`` and ``!Component`` nodes; ``spatial: {meshX, meshY}`` multiplies the instances of
every node after it). The components, outer -> inner, form one linear chain as in Timeloop:
storage components become loopnest levels, the one compute component the MAC.

Attributes (dashes and underscores alike): ``depth``/``memory_depth`` rows of ``width``/
``memory_width`` bits; ``word-bits`` or ``datawidth`` bits per word; ``block-size`` words per row
(default width / word bits), so the capacity is depth x block-size words; ``read_bandwidth``,
``write_bandwidth`` (words/cycle); ``multiple-buffering`` 2 -> double buffered; ``technology``
("45nm"); ``global_cycle_seconds`` -> clock. Fanouts: the instance ratio between consecutive
components, split into X (the ratio of their meshX; meshX defaults to the instance count) and Y, with multicast
and spatial reduction of partial sums (Timeloop's default network does both).

Energies: an Accelergy ERT (``ERT: tables: [{name, actions: [{name, energy}]}]``, pJ) gives a
component's read/write/update or compute energy as written (the table's last name part, without
``[..]``, names the component; where an action has several argument variants the largest energy
is used); an ART gives areas (um^2). What no table gives comes from loopnest's ``horowitz45``
table; networks get 0 pJ when an ERT is given (Timeloop's default networks charge none).
"""

from __future__ import annotations

import re

from loopnest.interop import InteropError, Notes
from loopnest.interop.accelergy import ert_storage, largest
from loopnest.workload.problem import ROLES

_RANGE = re.compile(r"^(.*?)\[(\d+)\.\.(\d+)\]$")
_STORAGE_ATTRS = {"depth", "memory_depth", "width", "memory_width", "word_bits", "datawidth", "block_size",
                  "read_bandwidth", "write_bandwidth", "multiple_buffering", "meshx", "technology",
                  "global_cycle_seconds"}
_COMPUTE_ATTRS = {"datawidth", "word_bits", "meshx", "technology", "global_cycle_seconds", "multiplier_width",
                  "adder_width"}


def split_name(name: object, where: str) -> tuple[str, int]:
    """``PE[0..15]`` -> ("PE", 16); ``Buffer`` -> ("Buffer", 1)."""
    if not isinstance(name, str) or not name:
        raise InteropError(f"{where}.name: a non-empty string is required, got {name!r}")
    m = _RANGE.match(name)
    if m is None:
        return name, 1
    lo, hi = int(m.group(2)), int(m.group(3))
    if hi < lo:
        raise InteropError(f"{where}.name: {name!r} counts down; write NAME[0..n-1]")
    return m.group(1), hi - lo + 1


def _attrs(node: dict, where: str) -> dict:
    raw = node.get("attributes") or {}
    if not isinstance(raw, dict):
        raise InteropError(f"{where}.attributes: a mapping is required")
    return {str(k).replace("-", "_").lower(): v for k, v in raw.items()}


_IDENT = re.compile(r"\b[A-Za-z_]\w*")


def substitute(text: str, names: dict, where: str, depth: int = 0) -> str:
    """``text`` with each name of a variable or an attribute replaced by its value (in parentheses),
    for the safe arithmetic of loopnest.arch.expr (names are looked up, never evaluated as code)."""
    if depth > 8:
        raise InteropError(f"{where}: {text!r}: names refer to each other more than 8 deep (a cycle?)")

    def value(m: re.Match) -> str:
        n = m.group(0)
        key = n if n in names else n.replace("-", "_").lower()
        if key not in names:
            raise InteropError(f"{where}: {text!r} names {n!r}, which is neither a variable nor an attribute "
                               "in scope (loopnest reads numbers, arithmetic and those names)")
        v = names[key]
        return f"({substitute(v, names, where, depth + 1) if isinstance(v, str) else v})"

    return _IDENT.sub(value, text)


def _int(value: object, where: str, names: dict | None = None) -> int:
    from loopnest.arch.expr import numeric_field

    if isinstance(value, str) and names:
        value = substitute(value, names, where)
    try:
        v = numeric_field(value)
    except ValueError as e:
        raise InteropError(f"{where}: {e} (loopnest reads numbers and arithmetic on numbers, not names of "
                           "other attributes)") from None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise InteropError(f"{where}: a positive integer is required, got {value!r}")
    return v


class _Component:
    def __init__(self, name: str, where: str, klass: str, attrs: dict, inherited: dict, n: int, x: int | None,
                 constraints: object):
        self.name, self.where, self.klass, self.attrs = name, where, klass, attrs
        self.inherited, self.n, self.x, self.constraints = inherited, n, x, constraints
        self.names: dict = {**inherited, **attrs}  # what an attribute's expression may name (plus variables)
        self.parts: list[_Component] = []  # a !Parallel group: its storage components side by side
        self.in_parallel = False  # a component inside a !Parallel group


def flatten(arch: dict, src: str, notes: Notes, variables: dict | None = None) -> list[_Component]:
    """The components outer -> inner with their instance counts and meshX; ``variables`` (the
    ``variables`` section) may be named in attribute expressions, as may attributes in scope."""
    if not isinstance(arch, dict):
        raise InteropError(f"{src}: architecture: a mapping is required")
    out: list[_Component] = []
    if "nodes" in arch:
        _walk_v4(arch["nodes"], f"{src}: architecture.nodes", {}, 1, 1, out, notes)
    elif "subtree" in arch:
        for i, node in enumerate(_list(arch["subtree"], f"{src}: architecture.subtree")):
            _walk_v3(node, f"{src}: architecture.subtree[{i}]", {}, 1, out, notes)
    else:
        raise InteropError(f"{src}: architecture: neither 'nodes' (v0.4) nor 'subtree' (v0.2/v0.3) is given")
    for key in arch:
        if key not in ("version", "nodes", "subtree"):
            notes.add(f"architecture key {key!r} (not read)", f"{src}: architecture")
    for c in [c for g in out for c in (g, *g.parts)]:  # an attribute written as its own name
        c.names = {**(variables or {}), **{k: v for k, v in c.names.items() if v != k}}  # means the outer one
    return out


def _list(value: object, where: str) -> list:
    if not isinstance(value, list):
        raise InteropError(f"{where}: a list is required, got {type(value).__name__}")
    return value


def _container_attrs(node: dict, where: str, inherited: dict, notes: Notes) -> dict:
    attrs = _attrs(node, where)
    for k in attrs:
        if k not in ("technology", "global_cycle_seconds", "datawidth", "word_bits"):
            notes.add(f"container attribute {k!r} (not modeled by loopnest)", where)
    return {**inherited, **attrs}


def _walk_v3(node: object, where: str, inherited: dict, n: int, out: list, notes: Notes) -> None:
    if not isinstance(node, dict):
        raise InteropError(f"{where}: a mapping (name, local, subtree) is required")
    name, count = split_name(node.get("name"), where)
    where = f"{where} ({name})"
    attrs = _container_attrs(node, where, inherited, notes)
    n *= count
    for i, local in enumerate(_list(node.get("local") or [], f"{where}.local")):
        w = f"{where}.local[{i}]"
        if not isinstance(local, dict):
            raise InteropError(f"{w}: a mapping (name, class, attributes) is required")
        lname, lcount = split_name(local.get("name"), w)
        own = _attrs(local, w)
        x = _int(own["meshx"], f"{w} ({lname}).attributes.meshX", {**attrs, **own}) if "meshx" in own else None
        out.append(_Component(lname, f"{w} ({lname})", _klass(local), own, attrs, n * lcount, x, None))
        _rest(local, f"{w} ({lname})", notes, ("name", "class", "subclass", "attributes"))
    for i, sub in enumerate(_list(node.get("subtree") or [], f"{where}.subtree")):
        _walk_v3(sub, f"{where}.subtree[{i}]", attrs, n, out, notes)
    _rest(node, where, notes, ("name", "attributes", "local", "subtree"))


def _walk_v4(nodes: object, where: str, inherited: dict, n: int, x: int, out: list, notes: Notes) -> tuple[int, int]:
    for i, node in enumerate(_list(nodes, where)):
        w = f"{where}[{i}]"
        if not isinstance(node, dict):
            raise InteropError(f"{w}: a mapping is required")
        tag = node.get("!", "Component" if "class" in node else "Container")
        name, count = split_name(node.get("name", tag), w)
        w = f"{w} ({name})"
        spatial = node.get("spatial") or {}
        if not isinstance(spatial, dict):
            raise InteropError(f"{w}.spatial: a mapping {{meshX, meshY}} is required")
        mx = _int(spatial.get("meshX", 1), f"{w}.spatial.meshX")
        my = _int(spatial.get("meshY", 1), f"{w}.spatial.meshY")
        n, x = n * count * mx * my, x * mx
        if tag == "Container":
            inherited = _container_attrs(node, w, inherited, notes)
            if "constraints" in node:
                notes.add("container constraints (read only on components)", w)
            _rest(node, w, notes, ("!", "name", "attributes", "spatial", "constraints"))
        elif tag == "Component":
            out.append(_Component(name, w, _klass(node), _attrs(node, w), inherited, n, x, node.get("constraints")))
            _rest(node, w, notes, ("!", "name", "class", "subclass", "attributes", "spatial", "constraints",
                                   "required_actions", "enabled"))
        elif tag in ("Hierarchical", "Nothing"):
            n, x = _walk_v4(node.get("nodes") or [], f"{w}.nodes", inherited, n, x, out, notes)
        elif tag == "Parallel":
            parts: list[_Component] = []
            if _walk_v4(node.get("nodes") or [], f"{w}.nodes", inherited, n, x, parts, notes) != (n, x) or any(
                    p.parts for p in parts) or not parts:
                raise InteropError(f"{w}: a !Parallel node of components side by side is read (one level with a "
                                   "partition each); a mesh, container or nested !Parallel inside it is a feature "
                                   "loopnest lacks")
            group = _Component("+".join(p.name for p in parts) if "name" not in node else name, w, "parallel", {},
                               inherited, n, x, None)
            group.parts = parts
            for p in parts:
                p.in_parallel = True
            out.append(group)
            _rest(node, w, notes, ("!", "name", "nodes"))
        else:
            raise InteropError(f"{w}: node type !{tag} is a feature loopnest lacks (it models one linear chain "
                               "of levels: !Container, !Component, !Hierarchical and !Parallel only)")
    return n, x


def _klass(node: dict) -> str:
    klass, sub = str(node.get("class", "")), node.get("subclass")
    return f"{klass}/{sub}" if sub else klass


def _rest(node: dict, where: str, notes: Notes, known: tuple[str, ...]) -> None:
    for k in node:
        if k not in known:
            notes.add(f"key {k!r} (not read)", where)


def _kind(klass: str) -> str | None:
    """compute | dram | regfile | sram, or None for a component loopnest has no counterpart for."""
    base, _, sub = klass.lower().partition("/")
    k = sub or base
    if base == "compute" or "mac" in k:
        return "compute"
    if k == "dram" or base == "dram":
        return "dram"
    if "regfile" in k or k.endswith("_rf") or "reg_storage" in k or "register" in k:
        return "regfile"
    if base in ("storage", "sram") or any(w in k for w in ("sram", "buffer", "buffet", "storage", "cache")):
        return "sram"
    return None


def technology_nm(value: object, where: str) -> float:
    m = re.fullmatch(r"\s*([0-9.]+)\s*(nm)?\s*", str(value))
    if m is None:
        raise InteropError(f"{where}: technology {value!r}: expected a node such as 45nm")
    return float(m.group(1))


def build(components: list[_Component], roles: dict[str, str], ert: dict, art: dict, notes: Notes,
          name: str) -> dict:
    """loopnest architecture spec data from the flattened components."""
    levels, compute = [], None
    chain = []
    for c in components:
        if c.parts:
            if compute is not None:
                raise InteropError(f"{c.where}: a component after the compute unit is a feature loopnest lacks "
                                   "(the MAC is the innermost component)")
            levels.append(_partitioned(c, roles, ert, art, notes))
            chain.append(c)
            continue
        kind = _kind(c.klass)
        if kind is None:
            notes.add(f"component class {c.klass!r} (no loopnest counterpart: loopnest models storage levels, "
                      "fanouts and one MAC)", c.where)
            continue
        if compute is not None:
            raise InteropError(f"{c.where}: a component after the compute unit is a feature loopnest lacks "
                               "(the MAC is the innermost component)")
        if kind == "compute":
            compute = _compute(c, ert, art, notes)
        else:
            levels.append(_storage(c, kind, roles, ert, art, notes, first=not levels))
        chain.append(c)
    if not levels:
        raise InteropError(f"{components[0].where if components else name}: no storage component: loopnest needs at least one level")
    if compute is None:
        raise InteropError(f"{chain[-1].where}: no compute component (class intmac, fpmac, mac or compute)")
    _fanouts(chain, levels)
    first = components[0]
    spec: dict = {"name": name, "description": f"imported from Timeloop ({first.where.split(':')[0]})",
                  "energy_table": "horowitz45"}
    # a container's attributes reach the components inside it: the outermost component that sees one gives it
    # (Timeloop's eyeriss_like sets the technology on the accelerator's container, inside DRAM's system)
    tech = [c for c in chain if "technology" in c.inherited]
    if tech:
        nodes = {technology_nm(c.inherited["technology"], f"{c.where}.attributes.technology") for c in tech}
        spec["technology_nm"] = next(iter(nodes)) if len(nodes) == 1 else min(nodes)
        if len(nodes) > 1:
            notes.add(f"several technology nodes ({', '.join(f'{n:g} nm' for n in sorted(nodes))}): the smallest "
                      "used for every level", tech[0].where)
    else:
        notes.add("no technology attribute: loopnest's default node (65 nm) scales the table's energies", first.where)
    clock = next((c.inherited["global_cycle_seconds"] for c in chain if "global_cycle_seconds" in c.inherited), None)
    if clock is not None:
        spec["clock_mhz"] = 1e-6 / float(clock)
    if not ert:
        notes.add("no ERT: energies and areas come from loopnest's horowitz45 table", name)
    spec["levels"] = levels
    spec["compute"] = compute
    return spec


def _bits(c: _Component) -> int | None:
    a = {**c.inherited, **c.attrs}
    for key in ("word_bits", "datawidth"):
        if key in a:
            return _int(a[key], f"{c.where}.attributes.{key}", c.names)
    return None


def _storage(c: _Component, kind: str, roles: dict, ert: dict, art: dict, notes: Notes, first: bool) -> dict:
    a = c.attrs
    for k in a:
        if k not in _STORAGE_ATTRS:
            notes.add(f"attribute {k!r} (not modeled by loopnest)", c.where)
    wb = _bits(c)
    if wb is None:
        notes.add("no word-bits or datawidth: 16-bit words assumed", c.where)
        wb = 16
    width = a.get("width", a.get("memory_width"))
    width = _int(width, f"{c.where}.attributes.width", c.names) if width is not None else None
    if "block_size" in a:
        block = _int(a["block_size"], f"{c.where}.attributes.block-size", c.names)
    else:
        block = max(1, width // wb) if width is not None else 1
    depth = a.get("depth", a.get("memory_depth"))
    lv: dict = {"name": c.name, "class": kind, "word_bits": wb, "block_words": block}
    if depth is not None:
        lv["capacity_words"] = _int(depth, f"{c.where}.attributes.depth", c.names) * block
    elif not first:
        raise InteropError(f"{c.where}.attributes.depth: missing; loopnest needs the capacity of every level "
                           "but the outermost")
    for k in ("read_bandwidth", "write_bandwidth"):
        if k in a:
            lv[k] = substitute(a[k], c.names, f"{c.where}.attributes.{k}") if isinstance(a[k], str) else a[k]
    if "multiple_buffering" in a:
        mb = _int(a["multiple_buffering"], f"{c.where}.attributes.multiple-buffering", c.names)
        if mb == 2:
            lv["double_buffered"] = True
        elif mb != 1:
            notes.add(f"multiple-buffering {mb} (loopnest models 1 or 2)", c.where)
    keeps = _keeps(c, roles, notes)
    if keeps is not None:
        lv["keeps"] = keeps
    energy = ert_storage(ert.get(c.name), c.where, notes)
    if energy:
        lv["energy_pj"] = energy
    if c.name in art:
        lv["area_um2"] = art[c.name]
    return lv


def _partitioned(group: _Component, roles: dict, ert: dict, art: dict, notes: Notes) -> dict:
    """A !Parallel group of storage components (Eyeriss's three scratchpads) -> one level with a
    partition per component: each must keep one data-space (its dataspace constraint); the level's
    word is the widest component word, and each partition's capacity keeps the component's bits
    (depth x width / word bits); per-partition energies from the ERT, the area the components' sum."""
    levels = []
    for c in group.parts:
        kind = _kind(c.klass)
        if kind not in ("regfile", "sram"):
            raise InteropError(f"{c.where}: a {c.klass!r} component inside !Parallel; loopnest reads storage "
                               "components side by side there (one partition each)")
        lv = _storage(c, kind, roles, ert, art, notes, first=False)
        if len(lv.get("keeps", ())) != 1:
            raise InteropError(f"{c.where}.constraints.dataspace: a component inside !Parallel must keep one "
                               f"data-space (keep, keep_only or bypass the others); it keeps {lv.get('keeps', 'all')}")
        levels.append(lv)
    bits = max(lv["word_bits"] for lv in levels)
    if len({lv["word_bits"] for lv in levels}) > 1:
        notes.add(f"!Parallel components of different word widths ({', '.join(str(lv['word_bits']) for lv in levels)} "
                  f"bits): one level of {bits}-bit words, each partition holding its component's bits", group.where)
    parts: dict = {}
    for lv in levels:
        role = lv["keeps"][0]
        if role in parts:
            raise InteropError(f"{group.where}: two components inside !Parallel keep {role}")
        parts[role] = max(1, lv["capacity_words"] * lv["word_bits"] // bits)
    out: dict = {"name": group.name, "class": "regfile" if all(lv["class"] == "regfile" for lv in levels) else "sram",
                 "word_bits": bits, "block_words": 1, "keeps": [r for r in ROLES if r in parts],
                 "partitions": {r: parts[r] for r in ROLES if r in parts}}
    for k in ("read_bandwidth", "write_bandwidth"):
        if all(k in lv for lv in levels):
            out[k] = max(lv[k] for lv in levels)
    by_role = {lv["keeps"][0]: lv["energy_pj"] for lv in levels if "energy_pj" in lv}
    if by_role:
        if len(by_role) < len(levels):
            raise InteropError(f"{group.where}: the ERT gives energies for some components inside !Parallel but not all")
        out["energy_pj_by_role"] = by_role
    if all("area_um2" in lv for lv in levels):
        out["area_um2"] = sum(lv["area_um2"] for lv in levels)
    return out


def _keeps(c: _Component, roles: dict, notes: Notes) -> list[str] | None:
    cons = c.constraints
    if not cons:
        return None
    if not isinstance(cons, dict):
        raise InteropError(f"{c.where}.constraints: a mapping is required")
    ds = cons.get("dataspace") or {}
    for k in cons:
        if k != "dataspace":
            notes.add(f"mapspace constraint {k!r} (give loopnest constraints with --constraints)", f"{c.where}.constraints")
    if "keep_only" in ds:
        return [role_of(n, roles, f"{c.where}.constraints.dataspace.keep_only") for n in ds["keep_only"]]
    if "bypass" in ds:
        gone = {role_of(n, roles, f"{c.where}.constraints.dataspace.bypass") for n in ds["bypass"]}
        return [r for r in ROLES if r not in gone]
    if "keep" in ds and c.in_parallel:  # side by side, a component holds what it keeps and nothing else
        return [role_of(n, roles, f"{c.where}.constraints.dataspace.keep") for n in ds["keep"]]
    for k in ds:
        notes.add(f"dataspace constraint {k!r} (loopnest reads keep_only and bypass)", f"{c.where}.constraints")
    return None


def role_of(name: object, roles: dict, where: str) -> str:
    if name not in roles:
        raise InteropError(f"{where}: {name!r} is not a data-space of the problem; data-spaces are {', '.join(roles)}")
    return roles[name]


def _compute(c: _Component, ert: dict, art: dict, notes: Notes) -> dict:
    for k in c.attrs:
        if k not in _COMPUTE_ATTRS:
            notes.add(f"attribute {k!r} (not modeled by loopnest)", c.where)
    out: dict = {"name": c.name}
    bits = _bits(c)
    if "multiplier_width" in c.attrs:  # v0.4 intmac: operand and accumulator widths
        bits = _int(c.attrs["multiplier_width"], f"{c.where}.attributes.multiplier_width", c.names)
    if bits is not None:
        out["operand_bits"] = bits
    if "adder_width" in c.attrs:
        out["accumulator_bits"] = _int(c.attrs["adder_width"], f"{c.where}.attributes.adder_width", c.names)
    if "fp" in c.klass.lower():
        out["arithmetic"] = "fp"
    table = ert.get(c.name)
    if table:
        pick = next((a for a in ("compute", "mac_random", "multiply_accumulate") if a in table), None)
        pick = pick or next((a for a in table if "mac" in a), None)
        if pick is None:
            raise InteropError(f"{c.where}: the ERT gives {sorted(table)} but no compute or mac_random action")
        out["energy_pj"] = largest(table[pick], f"{c.where} ERT action {pick}", notes)
    if c.name in art:
        out["area_um2"] = art[c.name]
    return out


def _fanouts(chain: list[_Component], levels: list[dict]) -> None:
    """Each level's fanout: the instance ratio to the next component, X from the meshX ratio."""
    for i, lv in enumerate(levels):
        parent, child = chain[i], chain[i + 1]
        px, cx = parent.x or parent.n, child.x or child.n
        if child.n % parent.n:
            raise InteropError(f"{child.where}: {child.n} instances are not a multiple of the {parent.n} of "
                               f"{parent.name} above it")
        ratio = child.n // parent.n
        if cx % px or ratio % (cx // px):
            raise InteropError(f"{child.where}: meshX {cx} over meshX {px} of {parent.name} does not split the "
                               f"fanout of {ratio} into whole X and Y")
        if ratio > 1:
            lv["fanout"] = {"x": cx // px, "y": ratio // (cx // px), "multicast": True, "reduction": True}
