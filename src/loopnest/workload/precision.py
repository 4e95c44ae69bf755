"""Bit widths of a layer's tensors: what the cost model charges storage and traffic by.

A :class:`Precision` names the stored width of each tensor role (weights, input activations,
output activations). Applying it to a layer sets ``Tensor.bits``; the cost model reads the
widths from there and nowhere else, so one network can be costed at many precisions.
Specs are text such as ``weights=4,inputs=8,outputs=16`` (roles may be abbreviated to
``w``, ``i``, ``o``); a role left out keeps the layer's own width. Two more widths describe the
arithmetic rather than storage: ``mac=16`` decodes both operands to 16 bits for the MAC
(``Tensor.compute_bits`` of inputs and weights), ``accumulator=32`` (``acc``) is the width of the
MAC's adder and of the partial sums (``compute_bits`` of the outputs; at least the outputs' width).
A per-layer file (``read_precision_file``) gives a default and per-layer overrides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from loopnest.workload.network import Network
from loopnest.workload.problem import Problem

MAX_BITS = 32
_ALIASES = {"w": "weights", "i": "inputs", "o": "outputs", "acc": "accumulator"}
_FIELDS = ("weights", "inputs", "outputs", "mac", "accumulator")


class PrecisionError(ValueError):
    """A precision spec that names an unknown role or a bit width outside 1..32."""


def check_bits(value: object, what: str) -> int:
    """``value`` as a bit width in 1..MAX_BITS, or a PrecisionError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BITS:
        raise PrecisionError(f"{what}: a bit width must be an integer from 1 to {MAX_BITS}, got {value!r}")
    return value


@dataclass(frozen=True)
class Precision:
    """Stored bit width per tensor role, the MAC's operand width and the accumulator width;
    None keeps the layer's own width."""

    weights: int | None = None
    inputs: int | None = None
    outputs: int | None = None
    mac: int | None = None
    accumulator: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None:
                check_bits(v, f.name)

    def __str__(self) -> str:
        """The spec text ``parse`` reads back: ``weights=4,inputs=8`` (widths left as the layer's omitted)."""
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name) is not None) or "as given"

    @classmethod
    def parse(cls, text: str) -> Precision:
        """``weights=4,inputs=8`` (or ``w=4,i=8``) -> Precision(weights=4, inputs=8)."""
        widths: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            role, sep, value = part.partition("=")
            role = _ALIASES.get(role.strip(), role.strip())
            if not sep or role not in _FIELDS:
                raise PrecisionError(f"precision {text!r}: expected role=bits with roles {', '.join(_FIELDS)}; got {part!r}")
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

    @classmethod
    def from_dict(cls, data: object, where: str) -> Precision:
        """``{weights: 4, inputs: 8}`` (a file's entry) or the text form; errors name ``where``."""
        if isinstance(data, str):
            try:
                return cls.parse(data)
            except PrecisionError as e:
                raise PrecisionError(f"{where}: {e}") from None
        if not isinstance(data, dict) or not data:
            raise PrecisionError(f"{where}: expected a mapping of role: bits (roles {', '.join(_FIELDS)}), got {data!r}")
        widths = {}
        for key, value in data.items():
            role = _ALIASES.get(str(key), str(key))
            if role not in _FIELDS:
                raise PrecisionError(f"{where}.{key}: no such tensor role; roles are {', '.join(_FIELDS)}")
            widths[role] = check_bits(value, f"{where}.{key}")
        return cls(**widths)

    def apply(self, layer: Problem) -> Problem:
        """The layer with each named role's tensor stored at this width (and the MAC and
        accumulator widths set on the operands and the outputs)."""
        tensors = []
        for t in layer.tensors:
            if getattr(self, t.role) is not None:
                t = replace(t, bits=getattr(self, t.role))
            compute = self.accumulator if t.role == "outputs" else self.mac
            if compute is not None:
                t = replace(t, compute_bits=compute)
            if t.role == "outputs" and t.mac_bits < t.bits:
                raise PrecisionError(f"layer {layer.name!r}: accumulator width {t.mac_bits} is narrower than the "
                                     f"{t.bits}-bit outputs; give accumulator >= outputs")
            tensors.append(t)
        return replace(layer, tensors=tuple(tensors))


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


def read_precision_file(path: str) -> tuple[Precision, dict[str, Precision]]:
    """A per-layer precision file: ``default:`` (optional) and ``layers: {name: {role: bits}}``;
    each entry a mapping or the text form. Returns (default, per layer)."""
    from loopnest.datafile import read_yaml

    data = read_yaml(path)
    if not isinstance(data, dict) or not set(data) <= {"default", "layers"} or not data:
        raise PrecisionError(f"{path}: expected a mapping with 'default' and/or 'layers', got {data!r}")
    default = Precision.from_dict(data["default"], f"{path}: default") if data.get("default") is not None else Precision()
    layers = data.get("layers") or {}
    if not isinstance(layers, dict):
        raise PrecisionError(f"{path}: layers: expected a mapping of layer name: precision, got {layers!r}")
    return default, {str(k): Precision.from_dict(v, f"{path}: layers.{k}") for k, v in layers.items()}


def load_precision(spec: str) -> tuple[Precision, dict[str, Precision]]:
    """``--precision``'s value: a per-layer file (a path ending in .yaml, .yml or .json) or the
    text form for every layer. Returns (default, per layer)."""
    if spec.lower().endswith((".yaml", ".yml", ".json")):
        return read_precision_file(spec)
    return Precision.parse(spec), {}


def apply_to_layer(layer: Problem, default: Precision, per_layer: Mapping[str, Precision] | None = None) -> Problem:
    """One layer at ``default``, then its own entry; an entry for another layer is an error."""
    unknown = sorted(set(per_layer or {}) - {layer.name})
    if unknown:
        raise PrecisionError(f"precision given for {', '.join(map(repr, unknown))}: no such layer (the layer is {layer.name!r})")
    layer = default.apply(layer)
    return per_layer[layer.name].apply(layer) if per_layer and layer.name in per_layer else layer
