"""Malformed inputs for the CLI, generated from the shipped presets and examples, and the checks
every run must pass. Shared by the seeded fuzz tests (tests/test_fuzz_inputs.py) and the long
unseeded campaign (benchmarks/fuzz_campaign.py).

A case is (kind, file name, file bytes, extra files, CLI args with ``{f}`` for the file's path).
Kinds: arch YAML, arch JSON, mapping, layer spec, constraints and ONNX (built with onnx.helper).
Mutations: deleted keys, wrong types, extreme numbers, NaN/inf, hostile expressions, deep
nesting, alias bombs, huge files, NUL and control bytes, invalid UTF-8, unicode, truncation.
"""

from __future__ import annotations

import copy
import json
import math
import random
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "src" / "loopnest" / "arch" / "presets"
MAPPING = ROOT / "examples" / "resnet50_conv2_rs.yaml"
LAYER_REF = "resnet50:layer1.0.conv2"
LAYER = {"layer": {"type": "conv2d", "name": "c2", "C": 64, "M": 64, "H": 56, "W": 56, "R": 3, "padding": 1}}
CONSTRAINTS = {"constraints": [{"level": "GlobalBuffer", "temporal": {"C": "<=4"}, "order": ["M", "C"]},
                               {"level": "PEReg", "keep": ["weights"]}]}
SMALL_MB = 1  # the size limit the cases run under (LOOPNEST_MAX_FILE_MB): huge files stay cheap to make
KINDS = ("arch", "arch_json", "mapping", "layer", "constraints", "onnx")

EXTREME = [0, -1, -(2**63), 2**63, 2**200, 1e308, -1e308, 1e-320, float("nan"), float("inf"), float("-inf"),
           True, None, "", "0", "-5", "1e999", "NaN", [], {}, [1, 2], {"a": 1}]
HOSTILE = ["__import__('os').system('echo pwned')", "9**9**9**9", "1e999", "(" * 200 + "1" + ")" * 200,
           "lambda: 0", "open('/etc/passwd').read()", "1/0", "2**100000", "x" * 5000, "${HOME}", "{{7*7}}",
           "\u202e\u0000", "\ud7ff\ufffd\U0010ffff", "🙂" * 100, "-" * 100, "1 +", "* 2", "capacity_words * capacity_words"]


def base_data(kind: str, rng: random.Random):
    if kind in ("arch", "arch_json"):
        return yaml.safe_load(rng.choice(sorted(PRESETS.glob("*.yaml"))).read_text())
    if kind == "mapping":
        return yaml.safe_load(MAPPING.read_text())
    if kind == "layer":
        return copy.deepcopy(LAYER)
    return copy.deepcopy(CONSTRAINTS)


def _paths(node, prefix=()):
    """Every (path, value) inside nested dicts and lists."""
    yield prefix, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _set(root, path, value):
    node = root
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def mutate_data(data, rng: random.Random):
    """One to three structural mutations: delete a key, replace a value (extreme, hostile, wrong
    type), or add an unknown key."""
    for _ in range(rng.randint(1, 3)):
        spots = [(p, v) for p, v in _paths(data) if p]
        if not spots:
            return data
        path, _ = rng.choice(spots)
        what = rng.random()
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if what < 0.3 and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif what < 0.6:
            _set(data, path, copy.deepcopy(rng.choice(EXTREME)))  # a copy: later mutations must not edit EXTREME
        elif what < 0.85:
            _set(data, path, rng.choice(HOSTILE))
        elif isinstance(parent, dict):
            parent[rng.choice(["unknown", "levels", "mapping", "type", "x" * 300, "\u00e9"])] = copy.deepcopy(
                rng.choice(EXTREME + HOSTILE))
    return data


def _dump(data, as_json: bool) -> bytes:
    if as_json:
        return json.dumps(data, allow_nan=True).encode()
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()


