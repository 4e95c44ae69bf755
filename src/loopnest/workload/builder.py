"""A shape-tracking network builder: the zoo describes models as short sequences of calls
(conv, pool, add, ...) and the builder derives every layer's sizes from its producer's output.

Per-sample shapes: feature maps (C, H, W), vectors (C,), token matrices (L, D) and attention
scores (heads, queries, keys). Concatenation is along the first axis (channels, or tokens).
"""

from __future__ import annotations

from math import prod

from loopnest.workload import layers as L
from loopnest.workload.network import OPS_PER_ELEMENT, ElementOp, Network, Node, Op, shift_offsets, shift_reads


class Builder:
    """Accumulates nodes at batch 1; :meth:`build` returns the :class:`Network`."""

    def __init__(self, name: str, inputs: dict[str, tuple[int, ...]], bits: int = L.DEFAULT_BITS):
        self.name = name
        self.bits = bits
        self.inputs = dict(inputs)
        self.shapes: dict[str, tuple[int, ...]] = dict(inputs)
        self.nodes: list[Node] = []

    def _add(self, name: str, op: Op, inputs: tuple[str, ...], shape: tuple[int, ...]) -> str:
        self.nodes.append(Node(name, op, inputs, shape))
        self.shapes[name] = shape
        return name

    def _eop(self, name: str, kind: str, xs: tuple[str, ...], shape: tuple[int, ...], ops: int,
             **attrs: object) -> str:
        ins = sum(prod(self.shapes[x]) for x in xs)
        op = ElementOp(name, kind, 1, ins, prod(shape), ops, self.bits, attrs)
        return self._add(name, op, xs, shape)

    # --- MAC layers -------------------------------------------------------------------------
    def conv(self, name: str, x: str, M: int, k: int | tuple[int, int], stride: int = 1,
             pad: int | tuple[int, int] = 0, groups: int = 1, dilation: int = 1) -> str:
        """A convolution; ``k`` and ``pad`` are an int or (height, width) (SqueezeNext's 3x1)."""
        C, H, W = self.shapes[x]
        R, S = (k, k) if isinstance(k, int) else k
        p = L.conv2d(name, C=C, M=M, H=H, W=W, R=R, S=S, stride=stride, padding=pad, groups=groups,
                     dilation=dilation, bits=self.bits)
        return self._add(name, p, (x,), (M, p.dims["P"], p.dims["Q"]))

    def dwconv(self, name: str, x: str, k: int, stride: int = 1, pad: int = 0) -> str:
        C = self.shapes[x][0]
        return self.conv(name, x, C, k, stride, pad, groups=C)

    def fc(self, name: str, x: str, M: int) -> str:
        shape = self.shapes[x]
        p = L.fc(name, C=prod(shape), M=M, bits=self.bits, input_shape=shape if len(shape) > 1 else None)
        return self._add(name, p, (x,), (M,))

    def linear(self, name: str, x: str, M: int) -> str:
        """Transformer projection on a token matrix (L, D): kind matmul with static weights."""
        Lx, D = self.shapes[x]
        return self._add(name, L.matmul(name, P=Lx, M=M, C=D, bits=self.bits), (x,), (Lx, M))

    def scores(self, name: str, q: str, k: str, heads: int) -> str:
        (Lq, D), (Lk, _) = self.shapes[q], self.shapes[k]
        p = L.attention_scores(name, heads=heads, queries=Lq, keys=Lk, head_dim=D // heads, bits=self.bits)
        return self._add(name, p, (q, k), (heads, Lq, Lk))

    def context(self, name: str, a: str, v: str, heads: int) -> str:
        (_, Lq, Lk), (_, D) = self.shapes[a], self.shapes[v]
        p = L.attention_context(name, heads=heads, queries=Lq, keys=Lk, head_dim=D // heads, bits=self.bits)
        return self._add(name, p, (a, v), (Lq, D))

    # --- non-MAC operators -------------------------------------------------------------------
    def act(self, name: str, x: str, fn: str = "relu") -> str:
        s = self.shapes[x]
        return self._eop(name, "activation", (x,), s, prod(s) * OPS_PER_ELEMENT["activation"], fn=fn)

    def norm(self, name: str, x: str, kind: str = "batchnorm") -> str:
        s = self.shapes[x]
        return self._eop(name, "norm", (x,), s, prod(s) * OPS_PER_ELEMENT[kind], fn=kind)

    def softmax(self, name: str, x: str) -> str:
        s = self.shapes[x]
        return self._eop(name, "softmax", (x,), s, prod(s) * OPS_PER_ELEMENT["softmax"])

    def lrn(self, name: str, x: str, size: int = 5) -> str:
        s = self.shapes[x]
        return self._eop(name, "norm", (x,), s, prod(s) * (size + 3), fn="lrn", size=size)

    def pool(self, name: str, x: str, k: int, stride: int, pad: int = 0, mode: str = "max",
             ceil: bool = False) -> str:
        C, H, W = self.shapes[x]
        P = L.conv_out_size(H, k, stride, 1, pad, pad, ceil)
        Q = L.conv_out_size(W, k, stride, 1, pad, pad, ceil)
        return self._eop(name, "pool", (x,), (C, P, Q), C * P * Q * k * k, mode=mode, kernel=k, stride=stride)

    def gap(self, name: str, x: str) -> str:
        """Global average pooling to (C,)."""
        C, H, W = self.shapes[x]
        return self._eop(name, "pool", (x,), (C,), C * H * W, mode="avg", kernel=(H, W), stride=1)

    def add(self, name: str, *xs: str) -> str:
        s = self.shapes[xs[0]]
        if any(self.shapes[x] != s for x in xs):
            raise ValueError(f"{self.name}/{name}: add of shapes {[self.shapes[x] for x in xs]}")
        return self._eop(name, "add", xs, s, prod(s) * (len(xs) - 1))

    def concat(self, name: str, *xs: str) -> str:
        rest = self.shapes[xs[0]][1:]
        if any(self.shapes[x][1:] != rest for x in xs):
            raise ValueError(f"{self.name}/{name}: concat of shapes {[self.shapes[x] for x in xs]}")
        shape = (sum(self.shapes[x][0] for x in xs), *rest)
        return self._eop(name, "concat", xs, shape, 0)

    def split(self, name: str, x: str, start: int, stop: int) -> str:
        """Channels [start, stop) of ``x`` (a slice of a channel-major buffer: renamed, not copied)."""
        C, *rest = self.shapes[x]
        if not 0 <= start < stop <= C:
            raise ValueError(f"{self.name}/{name}: channel slice [{start}, {stop}) of {C} channels")
        shape = (stop - start, *rest)
        op = ElementOp(name, "split", 1, prod(shape), prod(shape), 0, self.bits, {"start": start, "stop": stop})
        return self._add(name, op, (x,), shape)

    def shuffle(self, name: str, x: str, groups: int) -> str:
        """Channel shuffle (ShuffleNet): channel g*(C/groups)+i moves to i*groups+g; every element copied."""
        s = self.shapes[x]
        if groups < 1 or s[0] % groups:
            raise ValueError(f"{self.name}/{name}: {s[0]} channels do not divide into {groups} groups")
        return self._eop(name, "shuffle", (x,), s, 0, groups=groups)

    def shift(self, name: str, x: str, offsets: int | tuple[tuple[int, int], ...] = 3) -> str:
        """Shift (Wu et al. 2018): channel c moved by ``offsets[c % len(offsets)]`` = (dy, dx),
        zero-filled at the border; an int k means the k*k offsets of a k x k shift. Zero MACs and
        zero element ops: each output element is a copy, and a zero fill reads nothing."""
        C, H, W = self.shapes[x]
        offs = shift_offsets(offsets) if isinstance(offsets, int) else tuple(offsets)
        op = ElementOp(name, "shift", 1, shift_reads(C, H, W, offs), C * H * W, 0, self.bits, {"offsets": offs})
        return self._add(name, op, (x,), (C, H, W))

    def build(self, batch: int = 1) -> Network:
        net = Network(self.name, 1, tuple(self.nodes), self.inputs)
        return net.with_batch(batch)
