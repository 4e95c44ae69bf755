"""ZigZag accelerator and workload YAML -> loopnest architecture and layer spec data.

Accelerator (zigzag-dse 3.x): ``memories`` (each: ``size`` in bits, ``r_cost``/``w_cost`` pJ per
access of the port width, ``operands`` it holds, ``served_dimensions`` of the array it is shared
over, and the port widths as ``r_bw``/``w_bw`` or ``ports`` with ``bandwidth_max``), and
``operational_array`` (``dimensions``, ``sizes``, ``unit_energy``/``multiplier_energy`` pJ).
Operands: I1 = inputs, I2 = weights, O = outputs (ZigZag's default operand links).

Conversion (the rules of benchmarks/peers/zigzag_tpu_like.yaml): ``--bits`` bit words
(default 8; the workload's precision when one comes along); capacity = size / bits words; one
block = one access of the widest read port, at r_cost / w_cost pJ, update = w_cost (a per-MAC
memory, serving no array dimension, moves one word per access: block 1); bandwidth = the ports of
a direction summed / bits words/cycle; keeps = operands. ZigZag keeps one hierarchy per operand; loopnest
one chain: memories are ordered by how many instances they have (a memory serving every array
dimension is one instance, one serving none is one per MAC), then by size, larger outer; the array
dimensions a memory stops serving make the fanout above it (D1 -> X, D2 -> Y). Networks 0 pJ
(ZigZag charges no interconnect energy); areas are ZigZag's as given.

Workload: a list of layers (``equation`` such as ``O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]``,
``dimension_relations`` such as ``ix=2*ox+1*fx``, ``loop_dims``, ``loop_sizes``,
``operand_precision``): each MAC layer becomes an einsum layer, with ZigZag's dimension names
renamed to loopnest's (B->N, K->M, OY->P, OX->Q, FY->R, FX->S; others kept). Layers that are not
a product summed into the output (Add, Pooling with a constant W of 0 bits) are reported and left out.

Mapping: a list of entries with ``spatial_mapping`` and ``temporal_ordering``, read with the
accelerator and a one-layer workload (``interop.zigzag_mapping``).
"""

from __future__ import annotations

import re
from pathlib import Path

from loopnest.datafile import DataFileError, read_yaml
from loopnest.interop import Imported, InteropError, Notes

ROLE = {"I1": "inputs", "I2": "weights", "O": "outputs"}
RENAME = {"B": "N", "K": "M", "OY": "P", "OX": "Q", "FY": "R", "FX": "S"}
_MEM_KEYS = {"size", "r_cost", "w_cost", "area", "operands", "served_dimensions", "r_bw", "w_bw", "ports",
             "r_port", "w_port", "rw_port", "latency", "min_r_granularity", "min_w_granularity"}
_OPERAND = re.compile(r"^\s*([A-Za-z_]\w*)((?:\[[A-Za-z_]\w*\])+)\s*$")
_TERM = re.compile(r"^\s*(?:(\d+)\s*\*\s*)?([A-Za-z_]\w*)\s*$")


def _read(path: str | Path) -> object:
    try:
        return read_yaml(path)
    except DataFileError as e:
        raise InteropError(str(e)) from None


