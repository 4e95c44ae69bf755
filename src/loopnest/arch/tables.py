"""The built-in component tables: ``horowitz45`` (pJ) and ``eyeriss65`` (normalized).

Figures, sources and laws are in ``loopnest.arch.laws`` (and docs/arch.md).
"""

from __future__ import annotations

from loopnest.arch.components import ComponentModel
from loopnest.arch.laws import (
    DRAM_PJ_PER_BIT,
    EYERISS_ARRAY,
    EYERISS_MAC,
    EYERISS_NORMALIZED,
    FP_ADD_PJ,
    FP_MULT_PJ,
    REF_NODE_NM,
    WIRE_PJ_PER_BIT_MM,
    energy_scale,
    int_mac_pj,
    regfile_read_pj,
    sram_read_pj,
)
from loopnest.arch.queries import MacQuery, MemoryQuery, WireQuery


class Horowitz45(ComponentModel):
    """pJ from [H14] (and [P17] for register files, [BC11] for wires) at 45 nm, scaled to the
    architecture's node with ``energy_scale``; DRAM (interface-dominated) is not scaled.
    Writes and updates cost as much as reads (the sources give reads only)."""

    name = "horowitz45"
    units = "pJ"

    def memory_energy(self, q: MemoryQuery) -> dict[str, float] | None:
        s = energy_scale(q.technology_nm)
        if q.cls == "dram":
            e = DRAM_PJ_PER_BIT * q.block_bits
        elif q.capacity_words is None:
            return None
        elif q.cls == "sram":
            e = sram_read_pj(q.capacity_bits / 8, q.block_bits) * s
        else:
            e = regfile_read_pj(q.capacity_words, q.block_bits) * s
        return {"read": e, "write": e, "update": e}

    def mac_energy(self, q: MacQuery) -> float | None:
        if q.arithmetic == "int":
            e = int_mac_pj(q.operand_bits, q.accumulator_bits)
        elif q.arithmetic == "fp" and q.operand_bits in FP_MULT_PJ and q.accumulator_bits in FP_ADD_PJ:
            e = FP_MULT_PJ[q.operand_bits] + FP_ADD_PJ[q.accumulator_bits]
        else:
            return None
        return e * energy_scale(q.technology_nm)

    def wire_energy(self, q: WireQuery) -> float | None:
        return WIRE_PJ_PER_BIT_MM * q.word_bits * q.length_mm * energy_scale(q.technology_nm)


class Eyeriss65(ComponentModel):
    """[E16]'s normalized costs: per 16-bit word, 1 = one 16-bit MAC at 65 nm, by storage class
    (sizes do not matter, as in the ISCA 2016 analysis). Other widths scale linearly in bits;
    other MACs by [H14]'s ratio to a 16-bit integer MAC. No node scaling (ratios)."""

    name = "eyeriss65"
    units = "norm"  # normalized energy: 1 norm = one 16-bit MAC at 65 nm

    def memory_energy(self, q: MemoryQuery) -> dict[str, float] | None:
        e = EYERISS_NORMALIZED[q.cls] * q.block_bits / 16
        return {"read": e, "write": e, "update": e}

    def mac_energy(self, q: MacQuery) -> float | None:
        e = Horowitz45().mac_energy(MacQuery(q.operand_bits, q.accumulator_bits, q.arithmetic, REF_NODE_NM))
        return None if e is None else EYERISS_MAC * e / int_mac_pj(16, 16)

    def wire_energy(self, q: WireQuery) -> float | None:
        return EYERISS_ARRAY * q.word_bits / 16


BUILTIN: tuple[ComponentModel, ...] = (Horowitz45(), Eyeriss65())
