"""Bit widths of a layer's tensors: what the cost model charges storage and traffic by.

A :class:`Precision` names the stored width of each tensor role (weights, input activations,
output activations). Applying it to a layer sets ``Tensor.bits``; the cost model reads the
widths from there and nowhere else, so one network can be costed at many precisions.
Specs are text such as ``weights=4,inputs=8,outputs=16`` (roles may be abbreviated to
``w``, ``i``, ``o``); a role left out keeps the layer's own width.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from loopnest.workload.network import Network
from loopnest.workload.problem import Problem

MAX_BITS = 32
_ALIASES = {"w": "weights", "i": "inputs", "o": "outputs"}


class PrecisionError(ValueError):
    """A precision spec that names an unknown role or a bit width outside 1..32."""


def check_bits(value: object, what: str) -> int:
    """``value`` as a bit width in 1..MAX_BITS, or a PrecisionError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BITS:
        raise PrecisionError(f"{what}: a bit width must be an integer from 1 to {MAX_BITS}, got {value!r}")
    return value


@dataclass(frozen=True)
class Precision:
    """Stored bit width per tensor role; None keeps the layer's own width for that role."""

    weights: int | None = None
    inputs: int | None = None
    outputs: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None:
                check_bits(v, f.name)

    @classmethod
    def parse(cls, text: str) -> Precision:
        """``weights=4,inputs=8`` (or ``w=4,i=8``) -> Precision(weights=4, inputs=8)."""
        widths: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            role, sep, value = part.partition("=")
            role = _ALIASES.get(role.strip(), role.strip())
            if not sep or role not in ("weights", "inputs", "outputs"):
                raise PrecisionError(f"precision {text!r}: expected role=bits with roles weights, inputs, outputs; got {part!r}")
            if role in widths:
                raise PrecisionError(f"precision {text!r}: {role} is given twice")
            try:
                bits = int(value.strip())
            except ValueError:
                raise PrecisionError(f"precision {text!r}: {role}: a bit width must be an integer from 1 to {MAX_BITS}, got {value.strip()!r}") from None
            widths[role] = check_bits(bits, f"precision {text!r}: {role}")
        if not widths:
            raise PrecisionError(f"precision {text!r}: give at least one of weights=, inputs=, outputs=")
        return cls(**widths)

    def apply(self, layer: Problem) -> Problem:
        """The layer with each named role's tensor stored at this width."""
        tensors = tuple(t if getattr(self, t.role) is None else replace(t, bits=getattr(self, t.role))
                        for t in layer.tensors)
        return replace(layer, tensors=tensors)


def apply_precision(network: Network, default: Precision,
                    per_layer: Mapping[str, Precision] | None = None) -> Network:
    """The network with ``default`` applied to every MAC layer, then ``per_layer[name]`` on top.

    A name in ``per_layer`` that is no layer of the network is an error (never ignored).
    """
    per_layer = dict(per_layer or {})
    names = {n.name for n in network.nodes if n.is_layer}
    unknown = sorted(set(per_layer) - names)
    if unknown:
        raise PrecisionError(f"precision given for {', '.join(map(repr, unknown))}: no such layer in {network.name!r}")
    nodes = []
    for n in network.nodes:
        if n.is_layer:
            op = default.apply(n.op)
            if n.name in per_layer:
                op = per_layer[n.name].apply(op)
            n = replace(n, op=op)
        nodes.append(n)
    return replace(network, nodes=tuple(nodes))
