"""Workload statistics per layer and per network: MACs, weights, activations, the minimum
off-chip traffic (each tensor moved once) and the resulting maximum operational intensity.

Counting rules: ``weights`` are the elements of static tensors (trained parameters; biases and
folded batch-norm parameters are not loop-nest tensors and are not counted). Every non-static
operand is an input activation, so both operands of an attention product are activations.
Sizes are real (unpadded) tensor sizes. Bytes = elements * bits / 8, rounded up per tensor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from loopnest.workload.network import Network
from loopnest.workload.problem import Problem

MAC_KINDS = ("conv", "fc", "matmul", "attention")


@dataclass(frozen=True)
class LayerStats:
    """Statistics of one MAC layer. Element counts are whole-batch; traffic is in bytes."""

    name: str
    kind: str
    macs: int
    weights: int
    input_activations: int
    output_activations: int
    min_traffic_bytes: int
    weight_bytes: int = 0  # the layer's share of the model size, at the weights' bit width

    @property
    def max_intensity(self) -> float:
        """MACs per byte when every tensor crosses the off-chip interface exactly once."""
        return self.macs / self.min_traffic_bytes


def _bytes(elements: int, bits: int) -> int:
    return -(-elements * bits // 8)


def layer_stats(p: Problem) -> LayerStats:
    """Statistics of one loop nest (real tensor sizes, padding excluded)."""
    weights = inputs = outputs = traffic = weight_bytes = 0
    for t in p.tensors:
        n = p.true_size(t)
        traffic += _bytes(n, t.bits)
        if t.role == "outputs":
            outputs += n
        elif t.static:
            weights += n
            weight_bytes += _bytes(n, t.bits)
        else:
            inputs += n
    return LayerStats(p.name, p.kind, p.macs, weights, inputs, outputs, traffic, weight_bytes)


@dataclass(frozen=True)
class NetworkStats:
    """Per-layer and whole-network statistics of a network at one batch size.

    Two traffic bounds: ``min_traffic_bytes`` moves every weight, every graph input and every
    graph output once (all intermediate activations stay on chip); ``layerwise_traffic_bytes``
    sums the per-layer minimum (each layer reads its operands and writes its output once).
    """

    model: str
    batch: int
    layers: tuple[LayerStats, ...]
    ops: tuple[dict, ...]
    min_traffic_bytes: int
    unsupported: dict[str, list[str]]

    def totals(self) -> dict[str, int | float]:
        t: dict[str, int | float] = {k: sum(getattr(s, k) for s in self.layers) for k in
                                     ("macs", "weights", "input_activations", "output_activations")}
        t["model_bytes"] = sum(s.weight_bytes for s in self.layers)  # weights at their bit widths
        t["layers"] = len(self.layers)
        t["elem_ops"] = sum(o["elem_ops"] for o in self.ops)
        t["min_traffic_bytes"] = self.min_traffic_bytes
        t["max_intensity"] = t["macs"] / self.min_traffic_bytes if self.min_traffic_bytes else 0.0
        t["layerwise_traffic_bytes"] = lw = sum(s.min_traffic_bytes for s in self.layers)
        t["layerwise_intensity"] = t["macs"] / lw if lw else 0.0
        return t

    def totals_by_kind(self) -> dict[str, dict[str, int]]:
        """Totals per layer kind, in the order conv, fc, matmul, attention (kinds present only)."""
        kinds = [k for k in MAC_KINDS if any(s.kind == k for s in self.layers)]
        kinds += sorted({s.kind for s in self.layers} - set(kinds))
        out = {}
        for k in kinds:
            ls = [s for s in self.layers if s.kind == k]
            out[k] = {"layers": len(ls), "macs": sum(s.macs for s in ls), "weights": sum(s.weights for s in ls),
                      "input_activations": sum(s.input_activations for s in ls),
                      "output_activations": sum(s.output_activations for s in ls)}
        return out

    def to_dict(self) -> dict:
        """The stable JSON form (plain integers and floats)."""
        layers = [{**asdict(s), "max_intensity": s.max_intensity} for s in self.layers]
        return {"model": self.model, "batch": self.batch, "layers": layers, "ops": list(self.ops),
                "totals": self.totals(), "totals_by_kind": self.totals_by_kind(),
                "unsupported": self.unsupported}


def network_stats(net: Network) -> NetworkStats:
    """Statistics of every layer and operator of ``net`` and the whole-network bounds."""
    layers = tuple(layer_stats(p) for p in net.layers)
    ops = tuple({"name": o.name, "kind": o.kind, "elem_ops": o.elem_ops, "input_elements": o.input_elements,
                 "output_elements": o.output_elements} for o in net.ops)
    weights = sum(s.weight_bytes for s in layers)
    in_bits = net.layers[0].tensor("inputs").bits if net.layers else 16  # graph inputs: first layer's width
    graph_in = _bytes(net.input_elements(), in_bits)
    graph_out = sum(_bytes(_out_elements(net.node(o).op), _out_bits(net.node(o).op)) for o in net.outputs)
    unsupported = {k: list(v) for k, v in net.unsupported.items()}
    return NetworkStats(net.name, net.batch, layers, ops, weights + graph_in + graph_out, unsupported)


def _out_bits(op) -> int:
    return op.output.bits if isinstance(op, Problem) else op.bits


def _out_elements(op) -> int:
    return op.true_size(op.output) if isinstance(op, Problem) else op.output_elements
