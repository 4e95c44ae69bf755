"""Costs of the non-MAC operators (pooling, element-wise add, activation, softmax, normalization)
on an architecture: their element-op counts (``workload.network.ElementOp``) with the buffer
traffic they need, so network totals include them.

Rule (docs/model.md, "Operators beyond MACs"). An operator with element ops runs on the PE
array's ALUs, one element op per PE per cycle; it works out of the **vector level**, the first
level below the outermost that may hold both inputs and outputs (Eyeriss's global buffer, the
TPU's unified buffer). As for a MAC layer, its tensors start and end at the outermost level:

* inputs: read once from the outermost level and filled once into the vector level (neither
  where they are held on chip between layers: ``resident``), then read once by the ALUs;
* outputs: written once into the vector level (an update), then once to the outermost level (an
  update; not where resident);
* energy: those accesses at each level's per-value prices (``energy_pj[action] / block_words``
  times words per value at the operator's width), plus one MAC of the architecture per element
  op (an upper bound: an add or a compare costs less than a multiply-add);
* cycles: the largest of ``ceil(element ops / PEs)`` and each level's read and write bandwidth
  cycles (words / words per cycle), as for a MAC layer.

Data movement has zero element ops and zero MACs (``workload.network``, ``COPY_KINDS``). A
concat, split, reshape or flatten costs nothing: the buffers are renamed, not copied. A shift or a
channel shuffle copies: it has the traffic above (its input elements read, its output elements
written, through the vector level and the outermost level), no ALU energy, and cycles the largest
of ``ceil(output elements / PEs)`` (the copy passes through the array, one value per PE per
cycle) and the bandwidth cycles. Network words between the vector level and the PEs are not
charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from loopnest.arch.spec import Architecture
from loopnest.workload.network import ElementOp


class ElementOpError(ValueError):
    """An architecture with no level that may hold both inputs and outputs below the outermost."""


@dataclass(frozen=True)
class ElementCost:
    """One operator's costs. Units: pJ (the architecture's energy units), cycles, values."""

    name: str
    kind: str
    elem_ops: int
    accesses: dict[str, dict[str, int]]  # level -> reads | fills | updates (values)
    energy_by_level_pj: dict[str, float]  # storage energy per level, then the ALUs (compute name)
    cycles: float
    bound: str  # "compute" or "<level> bandwidth"

    @property
    def energy_pj(self) -> float:
        return sum(self.energy_by_level_pj.values())

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "elem_ops": self.elem_ops, "accesses": self.accesses,
                "energy_pj": self.energy_pj, "energy_by_level_pj": self.energy_by_level_pj,
                "cycles": self.cycles, "bound": self.bound}


def vector_level(arch: Architecture) -> int:
    """The first level below the outermost that may hold both inputs and outputs."""
    for l, lv in enumerate(arch.levels[1:], start=1):
        if "inputs" in lv.keeps and "outputs" in lv.keeps:
            return l
    raise ElementOpError(f"{arch.name}: no level below {arch.levels[0].name} may hold both inputs and outputs "
                         "(keeps), so element-wise operators have no buffer to run from")


def evaluate_element_op(op: ElementOp, arch: Architecture) -> ElementCost:
    """The costs of one operator (module docstring); zero for data movement that renames."""
    v = vector_level(arch)
    outer, buf = arch.levels[0], arch.levels[v]
    ins, outs = (op.input_elements, op.output_elements) if op.elem_ops or op.copies else (0, 0)
    acc = {outer.name: {"reads": 0 if "inputs" in arch.resident else ins, "fills": 0,
                        "updates": 0 if "outputs" in arch.resident else outs},
           buf.name: {"reads": ins, "fills": 0 if "inputs" in arch.resident else ins, "updates": outs}}
    energy, cycles, bound = {}, float(ceil((outs if op.copies else op.elem_ops) / arch.pes)), "compute"
    action = {"reads": ("inputs", "read"), "fills": ("inputs", "write"), "updates": ("outputs", "update")}
    for name, counts in acc.items():
        lv = arch.levels[arch.level_index(name)]
        per_value = lv.words_per_value(op.bits)
        energy[name] = sum(n * lv.energy_of(*action[a]) / lv.block_words * per_value for a, n in counts.items())
        for bw, words in ((lv.read_bandwidth, counts["reads"]), (lv.write_bandwidth, counts["fills"] + counts["updates"])):
            if bw is not None and words * per_value / bw > cycles:
                cycles, bound = words * per_value / bw, f"{name} bandwidth"
    energy[arch.compute.name] = op.elem_ops * (arch.compute.energy_pj or 0.0)
    return ElementCost(op.name, op.kind, op.elem_ops, acc, energy, cycles, bound)

