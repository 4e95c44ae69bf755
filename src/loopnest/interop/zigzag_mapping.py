"""ZigZag mapping YAML (zigzag-dse 3.x) -> loopnest mapping data, for a layer and an accelerator
imported with it (``loopnest import zigzag ACCELERATOR WORKLOAD MAPPING -o OUT.yaml``).

A ZigZag mapping file is a list of entries, each with ``name`` (a layer name, an operator type
or ``default``: the entry for a layer is the one named like it, else like its operator type,
else ``default``), ``spatial_mapping`` (``D1: ["K, 32", ...]``: layer dimensions unrolled on each
array dimension) and ``temporal_ordering`` (``[dim, size]`` loops, INNERMOST FIRST; a size ``*``
is what is left of the dimension, ``['*', '*']`` every dimension with something left).

Conversion:

* spatial: each array dimension's unrolling goes to the fanout axis the accelerator import made
  of it (``zigzag._accelerator``); an unrolling above the array or the layer dimension is cut to
  it, as ZigZag does (noted); one that does not divide what is left of the dimension is refused
  (ZigZag makes it fractional, loopnest's factors are whole).
* temporal: ZigZag allocates the loops to the memories itself, innermost up. loopnest follows
  ZigZag's rule for its EVEN mapping type (every operand of a memory gets the same loops), level
  by level from the innermost: a level takes the prefix of the loops left that fits its capacity
  with the tiles of everything it keeps (its fanout's unrolling and all below included) and, among
  those prefixes, the one with the fewest accesses to the level above (loops left x tile bits,
  summed over its operands; ties to the longer prefix); the outermost level takes the rest.
  ZigZag's per-operand memories can split the loops differently per operand (its UNEVEN type);
  loopnest's levels form one chain, so such a split is not represented, and a level whose tiles
  from below already overflow it is refused in one line.
* A dimension whose factors the ordering leaves incomplete gets its remainder as the outermost
  loop (noted). A dimension a level holds twice (K, C, K) has its factors merged, in the place
  of its first (innermost) occurrence (noted). Outputs are sized at the layer's width (ZigZag
  uses the partial-sum width until the last reduction loop).
"""

from __future__ import annotations

from math import prod

from loopnest.interop import InteropError, Notes
from loopnest.interop.zigzag import RENAME

KEYS = ("name", "spatial_mapping", "temporal_ordering", "memory_operand_links", "core_allocation")


def is_mapping(data: object) -> bool:
    """A ZigZag mapping file: a list of entries with a spatial mapping or a temporal ordering."""
    return (isinstance(data, list) and bool(data) and all(isinstance(e, dict) for e in data)
            and any("spatial_mapping" in e or "temporal_ordering" in e for e in data))


def _entry(entries: list[dict], name: str, op_type: str, src: str) -> tuple[dict, str]:
    for want in (name, op_type, "default"):
        for i, e in enumerate(entries):
            if str(e.get("name")) == want:
                return e, f"{src}: [{i}] ({want})"
    raise InteropError(f"{src}: no mapping entry named {name!r}, {op_type!r} or 'default' (the entry for a layer "
                       "is the one named like it, else like its operator type, else default)")


def _dim(text: object, dims: dict[str, int], where: str) -> str:
    d = RENAME.get(str(text).strip().upper(), str(text).strip().upper())
    if d not in dims:
        raise InteropError(f"{where}: {text!r} is not a dimension of the layer ({', '.join(dims)})")
    return d


