"""SCALE-Sim config (.cfg) and topology (.csv) -> loopnest architecture and layer spec data.

Config (INI; SCALE-Sim v2 keys): ``[architecture_presets]`` ``ArrayHeight`` x ``ArrayWidth`` PEs
(loopnest fanout y x x; operands forwarded to many PEs, partial sums reduced in the array), ``IfmapSramSzkB``/``FilterSramSzkB``/``OfmapSramSzkB`` (one on-chip
level with three partitions of kB x 1024 one-byte words, double-buffered as SCALE-Sim's SRAMs
are), ``Bandwidth`` (words/cycle between DRAM and the SRAMs, used when ``InterfaceBandwidth`` is
USER), ``Dataflow`` os | ws | is (the architecture's dataflow hint). Each PE gets a one-word
register per tensor. SCALE-Sim models no energy: energies come from loopnest's ``horowitz45``
table (noted). Every other key is reported.

Topology: the conv form ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
Channels, Num Filter, Strides`` (the IFMAP is the padded input; SCALE-Sim has no padding column)
becomes ``conv2d`` layers with SCALE-Sim's output size ceil((H - R + stride) / stride) (where the
last window runs past the IFMAP, that overhang is bottom/right padding, noted); the first
column's title varies (Layer, Layer name, Layer Name); the GEMM form ``Layer Name, M, N, K`` (M x K times K x N) becomes
``matmul`` layers with P = M rows, M = N output columns, C = K. Lines end with a comma in
SCALE-Sim's files; blank lines are skipped; a malformed line is one error naming its number.
"""

from __future__ import annotations

import configparser
import csv
import io
from pathlib import Path

from loopnest.datafile import DataFileError, decode, read_bytes
from loopnest.interop import Imported, InteropError, Notes

_CONV = ("layer name", "ifmap height", "ifmap width", "filter height", "filter width", "channels", "num filter", "strides")
_GEMM = ("layer name", "m", "n", "k")
_ARCH_KEYS = {"arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb", "bandwidth", "dataflow"}


def _text(path: str | Path) -> str:
    try:
        return decode(read_bytes(path), path)
    except DataFileError as e:
        raise InteropError(str(e)) from None


def import_files(paths: list[str | Path]) -> Imported:
    """A .cfg gives the architecture, each .csv its layers."""
    imp = Imported()
    for path in paths:
        suffix = Path(path).suffix.lower()
        if suffix == ".cfg":
            if imp.arch is not None:
                raise InteropError(f"{path}: a second config file; give one .cfg")
            imp.arch = _config(_text(path), str(path), imp.notes)
        elif suffix == ".csv":
            imp.layers += _topology(_text(path), str(path), imp.notes)
        else:
            raise InteropError(f"{path}: SCALE-Sim inputs are a config .cfg and topology .csv files")
    return imp


def _config(text: str, src: str, notes: Notes) -> dict:
    cfg = configparser.ConfigParser()
    cfg.optionxform = str  # keep the keys' case for the notes; lookups below are case-insensitive
    try:
        cfg.read_string(text, source=src)
    except configparser.Error as e:
        raise InteropError(f"{src}: not a SCALE-Sim config: {' '.join(str(e).split())}") from None
    if not cfg.has_section("architecture_presets"):
        raise InteropError(f"{src}: section [architecture_presets] is missing")
    a = {k.lower(): v.strip() for k, v in cfg.items("architecture_presets")}
    written = {k.lower(): k for k in cfg["architecture_presets"]}

    def num(key: str) -> int:
        if key not in a:
            raise InteropError(f"{src}: [architecture_presets] {key}: missing")
        try:
            v = int(a[key])
        except ValueError:
            raise InteropError(f"{src}: [architecture_presets] {key}: {a[key]!r} is not a positive integer") from None
        if v < 1:
            raise InteropError(f"{src}: [architecture_presets] {key}: {v} is not a positive integer")
        return v

    rows, cols = num("arrayheight"), num("arraywidth")
    parts = {"inputs": num("ifmapsramszkb") * 1024, "weights": num("filtersramszkb") * 1024,
             "outputs": num("ofmapsramszkb") * 1024}
    dataflow = a.get("dataflow", "os").lower()
    if dataflow not in ("os", "ws", "is"):
        raise InteropError(f"{src}: [architecture_presets] Dataflow: {a['dataflow']!r}; SCALE-Sim's are os, ws, is")
    dram: dict = {"name": "DRAM", "class": "dram", "word_bits": 8}
    run = {k.lower(): v for k, v in cfg.items("run_presets")} if cfg.has_section("run_presets") else {}
    user_bw = run.get("interfacebandwidth", "USER").strip().upper() == "USER"
    if "bandwidth" in a and user_bw:
        bw = num("bandwidth")
        dram |= {"read_bandwidth": bw, "write_bandwidth": bw}
    elif "bandwidth" in a:
        notes.add("Bandwidth with InterfaceBandwidth CALC (SCALE-Sim sizes the interface; loopnest leaves DRAM "
                  "bandwidth unbounded)", f"{src}: [architecture_presets]")
    for k in a:
        if k not in _ARCH_KEYS:
            notes.add(f"key {written[k]!r} (not modeled by loopnest)", f"{src}: [architecture_presets]")
    for section in cfg.sections():
        if section not in ("architecture_presets", "general", "run_presets"):
            notes.add(f"section [{section}] (not read)", src)
    notes.add("no energies in SCALE-Sim: loopnest's horowitz45 table at 65 nm", src)
    general = {k.lower(): v for k, v in cfg.items("general")} if cfg.has_section("general") else {}
    name = general.get("run_name", "").strip() or Path(src).stem
    return {"name": name, "description": f"imported from SCALE-Sim ({src})", "dataflow": dataflow,
            "energy_table": "horowitz45", "technology_nm": 65,
            "levels": [dram,
                       {"name": "SRAM", "class": "sram", "word_bits": 8, "partitions": parts, "double_buffered": True,
                        "fanout": {"x": cols, "y": rows, "multicast": True, "reduction": True}},
                       {"name": "PE", "class": "register", "word_bits": 8,
                        "partitions": {"inputs": 1, "weights": 1, "outputs": 1}}],
            "compute": {"operand_bits": 8}}


