"""A network: MAC layers (loop nests) and non-MAC operators as nodes of a graph.

Each node names its producers, so the graph (which layer's output feeds which layer) is kept
for fusion and pipelining studies, not only a list of layers. Nodes are stored in a
topological order (every producer before its consumers).

Element-op counting convention of non-MAC operators (per output element unless stated):
activation 1; add/mul/sub with k inputs k-1; pooling one op per window element (R*S);
softmax 3 (exp, sum, divide); batch norm 2 (folded scale and shift); layer norm 6 (mean,
subtract, square-sum, rsqrt-multiply, scale, shift); LRN size+3; data movement (concat,
reshape, flatten, transpose, pad, split, shift, shuffle) 0.

Data movement is of two sorts (``COPY_KINDS``). A concat, split, reshape or flatten renames
storage: in channel-major (C, H, W) layout its output is its inputs' elements, in order, so
the producers write (or the consumer reads) one contiguous buffer and nothing is copied. A
shift (Wu et al., CVPR 2018: each channel moved by its own spatial offset, zero-filled at the
border) and a channel shuffle (ShuffleNet: channels interleaved across groups) reorder elements,
so each output element is copied: ``in_elems`` are the input elements read (a shift reads no
element for the zeros it fills in) and ``out_elems`` the elements written. A shuffle written as
reshape-transpose-reshape (``shuffle_groups``) is one: the importers make its transpose the copy
and leave the two reshapes as renames; any other transpose stays a rename.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from math import prod

from loopnest.workload.problem import Problem

OPS_PER_ELEMENT = {"activation": 1, "softmax": 3, "batchnorm": 2, "layernorm": 6}
COPY_KINDS = frozenset({"shift", "shuffle"})  # data movement that copies every element (module docstring)


def shift_offsets(kernel: int) -> tuple[tuple[int, int], ...]:
    """The k*k (dy, dx) offsets of a k x k shift (Wu et al. 2018), row-major, centre included."""
    if not isinstance(kernel, int) or kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"shift kernel must be an odd positive int, got {kernel!r}")
    h = kernel // 2
    return tuple((dy, dx) for dy in range(-h, h + 1) for dx in range(-h, h + 1))


def shift_reads(C: int, H: int, W: int, offsets: tuple[tuple[int, int], ...]) -> int:
    """Input elements a shift reads (per sample): channel c takes ``offsets[c % len(offsets)]``
    (DiracDeltaNet's assignment), and a channel moved by (dy, dx) on an H x W map keeps
    (H - |dy|) * (W - |dx|) of its elements; the rest of its output is zero fill, read from nowhere."""
    n = len(offsets)
    return sum((C // n + (i < C % n)) * max(H - abs(dy), 0) * max(W - abs(dx), 0)
               for i, (dy, dx) in enumerate(offsets))


def shuffle_groups(before: tuple[int, ...], split: tuple[int, ...], perm: tuple[int, ...],
                   after: tuple[int, ...]) -> int:
    """The groups g of a channel shuffle written as reshape-transpose-reshape (torchvision's
    ShuffleNet ``channel_shuffle``, and its ONNX export): ``before`` (N, C, *rest) reshaped to
    ``split`` (N, g, C/g, *rest), axes 1 and 2 swapped (``perm``), reshaped to ``after`` = ``before``.
    0 when the shapes or the permutation are anything else (g or C/g of 1 moves nothing)."""
    before, split, after = tuple(before), tuple(split), tuple(after)
    if len(before) < 2 or after != before or len(split) != len(before) + 1:
        return 0
    g, per_group = split[1], split[2]
    if (split[0], *split[3:]) != (before[0], *before[2:]) or g * per_group != before[1] or min(g, per_group) < 2:
        return 0
    return g if tuple(perm) == (0, 2, 1, *range(3, len(split))) else 0


class NetworkError(ValueError):
    """A network whose graph is inconsistent (unknown producer, duplicate name, bad batch)."""


@dataclass(frozen=True)
class ElementOp:
    """A non-MAC operator, counted in element operations rather than as a loop nest.

    Counts are per sample (batch item); totals multiply by ``batch``.
    """

    name: str
    kind: str
    batch: int
    in_elems: int
    out_elems: int
    ops_per_sample: int
    bits: int = 16
    attrs: Mapping[str, object] = field(default_factory=dict)

    @property
    def elem_ops(self) -> int:
        return self.ops_per_sample * self.batch

    @property
    def copies(self) -> bool:
        """True for a data-movement operator that copies its elements (a shift, a shuffle)."""
        return self.kind in COPY_KINDS

    @property
    def input_elements(self) -> int:
        return self.in_elems * self.batch

    @property
    def output_elements(self) -> int:
        return self.out_elems * self.batch


Op = Problem | ElementOp


@dataclass(frozen=True)
class Node:
    """One operator and the names of the nodes (or graph inputs) whose outputs it reads."""

    name: str
    op: Op
    inputs: tuple[str, ...]
    shape: tuple[int, ...] = ()  # per-sample output shape (no batch axis)

    @property
    def is_layer(self) -> bool:
        return isinstance(self.op, Problem)


@dataclass(frozen=True)
class Network:
    """A DNN as a graph. ``inputs`` maps each graph input to its per-sample shape;
    ``unsupported`` maps an operator type an importer could not represent to its node names."""

    name: str
    batch: int
    nodes: tuple[Node, ...]
    inputs: Mapping[str, tuple[int, ...]]
    source: str = "zoo"
    unsupported: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.batch, int) or self.batch < 1:
            raise NetworkError(f"network {self.name!r}: batch must be a positive integer, got {self.batch!r}")
        seen = set(self.inputs)
        for n in self.nodes:
            if n.name in seen:
                raise NetworkError(f"network {self.name!r}: duplicate node or input name {n.name!r}")
            missing = [i for i in n.inputs if i not in seen]
            if missing:
                raise NetworkError(f"network {self.name!r}: node {n.name!r} reads {missing}, not produced before it")
            seen.add(n.name)

    @property
    def layers(self) -> tuple[Problem, ...]:
        """The MAC layers (loop nests), in graph order."""
        return tuple(n.op for n in self.nodes if isinstance(n.op, Problem))

    @property
    def ops(self) -> tuple[ElementOp, ...]:
        """The non-MAC operators, in graph order."""
        return tuple(n.op for n in self.nodes if isinstance(n.op, ElementOp))

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """(producer, consumer) pairs; graph inputs appear as producers."""
        return tuple((src, n.name) for n in self.nodes for src in n.inputs)

    def successors(self, name: str) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes if name in n.inputs)

    @property
    def outputs(self) -> tuple[str, ...]:
        """Nodes whose output no other node reads: the network's results."""
        used = {src for n in self.nodes for src in n.inputs}
        return tuple(n.name for n in self.nodes if n.name not in used)

    def layer_edges(self) -> tuple[tuple[str, str], ...]:
        """(producer layer, consumer layer) pairs with non-MAC operators looked through:
        the data dependences between loop nests that fusion and pipelining studies need."""
        by_name = {n.name: n for n in self.nodes}
        memo: dict[str, frozenset[str]] = {}

        def layer_sources(name: str) -> frozenset[str]:
            if name not in by_name:  # a graph input
                return frozenset()
            if name not in memo:
                n = by_name[name]
                memo[name] = (frozenset({name}) if n.is_layer
                              else frozenset().union(*(layer_sources(i) for i in n.inputs)))
            return memo[name]

        order = {n.name: i for i, n in enumerate(self.nodes)}
        pairs = []
        for n in self.nodes:
            if n.is_layer:
                srcs = frozenset().union(*(layer_sources(i) for i in n.inputs))
                pairs += [(s, n.name) for s in sorted(srcs, key=order.__getitem__)]
        return tuple(pairs)

    def input_elements(self) -> int:
        """Elements of all graph inputs over the whole batch."""
        return self.batch * sum(prod(s) for s in self.inputs.values())

    def with_batch(self, batch: int) -> Network:
        """The same network at another batch size (every layer's N scales by batch/self.batch)."""
        if not isinstance(batch, int) or batch < 1:
            raise NetworkError(f"batch must be a positive integer, got {batch!r}")
        if batch == self.batch:
            return self
        nodes = []
        for n in self.nodes:
            if isinstance(n.op, Problem):
                N = n.op.dims.get("N", 1)
                if N % self.batch:
                    raise NetworkError(f"layer {n.name!r}: dimension N={N} is not a multiple of batch {self.batch}")
                op: Op = n.op.with_dims(N=N // self.batch * batch)
            else:
                op = replace(n.op, batch=batch)
            nodes.append(replace(n, op=op))
        return replace(self, batch=batch, nodes=tuple(nodes))