def import_mapping(entries: list[dict], src: str, arch_data: dict, axes: dict[str, tuple[int, str, int]],
                   layer_data: dict, op_type: str, notes: Notes) -> dict:
    """loopnest mapping data for the imported layer on the imported architecture. ``axes`` maps
    each array dimension to (level index, fanout axis, size) as the accelerator import made it."""
    from loopnest.arch import ArchSpecError, parse_arch
    from loopnest.workload.layer_ref import LayerRefError, parse_layer_spec

    try:
        arch = parse_arch(arch_data, source=f"{src} (imported architecture)")
        problem = parse_layer_spec(layer_data, f"{src} (imported layer)")
    except (ArchSpecError, LayerRefError) as e:
        raise InteropError(str(e)) from None
    entry, where = _entry(entries, problem.name, op_type, src)
    for k in entry:
        if k not in KEYS:
            notes.add(f"mapping key {k!r} (not read)", where)
    if entry.get("memory_operand_links", {"O": "O", "W": "I2", "I": "I1"}) != {"O": "O", "W": "I2", "I": "I1"}:
        raise InteropError(f"{where}.memory_operand_links: only ZigZag's default links (O: O, W: I2, I: I1) are read")
    dims = dict(problem.dims)
    left = dict(dims)
    spatial: list[dict[str, dict[str, int]]] = [{"x": {}, "y": {}} for _ in arch.levels]
    sm = entry.get("spatial_mapping") or {}
    if not isinstance(sm, dict):
        raise InteropError(f"{where}.spatial_mapping: a mapping of array dimensions (D1: [\"K, 32\"]) is required")
    for oa, items in sm.items():
        w = f"{where}.spatial_mapping.{oa}"
        if oa not in axes:
            raise InteropError(f"{w}: not a dimension of the operational array ({', '.join(axes)})")
        level, ax, size = axes[oa]
        for item in items if isinstance(items, list) else [items]:
            dim_text, _, f_text = str(item).partition(",")
            d = RENAME.get(dim_text.strip().upper(), dim_text.strip().upper())
            if d not in dims:
                notes.add("spatial unrolling of a dimension the layer lacks (skipped, as ZigZag does)", w)
                continue
            try:
                f = int(f_text)
            except ValueError:
                raise InteropError(f"{w}: {item!r} is not 'DIM, factor'") from None
            cap = max(1, size // prod(spatial[level][ax].values()))
            if f > cap or f > left[d]:
                notes.add("spatial unrolling above the array or the layer dimension (cut to it, as ZigZag does)", w)
                f = min(cap, left[d])
            if f < 1 or left[d] % f:
                raise InteropError(f"{w}: {dim_text.strip()} unrolled {f} does not divide the {left[d]} left of it (ZigZag makes the "
                                   "unrolling fractional; loopnest's factors are whole)")
            spatial[level][ax][d] = spatial[level][ax].get(d, 1) * f
            left[d] //= f
    loops = _ordering(entry.get("temporal_ordering") or [], f"{where}.temporal_ordering", dims, left,
                      problem.dim_names, notes)
    return {"mapping": _allocate(loops, spatial, arch, problem, where, notes)}


def _ordering(raw: object, where: str, dims: dict[str, int], left: dict[str, int], order: tuple[str, ...],
              notes: Notes) -> list[tuple[str, int]]:
    """The temporal loops, innermost first, wildcards expanded; ``left`` is consumed."""
    if not isinstance(raw, list):
        raise InteropError(f"{where}: a list of [dimension, size] loops (innermost first) is required")
    loops = []
    for i, item in enumerate(raw):
        w = f"{where}[{i}]"
        if not (isinstance(item, list) and len(item) == 2):
            raise InteropError(f"{w}: a [dimension, size] pair is required, got {item!r}")
        if item[0] == "*":
            notes.add("temporal loop ['*', '*'] (every dimension left, in the layer's dimension order, innermost first)", w)
            loops += [(d, left[d]) for d in order if left[d] > 1]
            left.update({d: 1 for d in order})
            continue
        d = _dim(item[0], dims, w)
        f = left[d] if item[1] == "*" else item[1]
        if isinstance(f, bool) or not isinstance(f, int) or f < 1 or left[d] % f:
            raise InteropError(f"{w}: size {item[1]!r} of {item[0]} must be '*' or a whole divisor of the {left[d]} left")
        left[d] //= f
        if f > 1:
            loops.append((d, f))
    rest = [(d, n) for d, n in left.items() if n > 1]
    if rest:
        notes.add(f"temporal ordering leaves {', '.join(f'{d} {n}' for d, n in rest)} (made the outermost loops)", where)
        loops += rest
    return loops


def _allocate(loops: list[tuple[str, int]], spatial: list[dict], arch, problem, where: str, notes: Notes) -> list[dict]:
    """Loops onto levels, innermost up, by ZigZag's EVEN allocation rule (module docstring)."""
    n = len(arch.levels)
    below: dict[str, int] = {d: 1 for d in problem.dims}  # every factor at or below the level at hand
    placed: list[list[tuple[str, int]]] = [[] for _ in range(n)]
    for li in range(n - 1, -1, -1):
        lv = arch.levels[li]
        for ax in ("x", "y"):
            for d, f in spatial[li][ax].items():
                below[d] *= f
        if li == 0:
            take = len(loops)
        else:
            best, take = None, 0
            for i in range(len(loops) + 1):
                box = dict(below)
                for d, f in loops[:i]:
                    box[d] *= f
                bits = _fit(lv, problem, box)
                if bits is None:
                    if i == 0:
                        raise InteropError(f"{where}: memory {lv.name} cannot hold the tiles of the loops below it "
                                           "(ZigZag gives each operand its own loops; loopnest's levels form one chain, "
                                           "so this allocation is not represented)")
                    break
                cost = prod(f for _, f in loops[i:]) * bits
                if best is None or cost <= best:
                    best, take = cost, i
        placed[li] = loops[:take]
        for d, f in loops[:take]:
            below[d] *= f
        loops = loops[take:]
    out = []
    for li, lv in enumerate(arch.levels):
        temporal: dict[str, int] = {}
        for d, f in placed[li]:
            if d in temporal:
                notes.add(f"a dimension twice at one memory ({d}; factors merged)", f"{where}: {lv.name}")
            temporal[d] = temporal.get(d, 1) * f
        order = list(reversed(list(temporal)))  # outer -> inner
        entry: dict = {"level": lv.name, "temporal": {d: temporal[d] for d in order}, "order": order}
        if spatial[li]["x"] or spatial[li]["y"]:
            entry["spatial"] = {"x": spatial[li]["x"], "y": spatial[li]["y"]}
        out.append(entry)
    return out


def _fit(lv, problem, box: dict[str, int]) -> int | None:
    """Bits of the tiles ``lv`` keeps for the loop box, None where they overflow it."""
    total_words, total_bits = 0.0, 0
    for role in lv.keeps:
        t = problem.tensor(role)
        size = t.tile_size(box)
        words = size * lv.words_per_value(t.bits)
        cap = lv.capacity_of(role)
        if lv.partitions is not None and cap is not None and words > cap:
            return None
        total_words += words
        total_bits += size * t.bits
    if lv.partitions is None and lv.total_words is not None and total_words > lv.total_words:
        return None
    return total_bits