def _topology(text: str, src: str, notes: Notes) -> list[dict]:
    rows = [(i + 1, [c.strip() for c in r]) for i, r in enumerate(csv.reader(io.StringIO(text)))]
    rows = [(n, r[:-1] if r and r[-1] == "" else r) for n, r in rows if any(c for c in r)]
    if not rows:
        raise InteropError(f"{src}: empty topology")
    line, head = rows[0]
    names = tuple(h.lower() for h in head)
    if names[1:len(_CONV)] == _CONV[1:]:  # the first column's title varies (Layer, Layer name, Layer Name)
        form, width = "conv", len(_CONV)
    elif names[1:len(_GEMM)] == _GEMM[1:]:
        form, width = "gemm", len(_GEMM)
    else:
        raise InteropError(f"{src}: line {line}: header {', '.join(head)!r} is neither the conv form "
                           f"({', '.join(_CONV)}) nor the GEMM form ({', '.join(_GEMM)})")
    for extra in head[width:]:
        notes.add(f"column {extra!r} (not read)", f"{src}: line {line}")
    out = []
    for n, r in rows[1:]:
        if len(r) < width:
            raise InteropError(f"{src}: line {n}: {len(r)} fields, the {form} form needs {width} ({', '.join(head[:width])})")
        vals = []
        for col, cell in zip(head[1:width], r[1:width]):
            try:
                v = int(cell)
            except ValueError:
                v = 0
            if v < 1:
                raise InteropError(f"{src}: line {n}: {col} {cell!r} is not a positive integer")
            vals.append(v)
        name = r[0] or f"layer{n}"
        if form == "conv":
            H, W, R, S, C, M, stride = vals
            if R > H or S > W:
                raise InteropError(f"{src}: line {n}: filter {R}x{S} larger than the IFMAP {H}x{W}")
            # SCALE-Sim's output size: ceil((H - R + stride) / stride); where the last window runs past
            # the IFMAP, the rows and columns it reads beyond it are bottom / right padding
            pad_h, pad_w = (-(-(X - K + stride) // stride) * stride - stride + K - X for X, K in ((H, R), (W, S)))
            layer = {"type": "conv2d", "name": name, "C": C, "M": M, "H": H, "W": W, "R": R, "S": S,
                     "stride": stride, "bits": 8}
            if pad_h or pad_w:
                layer["padding"] = [0, 0, pad_h, pad_w]
                notes.add("output size rounded up as SCALE-Sim does (ceil): the last window's rows/columns past "
                          "the IFMAP as bottom/right padding", f"{src}: line {n} ({name})")
            out.append({"layer": layer})
        else:
            m, nn, k = vals
            out.append({"layer": {"type": "matmul", "name": name, "P": m, "M": nn, "C": k, "bits": 8}})
    if not out:
        raise InteropError(f"{src}: no layer lines after the header")
    return out
