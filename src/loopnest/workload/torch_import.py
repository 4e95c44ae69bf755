"""PyTorch importer: an ``nn.Module`` plus an example input -> :class:`Network`.

The module is traced with torch.fx and its shapes propagated with the example input. Conv2d
and Linear modules, F.conv2d / F.linear and matmul-like functions become loop nests (an
operand derived only from parameters is static; a product of two activations is kind
"attention"). Known element-wise, pooling and normalization operators become element ops;
anything else is kept as kind "unsupported" and listed by type in ``Network.unsupported``. A
channel shuffle written as view -> transpose (or permute) -> [contiguous ->] view (torchvision's
ShuffleNet ``channel_shuffle``; ``network.shuffle_groups``) makes its transpose a "shuffle" (a copy).
Nodes that return no tensor (``x.size()``, attribute reads) are shape arithmetic, not operators.
"""

from __future__ import annotations

import operator
from math import prod

from loopnest.workload import layers as L
from loopnest.workload.network import OPS_PER_ELEMENT, ElementOp, Network, Node, Op, shuffle_groups

_MODULES = {  # nn class name -> (kind, ops per output element)
    **{m: ("activation", 1) for m in ("ReLU", "ReLU6", "GELU", "SiLU", "Sigmoid", "Tanh", "Hardswish",
                                      "Hardsigmoid", "LeakyReLU", "ELU", "Mish", "Softplus")},
    **{m: ("reshape", 0) for m in ("Dropout", "Identity", "Flatten", "Unflatten")},
    "BatchNorm2d": ("norm", OPS_PER_ELEMENT["batchnorm"]), "BatchNorm1d": ("norm", OPS_PER_ELEMENT["batchnorm"]),
    "LayerNorm": ("norm", OPS_PER_ELEMENT["layernorm"]), "Softmax": ("softmax", OPS_PER_ELEMENT["softmax"]),
    "ChannelShuffle": ("shuffle", 0),  # a copy (workload.network, COPY_KINDS)
}
_FUNCTIONS = {  # function or method name -> (kind, ops per output element)
    **{f: ("activation", 1) for f in ("relu", "relu_", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish",
                                      "leaky_relu", "exp", "sqrt", "rsqrt", "erf", "neg")},
    **{f: ("add", 1) for f in ("add", "iadd", "add_")},
    **{f: ("elementwise", 1) for f in ("sub", "mul", "truediv", "div", "pow", "imul", "mul_", "masked_fill")},
    **{f: ("reshape", 0) for f in ("flatten", "view", "reshape", "transpose", "permute", "contiguous", "cat",
                                   "chunk", "split", "getitem", "unsqueeze", "squeeze", "dropout", "t",
                                   "expand", "to", "float", "type_as", "clone", "stack", "narrow")},
    "softmax": ("softmax", OPS_PER_ELEMENT["softmax"]),
    "channel_shuffle": ("shuffle", 0),
    "layer_norm": ("norm", OPS_PER_ELEMENT["layernorm"]),
    "batch_norm": ("norm", OPS_PER_ELEMENT["batchnorm"]),
}
_PRODUCTS = ("matmul", "bmm", "mm")


