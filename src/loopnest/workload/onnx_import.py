"""ONNX importer: a model file -> :class:`Network` (the same representation as the zoo).

Conv (grouped and depthwise included), Gemm and MatMul become loop nests; a product whose
second operand is not a constant (Q.K^T, A.V) becomes kind "attention". Other known operators
become non-MAC element ops; a Reshape -> Transpose -> Reshape that is a channel shuffle (the
export of torchvision's ShuffleNet ``channel_shuffle``; ``network.shuffle_groups``) makes its
Transpose a "shuffle" (a copy), its Reshapes renames. An operator that cannot be represented is kept in the graph as kind
"unsupported" (0 ops) and listed in ``Network.unsupported`` by type with its node names.

Quantized graphs (QLinearConv/QLinearMatMul, ConvInteger/MatMulInteger, QuantizeLinear/
DequantizeLinear pairs) carry their bit widths into the layers' tensors (``onnx_quant``).

Shapes come from ONNX shape inference. A symbolic batch (first) axis of the graph inputs is
fixed to 1; any other symbolic input axis is an error (the loop nest needs sizes).
"""

from __future__ import annotations

from collections.abc import Iterator
from math import prod
from pathlib import Path

from loopnest.workload import layers as L
from loopnest.workload import onnx_quant
from loopnest.workload.network import OPS_PER_ELEMENT, ElementOp, Network, Node, Op, shuffle_groups

# op type -> (element-op kind, ops per output element); see network.py for the convention
_ELEMENTWISE = {
    **{t: ("activation", 1) for t in ("Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid",
                                      "HardSwish", "Gelu", "Erf", "Elu", "Selu", "Softplus", "Exp", "Log",
                                      "Sqrt", "Reciprocal", "Neg", "Abs", "Mish", "Swish")},
    **{t: ("reshape", 0) for t in ("Concat", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
                                   "Identity", "Dropout", "Pad", "Slice", "Split", "Gather", "Shape",
                                   "Cast", "Expand", "Tile", "ConstantOfShape", "Range")},
    "Softmax": ("softmax", OPS_PER_ELEMENT["softmax"]), "LogSoftmax": ("softmax", OPS_PER_ELEMENT["softmax"]),
    "BatchNormalization": ("norm", OPS_PER_ELEMENT["batchnorm"]),
    "LayerNormalization": ("norm", OPS_PER_ELEMENT["layernorm"]),
    "InstanceNormalization": ("norm", OPS_PER_ELEMENT["layernorm"]),
}
_BINARY = {"Add": "add", "Sum": "add", "Sub": "elementwise", "Mul": "elementwise", "Div": "elementwise",
           "Pow": "elementwise", "Max": "elementwise", "Min": "elementwise", "Where": "elementwise"}
_REDUCE = ("GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceL2")
_AUTO_PAD = (b"NOTSET", b"SAME_UPPER", b"SAME_LOWER", b"VALID")


class _Error(ValueError):
    pass


def import_onnx(path: str | Path) -> Network:
    """Read an ONNX file into a Network at the batch size of its first graph input."""
    from loopnest.workload import WorkloadError

    try:
        return _Importer(Path(path)).run()
    except _Error as e:
        raise WorkloadError(f"{path}: {e}") from None