def import_files(paths: list[str | Path], bits: int | None = None) -> Imported:
    """Accelerator files (a mapping with ``memories``) and workload files (a list of layers)."""
    from loopnest.interop.zigzag_mapping import import_mapping, is_mapping

    imp = Imported()
    hardware, mappings, op_types = [], [], []
    for path in paths:
        if str(path).lower().endswith(".onnx"):  # ZigZag's ONNX workloads are plain ONNX models
            raise InteropError(f"{path}: an ONNX model: loopnest reads ONNX itself, give it directly "
                               f"(loopnest evaluate {path} --arch ARCH)")
        data = _read(path)
        if isinstance(data, dict) and "memories" in data:
            hardware.append((str(path), data))
        elif is_mapping(data):
            mappings.append((str(path), data))
        elif isinstance(data, list):
            for layer, op_type in _workload(data, str(path), imp.notes):
                imp.layers.append(layer)
                op_types.append(op_type)
        else:
            raise InteropError(f"{path}: neither a ZigZag accelerator (a mapping with memories and "
                               "operational_array), a workload (a list of layers) nor a mapping (a list of entries "
                               "with spatial_mapping and temporal_ordering)")
    for many, what in ((hardware, "accelerator"), (mappings, "mapping")):
        if len(many) > 1:
            raise InteropError(f"{many[1][0]}: a second {what}; give one")
    if hardware:
        if bits is None:
            bits = imp.layers[0]["layer"]["bits"] if imp.layers else 8
            if not imp.layers:
                imp.notes.add("word width 8 bits (no workload given; --bits sets it)", hardware[0][0])
        imp.arch, axes = _accelerator(hardware[0][1], hardware[0][0], bits, imp.notes)
    if mappings:
        src = mappings[0][0]
        if not hardware or len(imp.layers) != 1:
            raise InteropError(f"{src}: a ZigZag mapping is imported with its accelerator and a workload of one MAC "
                               f"layer (given: {'an' if hardware else 'no'} accelerator, {len(imp.layers)} MAC layers)")
        imp.mapping = import_mapping(mappings[0][1], src, imp.arch, axes, imp.layers[0], op_types[0], imp.notes)
    return imp


