"""Quantized ONNX operators for the ONNX importer: bit widths read from the graph.

- ``QLinearConv`` / ``QLinearMatMul``: the operands' and the output's widths are their element
  types (x, w, y_zero_point); the accumulator is 32-bit (the operators' int32 accumulation).
- ``ConvInteger`` / ``MatMulInteger``: operand widths from their types, int32 outputs.
- QDQ graphs: a ``Conv``, ``Gemm`` or ``MatMul`` whose operand comes from a ``DequantizeLinear``
  takes the width of that node's quantized input; its output takes the width of a
  ``QuantizeLinear`` that consumes it (else the float default). A ``DequantizeLinear`` of a
  constant (a quantized weight) is folded like a constant; the others, and every
  ``QuantizeLinear``, are element ops of kind ``quantize`` (one op per element: scale, round).

Widths: the digits of the element type's name (INT8 -> 8, UINT4 -> 4, FLOAT16 -> 16), FLOAT 32;
a type wider than 32 bits (DOUBLE, INT64) keeps the layer's default.
"""

from __future__ import annotations

import re
from math import prod

from loopnest.workload.network import ElementOp, Op
from loopnest.workload.precision import MAX_BITS, Precision

# op type -> (operand input positions, output zero-point position or None for int32 outputs)
_QLINEAR = {"QLinearConv": ((0, 3), 7), "QLinearMatMul": ((0, 3), 7), "ConvInteger": ((0, 1), None),
            "MatMulInteger": ((0, 1), None)}
_PRODUCTS = ("Conv", "Gemm", "MatMul")
ACCUMULATOR_BITS = 32


def type_bits(elem_type: int) -> int | None:
    """Bits of an ONNX element type, None where unknown or wider than 32."""
    from onnx import TensorProto

    name = TensorProto.DataType.Name(elem_type) if elem_type in TensorProto.DataType.values() else ""
    digits = re.search(r"\d+", name)
    bits = int(digits.group()) if digits else 32 if name == "FLOAT" else None
    return bits if bits is not None and 1 <= bits <= MAX_BITS else None


def folds_constant(nd, consts: dict) -> bool:
    """A DequantizeLinear of a constant (a quantized weight): record its output as a constant."""
    if nd.op_type != "DequantizeLinear" or not nd.input or nd.input[0] not in consts:
        return False
    consts.update({o: consts[nd.input[0]] for o in nd.output})
    return True


def convert(imp, nd, name: str) -> Op | None:
    """The quantized form of node ``nd`` through the importer ``imp``; None if it is not one."""
    t = nd.op_type
    if t in ("QuantizeLinear", "DequantizeLinear"):
        out = imp.shapes.get(nd.output[0])
        n = prod(out) // imp.batch if out else 0
        return ElementOp(name, "quantize", imp.batch, n, n, n, attrs={"op_type": t})
    info = _Graph.of(imp)
    if t in _QLINEAR:
        (xi, wi), yi = _QLINEAR[t]
        plain = _rewired(nd, "Conv" if "Conv" in t else "MatMul", [nd.input[xi], nd.input[wi]])
        op = imp._conv(plain, name) if plain.op_type == "Conv" else imp._product(plain, name)
        y = info.bits(nd.input[yi]) if yi is not None and len(nd.input) > yi else ACCUMULATOR_BITS
        return _apply(op, info.bits(nd.input[xi]), info.bits(nd.input[wi]), y, ACCUMULATOR_BITS)
    if t in _PRODUCTS and any(info.dequantized(x) for x in nd.input[:2]):
        op = imp._conv(nd, name) if t == "Conv" else imp._product(nd, name)
        x, w = (info.bits(info.dequantized(v)) for v in nd.input[:2])
        return _apply(op, x, w, info.quantized_output(nd.output[0]), ACCUMULATOR_BITS)
    return None


def _apply(op: Op, inputs: int | None, weights: int | None, outputs: int | None, accumulator: int) -> Op:
    if not hasattr(op, "tensors"):
        return op
    out = outputs if outputs is not None else op.tensor("outputs").bits
    return Precision(weights=weights, inputs=inputs, outputs=outputs, accumulator=max(accumulator, out)).apply(op)


def _rewired(nd, op_type: str, inputs: list[str]):
    """A copy of ``nd`` as a plain ``op_type`` over ``inputs`` (attributes kept)."""
    from onnx import NodeProto

    plain = NodeProto()
    plain.CopyFrom(nd)
    plain.op_type = op_type
    del plain.input[:]
    plain.input.extend(inputs)
    return plain


class _Graph:
    """Element types, DequantizeLinear sources and QuantizeLinear consumers of a graph."""

    def __init__(self, graph):
        self.types = {i.name: i.data_type for i in graph.initializer}
        for vi in (*graph.input, *graph.value_info, *graph.output):
            self.types.setdefault(vi.name, vi.type.tensor_type.elem_type)
        self.dq = {o: n.input[0] for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
        self.q = {}
        for n in graph.node:
            if n.op_type == "QuantizeLinear":
                zp = n.input[2] if len(n.input) > 2 and n.input[2] else None
                self.q[n.input[0]] = zp or n.output[0]

    @staticmethod
    def of(imp) -> _Graph:
        if getattr(imp, "_quant_graph", None) is None:
            imp._quant_graph = _Graph(imp.graph)
        return imp._quant_graph

    def bits(self, name: str | None) -> int | None:
        return None if name is None or name not in self.types else type_bits(self.types[name])

    def dequantized(self, name: str) -> str | None:
        """The quantized tensor a DequantizeLinear turned into ``name``, if any."""
        return self.dq.get(name)

    def quantized_output(self, name: str) -> int | None:
        """Width of the QuantizeLinear that consumes ``name`` (its zero point's or output's type)."""
        return self.bits(self.q.get(name))