def bomb(depth: int) -> str:
    items = ['&l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    items += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, depth + 1)]
    return "[" + ", ".join(items) + "]"


def text_attack(text: bytes, rng: random.Random) -> bytes:
    """A byte-level attack on a serialized file."""
    what = rng.randrange(9)
    if what == 0:  # deep nesting, flow or block style
        depth = rng.choice([99, 101, 500, 5000, 50_000])
        if rng.random() < 0.5:
            return b"levels: " + b"[" * depth + b"]" * depth + b"\n"
        return "".join("  " * i + f"k{i}:\n" for i in range(min(depth, 3000))).encode() + b"  " * min(depth, 3000) + b"x: 1\n"
    if what == 1:  # alias bomb in a field
        key = rng.choice(["name", "levels", "mapping", "constraints", "layer"])
        return f"{key}: {bomb(rng.randint(3, 10))}\n".encode()
    if what == 2:  # many keys
        return "".join(f"key{i}: {i}\n" for i in range(rng.choice([1000, 60_000]))).encode()
    if what == 3:  # a long comment line, or a file over the size limit
        n = rng.choice([100_000, int(SMALL_MB * 2**20) + 10])
        return b"#" + b"x" * n + b"\n" + text
    if what == 4:  # NUL or control bytes
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice([b"\0", b"\x01", b"\x1b[31m", b"\x7f"]) + text[at:]
    if what == 5:  # invalid UTF-8
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xfe"]) + text[at:]
    if what == 6:  # truncation
        return text[:rng.randrange(len(text) + 1)]
    if what == 7:  # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 400)))
    return text.replace(b":", b"", 1) if rng.random() < 0.5 else b"- " + text  # broken syntax


def onnx_bytes(rng: random.Random, attributes: bool = True) -> bytes:
    """A small ONNX model built with onnx.helper, possibly malformed (bad shapes, dangling inputs,
    unknown operators; bad attribute values too where ``attributes``)."""
    from onnx import TensorProto, helper

    c, m, h = rng.choice([1, 3, 8]), rng.choice([2, 4, 8]), rng.choice([4, 8, 14])
    k = rng.choice([1, 3])
    attrs = {"kernel_shape": [k, k], "strides": [1, 1], "pads": [k // 2] * 4}
    if attributes and rng.random() < 0.6:  # attribute attacks
        key = rng.choice(list(attrs) + ["group", "dilations", "auto_pad"])
        attrs[key] = rng.choice([[0, 0], [-1, 1], [2**40, 1], [1], 0, 3, "SAME_UPPER", "BOGUS", [1, 1, 1, 1, 1, 1]])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, h] if rng.random() < 0.9 else
                                      [rng.choice([0, -1, 2**40]), c, h, "n"])
    w = helper.make_tensor("w", TensorProto.FLOAT, [m, c, k, k], [0.0] * (m * c * k * k))
    conv = helper.make_node("Conv", ["x", "w" if rng.random() < 0.9 else "missing"], ["y"], name="conv", **attrs)
    nodes = [conv]
    if rng.random() < 0.5:
        nodes.append(helper.make_node(rng.choice(["Relu", "Gemm", "MatMul", "Flatten", "Frobnicate"]), ["y"], ["z"],
                                      name="tail"))
    out = helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "g", [x], [out], initializer=[w])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", rng.choice([11, 13, 17]))]).SerializeToString()
    if rng.random() < 0.2:
        data = text_attack(data, rng)
    return data


def tiny_onnx() -> bytes:
    """A one-layer model (8x4 fully connected) that maps in well under a second: the network the
    constraint-file cases run `evaluate` on."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    w = helper.make_tensor("w", TensorProto.FLOAT, [8, 4], [0.0] * 32)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")], "tiny", [x], [y], initializer=[w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


def make_case(rng: random.Random, kind: str | None = None, onnx_attributes: bool = True) -> tuple:
    """(kind, file name, bytes, {extra name: bytes}, args with ``{f}``/``{d}`` for the file and its
    folder). ``onnx_attributes``: include bad ONNX attribute values (the importer's own checks)."""
    kind = kind or rng.choice(KINDS)
    extra: dict[str, bytes] = {}
    if kind == "onnx":
        return kind, "model.onnx", onnx_bytes(rng, onnx_attributes), extra, ["workload", "stats", "{f}", "--format", "json"]
    data = mutate_data(base_data(kind, rng), rng) if rng.random() < 0.8 else base_data(kind, rng)
    body = _dump(data, kind == "arch_json")
    if rng.random() < 0.35:
        body = text_attack(body, rng)
    name = {"arch_json": "arch.json", "layer": "layer.yaml"}.get(kind, f"{kind}.yaml")
    if kind in ("arch", "arch_json"):
        args = (["arch", "validate", "{f}"] if rng.random() < 0.5 else
                ["model", "--arch", "{f}", "--layer", LAYER_REF, "--mapping", str(MAPPING), "--json"])
    elif kind == "mapping":
        args = ["model", "--arch", "eyeriss", "--layer", LAYER_REF, "--mapping", "{f}", "--json"]
    elif kind == "layer":
        args = ["model", "--arch", "eyeriss", "--layer", "{f}", "--mapping", str(MAPPING), "--json"]
    else:
        extra["tiny.onnx"] = tiny_onnx()
        args = ["evaluate", "{d}/tiny.onnx", "--arch", "simple-ws", "--constraints", "{f}", "--mode", "heuristic",
                "--jobs", "1", "--json"]
    return kind, name, body, extra, args


def write_case(case: tuple, folder: Path) -> list[str]:
    """Write the case's files into ``folder``; its CLI args with the paths filled in."""
    kind, name, body, extra, args = case
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(body)
    for n, b in extra.items():
        (folder / n).write_bytes(b)
    return [a.replace("{f}", str(folder / name)).replace("{d}", str(folder)) for a in args]


def invalid_result(stdout: str, args: list[str]) -> str | None:
    """Why a successful JSON run's output is wrong (invalid JSON, a negative count, a non-finite
    number, a utilization outside [0, 1]), or None."""
    if "--json" not in args and "json" not in args:
        return None  # arch validate prints one "ok" line
    try:
        data = json.loads(stdout)
    except ValueError:
        return "invalid JSON"
    for path, v in _paths(data):
        key = str(path[-1]) if path else ""
        if key in ("name", "layer", "model", "arch"):
            continue  # names, not counts (a layer spec may name its layer -1)
        if isinstance(v, float) and not math.isfinite(v):
            return f"non-finite number at {path}"
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
            return f"negative value at {path}"
        if "utilization" in key and isinstance(v, (int, float)) and not 0 <= v <= 1:
            return f"utilization {v} at {path}"
    return None


def children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.add(int(entry.name))
    return out


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