def _num(value: object, where: str, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (value <= 0 if positive else value < 0):
        raise InteropError(f"{where}: a {'positive' if positive else 'non-negative'} number is required, got {value!r}")
    return value


def _port_bits(m: dict, where: str) -> tuple[float, float, float]:
    """The widest read port (one access, bits) and the read and write bandwidths (bits/cycle: the
    ports of each direction summed, a read_write port counted in both)."""
    ports = m.get("ports")
    if isinstance(ports, list) and ports and all(isinstance(p, dict) and "bandwidth_max" in p for p in ports):
        r = [_num(p["bandwidth_max"], f"{where}.ports.bandwidth_max") for p in ports if p.get("type") in ("read", "read_write")]
        w = [_num(p["bandwidth_max"], f"{where}.ports.bandwidth_max") for p in ports if p.get("type") in ("write", "read_write")]
        if r and w:
            return max(r), sum(r), sum(w)
    if "r_bw" in m and "w_bw" in m:
        return _num(m["r_bw"], f"{where}.r_bw"), _num(m["r_bw"], f"{where}.r_bw"), _num(m["w_bw"], f"{where}.w_bw")
    raise InteropError(f"{where}: port widths missing (r_bw and w_bw, or ports with type and bandwidth_max)")


def _accelerator(hw: dict, src: str, bits: int, notes: Notes) -> tuple[dict, dict[str, tuple[int, str, int]]]:
    """The architecture data, and each array dimension's (level index, fanout axis, size)."""
    mems, arr = hw.get("memories"), hw.get("operational_array")
    if not isinstance(mems, dict) or not mems:
        raise InteropError(f"{src}: memories: a mapping of memories is required")
    if not isinstance(arr, dict):
        raise InteropError(f"{src}: operational_array: a mapping (dimensions, sizes, unit_energy) is required")
    dims, sizes = arr.get("dimensions"), arr.get("sizes")
    if not isinstance(dims, list) or not isinstance(sizes, list) or len(dims) != len(sizes) or not dims:
        raise InteropError(f"{src}: operational_array: dimensions and sizes must be lists of the same length")
    size_of = {d: int(_num(s, f"{src}: operational_array.sizes")) for d, s in zip(dims, sizes)}
    big = [d for d in dims if size_of[d] > 1]
    if len(big) > 2:
        raise InteropError(f"{src}: operational_array: {len(big)} array dimensions larger than 1 ({', '.join(big)}) "
                           "is a feature loopnest lacks (its fanouts are 2-D)")
    axis = {d: ("x" if i == 0 else "y") for i, d in enumerate(big)}
    rows = []
    for name, m in mems.items():
        where = f"{src}: memories.{name}"
        if not isinstance(m, dict):
            raise InteropError(f"{where}: a mapping is required")
        ops = m.get("operands")
        if not isinstance(ops, list) or not ops or any(o not in ROLE for o in ops):
            raise InteropError(f"{where}.operands: a list of I1, I2, O is required, got {ops!r}")
        served = m.get("served_dimensions", [])
        if not isinstance(served, list) or any(d not in size_of for d in served):
            raise InteropError(f"{where}.served_dimensions: dimensions of the array ({', '.join(dims)}) are required")
        for k in m:
            if k not in _MEM_KEYS:
                notes.add(f"memory key {k!r} (not read)", where)
        for k in ("latency", "min_r_granularity", "min_w_granularity"):
            if k in m:
                notes.add(f"{k} (not modeled by loopnest)", where)
        unserved = frozenset(d for d in big if d not in served)
        block, rb, wb = _port_bits(m, where)
        size = _num(m.get("size"), f"{where}.size")
        rows.append((len(unserved), -size, name, m, unserved, block, rb, wb))
    rows.sort(key=lambda r: (r[0], r[1]))
    levels, above = [], frozenset()
    placed: dict[str, tuple[int, str, int]] = {}
    for i, (_, negsize, name, m, unserved, block, rb, wb) in enumerate(rows):
        where = f"{src}: memories.{name}"
        if not above <= unserved:
            raise InteropError(f"{where}.served_dimensions: shared over dimensions the memory above it is not "
                               "(two memories serving different array dimensions is a feature loopnest lacks: "
                               "its levels form one chain)")
        new = unserved - above
        if new:
            if not levels:
                raise InteropError(f"{where}: the outermost memory (DRAM) must serve every array dimension")
            placed.update({d: (len(levels) - 1, axis[d], size_of[d]) for d in new})
            levels[-1]["fanout"] = {"x": 1, "y": 1, "multicast": True, "reduction": True, "energy_pj": 0.0,
                                    **{axis[d]: size_of[d] for d in new}}
        above = unserved
        per_block = 1 if len(unserved) == len(big) and big else max(1, int(block // bits))
        lv = {"name": name, "class": "dram" if i == 0 else ("regfile" if unserved == frozenset(big) and big else "sram"),
              "word_bits": bits, "block_words": per_block,
              "read_bandwidth": rb / bits, "write_bandwidth": wb / bits,
              "keeps": [ROLE[o] for o in ("I1", "I2", "O") if o in m["operands"]],
              "energy_pj": {"read": _num(m.get("r_cost"), f"{where}.r_cost", False),
                            "write": _num(m.get("w_cost"), f"{where}.w_cost", False),
                            "update": _num(m.get("w_cost"), f"{where}.w_cost", False)}}
        if i > 0:
            lv["capacity_words"] = max(1, int(-negsize // bits))
        if "area" in m:
            lv["area_um2"] = _num(m["area"], f"{where}.area", False)
        levels.append(lv)
    if above != frozenset(big):
        last = levels[-1]
        placed.update({d: (len(levels) - 1, axis[d], size_of[d]) for d in frozenset(big) - above})
        last["fanout"] = {"x": 1, "y": 1, "multicast": True, "reduction": True, "energy_pj": 0.0, **{axis[d]: size_of[d] for d in frozenset(big) - above}}
    energy = arr.get("unit_energy", arr.get("multiplier_energy"))
    compute = {"operand_bits": bits, "energy_pj": _num(energy, f"{src}: operational_array.unit_energy", False)}
    area = arr.get("unit_area", arr.get("multiplier_area"))
    if area is not None:
        compute["area_um2"] = _num(area, f"{src}: operational_array.unit_area", False)
    for k in arr:
        if k not in ("dimensions", "sizes", "unit_energy", "multiplier_energy", "unit_area", "multiplier_area"):
            notes.add(f"operational_array key {k!r} (not read)", f"{src}: operational_array")
    for k in hw:
        if k not in ("name", "memories", "operational_array"):
            notes.add(f"accelerator key {k!r} (not read)", src)
    notes.add("network energy 0 pJ (ZigZag charges no interconnect energy)", src)
    placed.update({d: (len(levels) - 1, "x", 1) for d in dims if d not in big})  # size 1: nothing to unroll
    return {"name": str(hw.get("name") or Path(src).stem), "description": f"imported from ZigZag ({src})",
            "levels": levels, "compute": compute}, placed


def _operand(text: str, where: str) -> tuple[str, list[str]]:
    m = _OPERAND.match(text)
    if m is None:
        raise InteropError(f"{where}: {text!r} is not an operand such as W[k][c][fy][fx]")
    return m.group(1), re.findall(r"\[([A-Za-z_]\w*)\]", m.group(2))


def _workload(layers: list, src: str, notes: Notes) -> list[tuple[dict, str]]:
    """The MAC layers as layer spec data, each with its ZigZag operator type."""
    out = []
    for i, layer in enumerate(layers):
        where = f"{src}: [{i}]"
        if not isinstance(layer, dict):
            raise InteropError(f"{where}: a layer mapping is required")
        name = str(layer.get("name") or f"layer{layer.get('id', i)}")
        where = f"{where} ({name})"
        eq = layer.get("equation")
        if not isinstance(eq, str) or "=" not in eq:
            raise InteropError(f"{where}.equation: an equation such as O[k]+=W[k][c]*I[c] is required")
        lhs, _, rhs = eq.partition("+=") if "+=" in eq else eq.partition("=")
        prec = layer.get("operand_precision") or {}
        factors = rhs.split("*")
        if "+=" not in eq or len(factors) != 2 or prec.get("W") == 0:
            notes.add(f"layer of operator_type {layer.get('operator_type', '?')} (not a MAC layer; left out)", where)
            continue
        dims_raw, sizes = layer.get("loop_dims"), layer.get("loop_sizes")
        if not isinstance(dims_raw, list) or not isinstance(sizes, list) or len(dims_raw) != len(sizes):
            raise InteropError(f"{where}: loop_dims and loop_sizes must be lists of the same length")
        dims = {str(d).upper(): int(_num(s, f"{where}.loop_sizes")) for d, s in zip(dims_raw, sizes)}
        rel = {}
        for r in layer.get("dimension_relations") or []:
            var, _, expr = str(r).partition("=")
            terms = {}
            for t in expr.split("+"):
                m = _TERM.match(t)
                if m is None or m.group(2).upper() not in dims:
                    raise InteropError(f"{where}.dimension_relations: {r!r} is not a sum of c*dim over loop_dims")
                terms[RENAME.get(m.group(2).upper(), m.group(2).upper())] = int(m.group(1) or 1)
            rel[var.strip().lower()] = terms
        tensors = []
        for role, text in (("outputs", lhs), ("weights", factors[0]), ("inputs", factors[1])):
            op, idx = _operand(text, f"{where}.equation")
            if role != "outputs":
                role = "weights" if op.upper() == "W" else ("inputs" if op.upper() == "I" else role)
            indices = []
            for x in idx:
                if x.lower() in rel:
                    indices.append(rel[x.lower()])
                elif x.upper() in dims:
                    indices.append({RENAME.get(x.upper(), x.upper()): 1})
                else:
                    raise InteropError(f"{where}.equation: index {x!r} is neither a loop dimension nor defined "
                                       "in dimension_relations")
            tensors.append({"name": op, "role": role, "indices": indices, "static": role == "weights"})
        if sorted(t["role"] for t in tensors) != ["inputs", "outputs", "weights"]:
            raise InteropError(f"{where}.equation: operands {[t['name'] for t in tensors]} do not give one output, "
                               "one W and one I")
        bits = [b for b in (prec.get("I"), prec.get("W")) if isinstance(b, int) and b > 0]
        if len(set(bits)) > 1:
            notes.add(f"operand precisions I {prec.get('I')} and W {prec.get('W')} bits: both stored at the larger", where)
        if "O" in prec and prec.get("O") != prec.get("O_final"):
            notes.add("partial-sum precision O (loopnest stores outputs at the operand width)", where)
        for k in layer:
            if k not in ("id", "name", "operator_type", "equation", "dimension_relations", "loop_dims", "loop_sizes",
                         "operand_precision", "operand_source"):
                notes.add(f"layer key {k!r} (not read)", where)
        out.append(({"layer": {"type": "einsum", "name": name, "bits": max(bits) if bits else 8,
                               "dims": {RENAME.get(d, d): n for d, n in dims.items()}, "tensors": tensors}},
                    str(layer.get("operator_type", ""))))
    return out