class _Importer:
    def __init__(self, path: Path):
        try:
            import onnx
        except ImportError:
            raise _Error("reading ONNX files needs the onnx package (pip install 'loopnest[onnx]')") from None
        if not path.is_file():
            raise _Error("file not found")
        try:
            model = onnx.load(str(path), load_external_data=False)  # only shapes are needed
        except Exception as e:  # protobuf decode errors have no common base class
            raise _Error(f"not a valid ONNX model ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'unreadable'})")
        if not model.graph.node:
            raise _Error("not a valid ONNX model (the graph has no nodes)")
        self.path = path
        _check_names(model.graph)
        self.consts = {i.name: tuple(i.dims) for i in model.graph.initializer}
        self.batch = self._fix_inputs(model)
        try:
            model = onnx.shape_inference.infer_shapes(model)
        except Exception as e:
            raise _Error(f"ONNX shape inference failed: {str(e).splitlines()[0]}")
        self.graph = model.graph
        self.made_by = {o: nd for nd in model.graph.node for o in nd.output}
        self.used_by: dict[str, list] = {}
        for nd in model.graph.node:
            for x in dict.fromkeys(nd.input):
                self.used_by.setdefault(x, []).append(nd)
        self.shapes: dict[str, tuple[int, ...] | None] = dict(self.consts)
        for vi in (*model.graph.input, *model.graph.value_info, *model.graph.output):
            if vi.name not in self.consts:
                dims = vi.type.tensor_type.shape.dim
                self.shapes[vi.name] = (tuple(d.dim_value for d in dims)
                                        if vi.type.tensor_type.HasField("shape") and all(d.dim_value > 0 for d in dims)
                                        else None)

    def _fix_inputs(self, model) -> int:
        """Set a symbolic batch axis to 1; return the batch size of the first graph input."""
        batch = None
        for vi in model.graph.input:
            if vi.name in self.consts:
                continue
            for axis, d in enumerate(vi.type.tensor_type.shape.dim):
                if d.dim_value <= 0:
                    if axis:
                        raise _Error(f"graph input {vi.name!r} axis {axis} has no fixed size ({d.dim_param or '?'})")
                    d.dim_value = 1
            dims = vi.type.tensor_type.shape.dim
            if batch is None and len(dims):
                batch = dims[0].dim_value
        return batch or 1

    def _shape(self, name: str, node) -> tuple[int, ...]:
        s = self.shapes.get(name)
        if s is None:
            raise _Error(f"node {node.name or node.op_type!r} ({node.op_type}): shape of {name!r} unknown after shape inference")
        return s

    def run(self) -> Network:
        producer = {vi.name: vi.name for vi in self.graph.input if vi.name not in self.consts}
        inputs = {n: self.shapes[n][1:] if self.shapes.get(n) else () for n in producer}
        nodes: list[Node] = []
        unsupported: dict[str, list[str]] = {}
        for nd, name in named_nodes(self.graph, self.consts, set(producer)):
            srcs = tuple(dict.fromkeys(producer[x] for x in nd.input if x in producer))
            try:
                op = self._convert(nd, name)
            except _Error:
                raise
            except ValueError as e:  # LayerError, Problem's checks: a malformed node
                raise _Error(f"node {name!r} ({nd.op_type}): {e}") from None
            except _Unsupported as u:
                unsupported.setdefault(f"{nd.op_type}{u.why}", []).append(name)
                op = ElementOp(name, "unsupported", self.batch, 0, 0, 0, attrs={"op_type": nd.op_type})
            out = self.shapes.get(nd.output[0]) if nd.output else None
            shape = tuple(out[1:]) if out and out[0] == self.batch else tuple(out or ())
            nodes.append(Node(name, op, srcs, shape))
            producer.update({o: name for o in nd.output})
        return Network(self.path.stem, self.batch, tuple(nodes), inputs, source=str(self.path),
                       unsupported={k: tuple(v) for k, v in unsupported.items()})

    def _convert(self, nd, name: str) -> Op:
        quantized = onnx_quant.convert(self, nd, name)
        if quantized is not None:
            return quantized
        t = nd.op_type
        if t == "Conv":
            return self._conv(nd, name)
        if t in ("Gemm", "MatMul"):
            return self._product(nd, name)
        out = self.shapes.get(nd.output[0]) if nd.output else None
        if out is None:
            raise _Unsupported(" (output shape unknown)")
        n_out = prod(out)
        ins = [x for x in nd.input if x and x not in self.consts]
        n_in = sum(prod(self.shapes.get(x) or ()) for x in ins)
        groups = self._shuffle_groups(nd) if t == "Transpose" else 0
        if groups:
            b = self.batch
            return ElementOp(name, "shuffle", b, n_out // b, n_out // b, 0, attrs={"op_type": t, "groups": groups})
        if t in _ELEMENTWISE:
            kind, per = _ELEMENTWISE[t]
            ops = n_out * per
        elif t in _BINARY:
            kind, ops = _BINARY[t], n_out * max(1, len([x for x in nd.input if x]) - 1)
        elif t in ("MaxPool", "AveragePool"):
            kind, ops = "pool", n_out * prod(_ints(nd, name, "kernel_shape", (), lo=1))
        elif t in _REDUCE:
            kind, ops = ("pool" if t.startswith("Global") else "reduce"), n_in
        elif t == "LRN":
            kind, ops = "norm", n_out * (_int(nd, name, "size", 5, lo=1) + 3)
        else:
            raise _Unsupported("")
        b = self.batch
        return ElementOp(name, kind, b, n_in // b, n_out // b, ops // b, attrs={"op_type": t})

    def _shuffle_groups(self, nd) -> int:
        """Groups of the channel shuffle whose Transpose ``nd`` is (made by a Reshape, read only by a
        Reshape back to the first one's input shape); 0 for any other Transpose."""
        first = self.made_by.get(nd.input[0]) if nd.input else None
        users = self.used_by.get(nd.output[0], []) if nd.output else []
        if first is None or first.op_type != "Reshape" or len(users) != 1 or users[0].op_type != "Reshape":
            return 0
        shapes = [self.shapes.get(x) for x in (first.input[0], nd.input[0], users[0].output[0])]
        perm = _attr(nd, "perm", None)
        if None in shapes or not isinstance(perm, list):  # ONNX's default perm reverses every axis: no shuffle
            return 0
        return shuffle_groups(shapes[0], shapes[1], tuple(perm), shapes[2])

    def _conv(self, nd, name: str) -> Op:
        where = f"node {name!r} (Conv)"
        if len(nd.input) < 2:
            raise _Error(f"{where}: needs an input and a weight, has {len(nd.input)} input(s)")
        x = self._shape(nd.input[0], nd)
        if len(x) != 4:
            raise _Unsupported(f" ({len(x) - 2}-D)")
        if nd.input[1] not in self.consts:
            raise _Unsupported(" (non-constant filter)")
        w = self._shape(nd.input[1], nd)
        if len(w) != 4:
            raise _Error(f"{where}: weight {nd.input[1]!r} has shape {w}; a 2-D Conv needs rank 4 (M, C/group, kH, kW)")
        if 0 in w:
            raise _Error(f"{where}: weight {nd.input[1]!r} has a zero-size axis: shape {w}")
        N, C, H, W = x
        M, Cg, R, S = w
        group = _int(nd, name, "group", 1, lo=1)
        if Cg * group != C or M % group:
            raise _Error(f"{where}: group={group} does not match input channels C={C}, filters M={M} "
                         f"and weight channels {Cg} (need C = {Cg} x group and M divisible by group)")
        kernel = tuple(_ints(nd, name, "kernel_shape", (R, S), lo=1, length=2))
        if kernel != (R, S):
            raise _Error(f"{where}: kernel_shape {list(kernel)} disagrees with the weight's {[R, S]}")
        strides = tuple(_ints(nd, name, "strides", (1, 1), lo=1, length=2))
        dil = tuple(_ints(nd, name, "dilations", (1, 1), lo=1, length=2))
        pads = tuple(_ints(nd, name, "pads", (0, 0, 0, 0), lo=0, length=4))
        auto = _attr(nd, "auto_pad", b"NOTSET")
        if auto not in _AUTO_PAD:
            raise _Error(f"{where}: attribute auto_pad is {_show(auto)}; allowed: {', '.join(a.decode() for a in _AUTO_PAD)}")
        if auto in (b"SAME_UPPER", b"SAME_LOWER"):
            pads = _same_pads((H, W), (R, S), strides, dil, upper=auto == b"SAME_UPPER")
        elif auto == b"VALID":
            pads = (0, 0, 0, 0)
        p = L.conv2d(name, C=C, M=M, H=H, W=W, R=R, S=S, N=N, stride=strides, dilation=dil,
                     padding=pads, groups=group)
        out = self.shapes.get(nd.output[0])
        if out is not None and out[2:] != (p.dims["P"], p.dims["Q"]):
            raise _Error(f"node {name!r} (Conv): output {out[2:]} disagrees with the padding rule {(p.dims['P'], p.dims['Q'])}")
        return p

    def _product(self, nd, name: str) -> Op:
        if len(nd.input) < 2:
            raise _Error(f"node {name!r} ({nd.op_type}): needs two operands, has {len(nd.input)} input(s)")
        a, b = self._shape(nd.input[0], nd), self._shape(nd.input[1], nd)
        if nd.op_type == "Gemm":
            if _int(nd, name, "transA", 0, lo=0):
                a = a[::-1]
            if _int(nd, name, "transB", 0, lo=0):
                b = b[::-1]
        try:
            return L.product(name, a, b, nd.input[1] in self.consts)
        except L.LayerError as e:
            raise _Unsupported(f" ({e})")


def named_nodes(graph, consts: dict, taken: set[str]) -> Iterator[tuple[object, str]]:
    """The nodes of ``graph`` that become network nodes, each with its network name: the node's
    own name, else ``<op_type>_<index in the graph>``, with '_' appended until it differs from
    every name in ``taken`` (the graph inputs' names; it gains each name given). Constant nodes
    and dequantized constant weights are skipped and their outputs recorded in ``consts``."""
    for i, nd in enumerate(graph.node):
        if nd.op_type == "Constant":
            consts.update({o: () for o in nd.output})
            continue
        if onnx_quant.folds_constant(nd, consts):
            continue
        name = nd.name or f"{nd.op_type}_{i}"
        while name in taken:
            name += "_"
        taken.add(name)
        yield nd, name


class _Unsupported(Exception):
    """Raised by a converter for an operator the representation cannot hold; ``why`` qualifies it."""

    def __init__(self, why: str):
        self.why = why


def _attr(nd, key: str, default):
    import onnx

    for a in nd.attribute:
        if a.name == key:
            return onnx.helper.get_attribute_value(a)
    return default


def _int(nd, name: str, key: str, default: int, lo: int) -> int:
    """An integer attribute, checked: an ``int`` >= ``lo`` (ONNX does not check types or ranges)."""
    v = _attr(nd, key, default)
    if not isinstance(v, int) or v < lo:
        raise _Error(f"node {name!r} ({nd.op_type}): attribute {key} is {_show(v)}; allowed: an integer >= {lo}")
    return v


def _ints(nd, name: str, key: str, default, lo: int, length: int | None = None) -> list[int]:
    """A list-of-integers attribute, checked: each an ``int`` >= ``lo``, ``length`` of them where given."""
    v = _attr(nd, key, default)
    if (not isinstance(v, (list, tuple)) or any(not isinstance(i, int) or i < lo for i in v)
            or (length is not None and len(v) != length)):
        n = f"{length} " if length is not None else ""
        raise _Error(f"node {name!r} ({nd.op_type}): attribute {key} is {_show(v)}; allowed: a list of {n}integers >= {lo}")
    return list(v)


def _show(v) -> str:
    """An attribute value as the model wrote it (strings decoded)."""
    return repr(v.decode("utf-8", "backslashreplace")) if isinstance(v, bytes) else repr(v)


def _check_names(graph) -> None:
    """Node, operator and tensor names must be text: protobuf hands invalid UTF-8 over as bytes,
    which would reach the layer names and the JSON output."""
    for kind, items in (("graph input", graph.input), ("graph output", graph.output), ("initializer", graph.initializer)):
        for i, vi in enumerate(items):
            if isinstance(vi.name, bytes):
                raise _Error(f"{kind} {i}: name {vi.name!r} is not valid UTF-8")
    for i, nd in enumerate(graph.node):
        op = nd.op_type if isinstance(nd.op_type, str) else repr(nd.op_type)
        for what, text in (("name", nd.name), ("op_type", nd.op_type), *(("input", t) for t in nd.input),
                           *(("output", t) for t in nd.output)):
            if isinstance(text, bytes):
                label = repr(nd.name) if isinstance(nd.name, str) and nd.name else f"#{i}"
                raise _Error(f"node {label} ({op}): {what} {text!r} is not valid UTF-8")


def _same_pads(size, kernel, strides, dil, upper: bool) -> tuple[int, int, int, int]:
    """ONNX auto_pad SAME_*: output = ceil(in / stride); the odd pad goes to the end (UPPER) or start."""
    lo, hi = [], []
    for n, k, s, d in zip(size, kernel, strides, dil):
        total = max(0, (-(-n // s) - 1) * s + d * (k - 1) + 1 - n)
        small = total // 2
        lo.append(small if upper else total - small)
        hi.append(total - small if upper else small)
    return (lo[0], lo[1], hi[0], hi[1])
