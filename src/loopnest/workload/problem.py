"""One layer as an Einsum-like loop nest: named dimensions, tensors with affine projections.

Every quantity the cost model needs (MACs, tensor tile sizes, relevant dimensions) is derived
from this representation and nothing else.

Index rule: each tensor index is an affine sum ``sum(coef * dim)`` of loop dimensions, so a
sliding window (input row = stride*p + dilation*r) is the index ``{"P": stride, "R": dilation}``.
The *touched extent* of an index over a box of dimension extents ``t`` is
``sum(coef * (t[dim] - 1)) + 1`` (coefficients are positive); this is the halo rule. The
touched extent counts padding as data (padded input), the convention the cost model uses,
as Timeloop does. The *real* (unpadded) extent of an index, when the layer has padding, is
stored in ``Tensor.true_extents`` and used by workload statistics.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from math import prod
from typing import Literal, Mapping

from loopnest.names import plain

Role = Literal["inputs", "weights", "outputs"]
ROLES: tuple[Role, ...] = ("inputs", "weights", "outputs")


@dataclass(frozen=True)
class Tensor:
    """A tensor of the loop nest.

    role: the operand slot that architectures refer to: ``inputs`` (first operand),
    ``weights`` (second operand) or ``outputs`` (the read-modify-write result).
    static: True for trained parameters (weights). For operand x operand products such as
    attention (Q.K^T) the second operand has role ``weights`` but ``static=False``.
    indices: one affine projection per tensor axis, as a mapping dim -> positive coefficient.
    true_extents: the real (unpadded) size of each axis, or None where it equals the touched extent.
    bits: the stored width of each value (storage, traffic). compute_bits: for an operand, the
    width the MAC computes with (a value stored at 4 bits may be decoded to 16); for the outputs,
    the accumulator width, at which partial sums are also stored. None: the same as ``bits``.
    density: the tensor's ``workload.density.Density`` (None: dense), what the sparse cost model
    scales by.
    """

    name: str
    role: Role
    indices: tuple[Mapping[str, int], ...]
    bits: int = 16
    static: bool = False
    true_extents: tuple[int | None, ...] | None = None
    compute_bits: int | None = None
    density: "Density | None" = None  # workload.density: fraction of nonzeros and its model; None: dense

    @property
    def mac_bits(self) -> int:
        """The width the MAC sees: ``compute_bits``, else the stored width."""
        return self.bits if self.compute_bits is None else self.compute_bits

    def dims(self) -> frozenset[str]:
        """Dimensions that index this tensor (its relevant dimensions)."""
        return frozenset(d for idx in self.indices for d in idx)

    def extent(self, box: Mapping[str, int], axis: int) -> int:
        """Touched extent of one axis over a box of dimension extents (halo rule)."""
        return sum(c * (box.get(d, 1) - 1) for d, c in self.indices[axis].items()) + 1

    def tile_size(self, box: Mapping[str, int]) -> int:
        """Number of elements touched over a box of dimension extents."""
        return prod(self.extent(box, a) for a in range(len(self.indices)))


@dataclass(frozen=True)
class Problem:
    """One layer: dimension sizes (ordered) and its tensors, exactly one with role ``outputs``."""

    name: str
    kind: str
    dims: Mapping[str, int]
    tensors: tuple[Tensor, ...]
    attrs: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for d, n in self.dims.items():
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"layer {self.name!r}: dimension {d} must be a positive integer, got {n!r}")
        roles = [t.role for t in self.tensors]
        if sorted(roles) != sorted(ROLES):
            raise ValueError(f"layer {self.name!r}: needs one tensor per role ({plain(ROLES)}), got {plain(roles)}")
        for t in self.tensors:
            unknown = t.dims() - set(self.dims)
            if unknown:
                raise ValueError(f"layer {self.name!r}: tensor {t.name} uses unknown dimensions {plain(sorted(unknown))}")

    @property
    def dim_names(self) -> tuple[str, ...]:
        return tuple(self.dims)

    @property
    def macs(self) -> int:
        return prod(self.dims.values())

    def tensor(self, role: Role) -> Tensor:
        return next(t for t in self.tensors if t.role == role)

    @property
    def output(self) -> Tensor:
        return self.tensor("outputs")

    def size(self, tensor: Tensor) -> int:
        """Touched size of a tensor over the whole layer (padding included)."""
        return tensor.tile_size(self.dims)

    def true_size(self, tensor: Tensor) -> int:
        """Real size of a tensor (padding excluded): what statistics report."""
        ext = [tensor.extent(self.dims, a) for a in range(len(tensor.indices))]
        if tensor.true_extents is not None:
            ext = [e if t is None else t for e, t in zip(ext, tensor.true_extents)]
        return prod(ext)

    def relevant(self, tensor: Tensor) -> tuple[str, ...]:
        """Dimensions that index ``tensor``, in problem order."""
        used = tensor.dims()
        return tuple(d for d in self.dims if d in used)

    def irrelevant(self, tensor: Tensor) -> tuple[str, ...]:
        """Dimensions a tensor does not depend on: loops over them reuse it."""
        used = tensor.dims()
        return tuple(d for d in self.dims if d not in used)

    def shape_key(self) -> str:
        """Stable key of the loop nest (kind, dims, tensor projections, bits, static flags).

        Layer name and attrs are left out, so identical layer shapes share a key and can be
        solved once. Stable across processes (a hash of canonical JSON, not Python's hash()).
        """
        canon = {
            "kind": self.kind,
            "dims": list(self.dims.items()),
            "tensors": [
                [t.role, t.bits if t.compute_bits is None else [t.bits, t.compute_bits], t.static, [sorted(i.items()) for i in t.indices],
                 list(t.true_extents) if t.true_extents is not None else None]
                for t in sorted(self.tensors, key=lambda t: t.role)
            ],
        }
        sparse = {t.role: [t.density.kind, t.density.value, t.density.n, t.density.m] for t in self.tensors if t.density is not None}
        if sparse:  # dense layers keep their keys
            canon["density"] = sorted(sparse.items())
        return hashlib.sha256(json.dumps(canon, separators=(",", ":")).encode()).hexdigest()[:16]

    def with_dims(self, **sizes: int) -> "Problem":
        """The same layer with some dimension sizes changed (for example the batch N)."""
        dims = dict(self.dims)
        dims.update(sizes)
        return Problem(self.name, self.kind, dims, self.tensors, self.attrs)


def read_positions(problem: Problem) -> Problem:
    """``problem`` with every one-term strided index (``{P: 2}``: a 1 x 1 filter at stride 2, or a
    window dimension of size 1) counted by the positions it reads instead of its hull: coefficient
    1. Exact for every count the model makes: ``p -> c * p`` maps the outputs a tile spans one to
    one onto the inputs it reads (``t`` of them, not the hull's ``c (t - 1) + 1``), and so does
    every union, overlap and step of tiles along that axis. Indices of two or more terms (a
    window with its stride) keep the hull: the skipped inputs between windows wider-strided than
    a split window are still counted. The layer itself where nothing changes."""
    dims = {d for d, n in problem.dims.items() if n > 1}

    def one(idx: Mapping[str, int]) -> Mapping[str, int]:
        live = [d for d in idx if d in dims]
        return {d: (1 if len(live) == 1 and d in live else c) for d, c in idx.items()}

    tensors = tuple(replace(t, indices=tuple(one(i) for i in t.indices)) for t in problem.tensors)
    return problem if tensors == problem.tensors else replace(problem, tensors=tensors)
