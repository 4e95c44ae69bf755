"""Published component figures and the laws built on them: power-law interpolation, the SRAM
and register-file energy laws, node scaling and the physical area law (um^2).

Sources (see docs/arch.md for the full discussion):
- [H14] M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
  45 nm, 0.9 V. Energies as quoted in seed 001 (Sze, slide 11): 8b add 0.03, 16b add 0.05,
  32b add 0.1, 16b FP add 0.4, 32b FP add 0.9, 8b mult 0.2, 32b mult 3.1, 16b FP mult 1.1,
  32b FP mult 3.7, 32b SRAM read (8 KB) 5, 32b DRAM read 640 (pJ); the ISSCC slide's 64-bit
  cache reads: 8 KB 10, 32 KB 20, 1 MB 100 pJ; DRAM 1.3-2.6 nJ per 64 bits.
- [HA] Areas of the same operators, Design Compiler, TSMC 45 nm (the "cost of operations"
  slide that seeds 002/003 caption): 8b add 36, 16b add 67, 32b add 137, 16b FP add 1360,
  32b FP add 4184, 8b mult 282, 32b mult 3495, 16b FP mult 1640, 32b FP mult 7700 (um^2).
- [P17] A. Pedram et al., "Dark Memory and Accelerator-Rich System Optimization in the Dark
  Silicon Era", IEEE D&T 2017 (table in seed 002): 16-bit reads of a 16-word RF 0.12 pJ,
  of a 64-word RF 0.23 pJ.
- [E16] Y.-H. Chen, J. Emer, V. Sze, "Eyeriss: a spatial architecture for energy-efficient
  dataflow for CNNs", ISCA 2016, Table IV; seed 001 slide 27: normalized energy per 16-bit
  access, 65 nm: DRAM 200, global buffer 6, array (inter-PE) 2, RF 1, relative to one MAC.
- [BC11] S. Borkar, A. Chien, "The future of microprocessors", CACM 2011, Fig. 11: on-die
  wire energy about 0.1 pJ/bit/mm at 45 nm (read off the plot: an approximation).
- [M07] K. Mistry et al., IEDM 2007: 45 nm 6T SRAM cell 0.346 um^2.
- [NG] NanGate FreePDK45 Open Cell Library: DFF_X1 4.522 um^2, MUX2_X1 1.862 um^2.
"""

from __future__ import annotations

import math

from loopnest.arch.queries import MacQuery, MemoryQuery, WireQuery

REF_NODE_NM = 45.0

# [H14] energies (pJ) at 45 nm, keyed by bit width.
INT_ADD_PJ = {8: 0.03, 16: 0.05, 32: 0.1}
INT_MULT_PJ = {8: 0.2, 32: 3.1}
FP_ADD_PJ = {16: 0.4, 32: 0.9}
FP_MULT_PJ = {16: 1.1, 32: 3.7}
SRAM_64B_READ_PJ = {8 * 1024: 10.0, 32 * 1024: 20.0, 1024 * 1024: 100.0}  # capacity (bytes) -> pJ per 64-bit read
DRAM_PJ_PER_BIT = 640.0 / 32  # 32b DRAM read 640 pJ (= 1.28 nJ per 64 bits, the low end of 1.3-2.6 nJ)
# [P17] register-file reads (pJ per 16-bit access), keyed by words.
RF_16B_READ_PJ = {16: 0.12, 64: 0.23}
# [HA] areas (um^2) at 45 nm.
INT_ADD_UM2 = {8: 36.0, 16: 67.0, 32: 137.0}
INT_MULT_UM2 = {8: 282.0, 32: 3495.0}
FP_ADD_UM2 = {16: 1360.0, 32: 4184.0}
FP_MULT_UM2 = {16: 1640.0, 32: 7700.0}
# [BC11] wires; [M07], [NG] area law constants at 45 nm.
WIRE_PJ_PER_BIT_MM = 0.1
SRAM_CELL_UM2 = 0.346
PERIPHERY_CELLS = 100  # one row driver and one sense amplifier each take ~100 cell areas (assumption)
DFF_UM2 = 4.522
MUX2_UM2 = 1.862
# [E16] normalized energy per 16-bit access, 1 = one 16-bit MAC at 65 nm.
EYERISS_NORMALIZED = {"dram": 200.0, "sram": 6.0, "regfile": 1.0, "register": 1.0}
EYERISS_ARRAY = 2.0
EYERISS_MAC = 1.0