def import_torch(module, example_input, name: str | None = None) -> Network:
    """Trace ``module`` on ``example_input`` (a tensor or a tuple of tensors) into a Network."""
    from loopnest.workload import WorkloadError

    name = name or type(module).__name__
    try:
        import torch
        from torch.fx import symbolic_trace
        from torch.fx.passes.shape_prop import ShapeProp
    except ImportError:
        raise WorkloadError(f"{name}: importing a PyTorch module needs torch (pip install 'loopnest[torch]')") from None
    args = example_input if isinstance(example_input, (tuple, list)) else (example_input,)
    try:
        gm = symbolic_trace(module)
        with torch.no_grad():
            ShapeProp(gm).propagate(*args)
    except Exception as e:  # tracing errors come from user code and fx internals alike
        raise WorkloadError(f"{name}: cannot trace the module with torch.fx "
                            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    return _Converter(gm, name, int(args[0].shape[0]) if args[0].dim() else 1).run()


class _Converter:
    def __init__(self, gm, name: str, batch: int):
        self.gm, self.name, self.batch = gm, name, batch
        self.modules = dict(gm.named_modules())
        self.static: set[str] = set()  # nodes computed from parameters only

    def run(self) -> Network:
        inputs: dict[str, tuple[int, ...]] = {}
        nodes: list[Node] = []
        unsupported: dict[str, list[str]] = {}
        alias: dict[str, str] = {}  # fx node -> the network node (or input) whose output it is
        used: set[str] = set()
        for n in self.gm.graph.nodes:
            shape = _shape(n)
            if n.op == "placeholder":
                inputs[n.name] = shape[1:] if shape else ()
                used.add(n.name)
                alias[n.name] = n.name
                continue
            if n.op == "get_attr":
                self.static.add(n.name)
                continue
            if n.op == "output" or shape is None:  # the result list, or shape arithmetic
                continue
            tensor_args = [a for a in n.all_input_nodes if _shape(a) is not None or a.name in self.static]
            if tensor_args and all(a.name in self.static for a in tensor_args):
                self.static.add(n.name)
                continue
            label = n.target if n.op == "call_module" and n.target not in used else n.name
            while label in used:  # a module called twice, or an fx name equal to a module path
                label += "_"
            used.add(label)
            try:
                op = self._convert(n, label, tensor_args, shape)
            except _Unsupported as u:
                unsupported.setdefault(u.what, []).append(label)
                op = ElementOp(label, "unsupported", self.batch, 0, 0, 0, attrs={"op_type": u.what})
            srcs = tuple(dict.fromkeys(alias[a.name] for a in tensor_args if a.name in alias))
            nodes.append(Node(label, op, srcs, shape[1:] if shape and shape[0] == self.batch else shape))
            alias[n.name] = label
        return Network(self.name, self.batch, tuple(nodes), inputs, source="torch",
                       unsupported={k: tuple(v) for k, v in unsupported.items()})

    def _convert(self, n, label: str, args, out: tuple[int, ...]) -> Op:
        if n.op == "call_module":
            m = self.modules[n.target]
            kind = type(m).__name__
            if kind == "Conv2d":
                return self._conv(label, _shape(args[0]), m.weight.shape, m.stride, m.padding, m.dilation, m.groups)
            if kind == "Linear":
                return self._product(label, _shape(args[0]), (m.in_features, m.out_features), True)
            ins = sum(prod(_shape(a)) for a in args if _shape(a))
            if kind in _MODULES:
                k, per = _MODULES[kind]
                return self._eop(label, k, ins, prod(out), prod(out) * per, kind)
            if kind in ("MaxPool2d", "AvgPool2d"):
                kk = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size,) * 2
                return self._eop(label, "pool", ins, prod(out), prod(out) * prod(kk), kind)
            if kind in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d"):
                return self._eop(label, "pool", ins, prod(out), ins, kind)
            if kind == "LocalResponseNorm":
                return self._eop(label, "norm", ins, prod(out), prod(out) * (m.size + 3), kind)
            raise _Unsupported(kind)
        fname = _fname(n)
        if fname in ("linear", "conv2d"):
            w = n.args[1] if len(n.args) > 1 else n.kwargs["weight"]
            if w.name not in self.static:
                raise _Unsupported(f"{fname} with a non-parameter weight")
            ws = _shape(w) or tuple(self.gm.get_parameter(w.target).shape)
            if fname == "linear":
                return self._product(label, _shape(n.args[0]), (ws[1], ws[0]), True)
            kw = {k: n.kwargs.get(k, d) for k, d in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1))}
            for i, k in enumerate(("stride", "padding", "dilation", "groups"), 3):
                if len(n.args) > i:
                    kw[k] = n.args[i]
            return self._conv(label, _shape(n.args[0]), ws, **kw)
        if fname in _PRODUCTS or n.target is operator.matmul:
            a, b = n.args[0], n.args[1]
            return self._product(label, _shape(a), _shape(b), b.name in self.static)
        ins = sum(prod(_shape(a)) for a in args if _shape(a))
        groups = _shuffle(n) if fname in ("transpose", "permute") else 0
        if groups:
            return self._eop(label, "shuffle", prod(out), prod(out), 0, fname, groups=groups)
        if fname in _FUNCTIONS:
            k, per = _FUNCTIONS[fname]
            return self._eop(label, k, ins, prod(out), prod(out) * per, fname)
        if fname in ("adaptive_avg_pool2d", "mean"):
            return self._eop(label, "pool" if fname.startswith("adaptive") else "reduce", ins, prod(out), ins, fname)
        raise _Unsupported(fname)

    def _eop(self, label, kind, ins, outs, ops, op_type, **attrs) -> ElementOp:
        b = self.batch
        return ElementOp(label, kind, b, ins // b, outs // b, ops // b, attrs={"op_type": op_type, **attrs})

    def _conv(self, label, x, w, stride, padding, dilation, groups) -> Op:
        if x is None or len(x) != 4:
            raise _Unsupported("non-2-D convolution")
        N, C, H, W = x
        R, S = int(w[2]), int(w[3])
        dil = _pair(dilation)
        if padding == "same":  # torch puts the odd pad at the end
            tot = [d * (k - 1) for d, k in zip(dil, (R, S))]
            padding = (tot[0] // 2, tot[1] // 2, tot[0] - tot[0] // 2, tot[1] - tot[1] // 2)
        elif padding == "valid":
            padding = 0
        return L.conv2d(label, C=C, M=int(w[0]), H=H, W=W, R=R, S=S, N=N, stride=_pair(stride), dilation=dil,
                        padding=padding if isinstance(padding, int) else tuple(padding), groups=groups)

    def _product(self, label, a, b, static: bool) -> Op:
        try:
            return L.product(label, a, b, static)
        except L.LayerError as e:
            raise _Unsupported(f"matmul ({e})")


class _Unsupported(Exception):
    def __init__(self, what: str):
        self.what = what


def _fname(n) -> str:
    """The function or method name an fx node calls."""
    return n.target if isinstance(n.target, str) else getattr(n.target, "__name__", str(n.target))


def _shuffle(n) -> int:
    """Groups of the channel shuffle whose transpose or permute ``n`` is: its input a view/reshape,
    its only reader (past ``contiguous``) a view/reshape back to that one's input shape; else 0."""
    src = n.args[0] if n.args else None
    end = n
    while len(end.users) == 1:
        end = next(iter(end.users))
        if _fname(end) != "contiguous":
            break
    if (not hasattr(src, "op") or src.op == "placeholder" or _fname(src) not in ("view", "reshape") or end is n
            or _fname(end) not in ("view", "reshape") or not src.args or not hasattr(src.args[0], "meta")):
        return 0
    before, split, after = _shape(src.args[0]), _shape(src), _shape(end)
    if None in (before, split, after):
        return 0
    rank = len(split)
    if _fname(n) == "transpose":
        dims = [n.args[i] if len(n.args) > i else n.kwargs.get(k) for i, k in ((1, "dim0"), (2, "dim1"))]
        if not all(isinstance(d, int) for d in dims):
            return 0
        perm = list(range(rank))
        a, b = (d % rank for d in dims)
        perm[a], perm[b] = perm[b], perm[a]
    else:
        perm = n.args[1] if len(n.args) == 2 and isinstance(n.args[1], (tuple, list)) else n.args[1:] or n.kwargs.get("dims", ())
        if not all(isinstance(d, int) for d in perm):
            return 0
        perm = [d % rank for d in perm]
    return shuffle_groups(before, split, tuple(perm), after)


def _pair(v) -> tuple[int, ...]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _shape(n) -> tuple[int, ...] | None:
    """Output shape of an fx node, or None where it is not a single tensor."""
    meta = n.meta.get("tensor_meta") if hasattr(n, "meta") else None
    return tuple(int(s) for s in meta.shape) if meta is not None and hasattr(meta, "shape") else None