def power_law(x: float, points: dict[float, float]) -> float:
    """Piecewise power law through ``points`` (straight lines in log-log), extrapolated with the
    exponent of the nearest segment. One point: proportional to ``x``."""
    xs = sorted(points)
    if len(xs) == 1:
        return points[xs[0]] * x / xs[0]
    i = max(1, min(len(xs) - 1, sum(1 for p in xs if p < x)))
    x0, x1 = xs[i - 1], xs[i]
    slope = math.log(points[x1] / points[x0]) / math.log(x1 / x0)
    return points[x0] * (x / x0) ** slope


def energy_scale(node_nm: float, ref_nm: float = REF_NODE_NM) -> float:
    """Dynamic energy C V^2 with C ~ feature size and V roughly flat below 65 nm: ~ node."""
    return node_nm / ref_nm


def area_scale(node_nm: float, ref_nm: float = REF_NODE_NM) -> float:
    """Layout area ~ feature size squared."""
    return (node_nm / ref_nm) ** 2


def sram_read_pj(capacity_bytes: float, bits: int) -> float:
    """SRAM scaling law at 45 nm: [H14]'s 64-bit reads interpolated as a power law in capacity
    (exponent 0.5 up to 32 KB, 0.46 above), linear in the bits read."""
    return power_law(capacity_bytes, SRAM_64B_READ_PJ) * bits / 64


def regfile_read_pj(words: int, bits: int) -> float:
    """Register-file law at 45 nm: [P17]'s 16-bit reads, power law in words, linear in bits."""
    return power_law(words, RF_16B_READ_PJ) * bits / 16


def int_mac_pj(operand_bits: int, accumulator_bits: int) -> float:
    """Integer MAC at 45 nm: a multiplier (~bits^2) plus an adder (~bits) [H14]."""
    return mac_pj(operand_bits, operand_bits, accumulator_bits)


def mac_pj(a_bits: int, b_bits: int, accumulator_bits: int, arithmetic: str = "int") -> float:
    """MAC at 45 nm (pJ) with operands of ``a_bits`` and ``b_bits`` [H14]: the multiplier is the
    geometric mean of the table's a- and b-bit multipliers (an array multiplier has a * b partial
    products; under the table's ~bits^2 law this is ~a * b) plus the accumulator adder. Widths
    between the table's points follow the power law through them (int: 8/32-bit mult, 8/16/32-bit
    add; fp: 16/32-bit)."""
    mult, add = (INT_MULT_PJ, INT_ADD_PJ) if arithmetic == "int" else (FP_MULT_PJ, FP_ADD_PJ)
    m = power_law(a_bits, mult)
    if b_bits != a_bits:
        m = math.sqrt(m * power_law(b_bits, mult))
    return m + power_law(accumulator_bits, add)


def memory_area_um2(q: MemoryQuery) -> float | None:
    """Physical area law (um^2) of one memory instance at ``q.technology_nm``.

    sram: cells plus one row driver per row and one sense amplifier per column of a square
    array, ``a_cell * (bits + 2 * PERIPHERY_CELLS * sqrt(bits))`` [M07]: small SRAMs cost more
    per bit. regfile: a flip-flop and a read-mux share per bit [NG]. register: a flip-flop.
    dram: off chip, 0.
    """
    bits = q.capacity_bits
    if q.cls == "dram":
        return 0.0
    if bits is None:
        return None
    per_45 = {"sram": SRAM_CELL_UM2 * (bits + 2 * PERIPHERY_CELLS * math.sqrt(bits)),
              "regfile": bits * (DFF_UM2 + MUX2_UM2),
              "register": bits * DFF_UM2}[q.cls]
    return per_45 * area_scale(q.technology_nm)


def mac_area_um2(q: MacQuery) -> float | None:
    """MAC area (um^2): multiplier plus accumulator adder [HA], scaled to the node."""
    if q.arithmetic == "int":
        a = power_law(q.operand_bits, INT_MULT_UM2) + power_law(q.accumulator_bits, INT_ADD_UM2)
    elif q.arithmetic == "fp" and q.operand_bits in FP_MULT_UM2 and q.accumulator_bits in FP_ADD_UM2:
        a = FP_MULT_UM2[q.operand_bits] + FP_ADD_UM2[q.accumulator_bits]
    else:
        return None
    return a * area_scale(q.technology_nm)


def network_area_um2(q: WireQuery) -> float:
    """One landing register per child and bit (wires run over the logic) [NG]."""
    return q.children * q.word_bits * DFF_UM2 * area_scale(q.technology_nm)
