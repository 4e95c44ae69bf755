"""Component tables against the published figures (sources in each comment) and the laws by hand."""

import math

import pytest

from loopnest.arch import (
    ComponentModel,
    MacQuery,
    MemoryQuery,
    WireQuery,
    load_arch,
    parse_arch,
    register_table,
)
from loopnest.arch.components import _REGISTRY, get_table
from loopnest.arch.pim import pim_mac_area_um2, pim_mac_energy_pj

H = get_table("horowitz45")
N = get_table("eyeriss65")


def mem(cls, words, bits, block=1, node=45):
    return MemoryQuery(cls, words, bits, block, node)


# Horowitz, ISSCC 2014 (45 nm), 64-bit cache reads: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ.
@pytest.mark.parametrize("kib, pj", [(8, 10.0), (32, 20.0), (1024, 100.0)])
def test_horowitz_sram_64bit_reads(kib, pj):
    e = H.memory_energy(mem("sram", kib * 1024 * 8 // 64, 64))
    assert e == {"read": pytest.approx(pj), "write": pytest.approx(pj), "update": pytest.approx(pj)}


def test_horowitz_sram_32bit_read_and_dram_read():
    # seed 001 (Sze, slide 11, quoting Horowitz ISSCC 2014): 32b SRAM read (8 KB) 5 pJ, 32b DRAM read 640 pJ.
    assert H.memory_energy(mem("sram", 8 * 1024 * 8 // 32, 32))["read"] == pytest.approx(5.0)
    assert H.memory_energy(mem("dram", None, 32))["read"] == pytest.approx(640.0)
    # ISSCC 2014: DRAM 1.3-2.6 nJ per 64 bits; our 20 pJ/bit gives 1.28 nJ, within 2% of the low end.
    assert H.memory_energy(mem("dram", None, 64))["read"] == pytest.approx(1300, rel=0.02)


def test_sram_law_between_and_below_the_table():
    # Power law in capacity through the Horowitz points: between 32 KB (20 pJ) and 1 MB (100 pJ)
    # the exponent is ln(5)/ln(32); below 8 KB the 8->32 KB exponent ln(2)/ln(4) = 0.5 (square root).
    e108 = H.memory_energy(mem("sram", 108 * 1024 * 8 // 16, 16))["read"]
    assert e108 == pytest.approx(20 * (108 / 32) ** (math.log(5) / math.log(32)) * 16 / 64)
    e2k = H.memory_energy(mem("sram", 2 * 1024 * 8 // 64, 64))["read"]
    assert e2k == pytest.approx(10 * math.sqrt(2 / 8))


def test_register_file_reads_pedram():
    # Pedram et al., IEEE D&T 2017 (table in seed 002): 16-bit reads, 16-word RF 0.12 pJ, 64-word RF 0.23 pJ.
    assert H.memory_energy(mem("regfile", 16, 16))["read"] == pytest.approx(0.12)
    assert H.memory_energy(mem("regfile", 64, 16))["read"] == pytest.approx(0.23)
    assert H.memory_energy(mem("regfile", 64, 32))["read"] == pytest.approx(0.46)  # linear in bits


@pytest.mark.parametrize("bits, acc, arith, pj", [
    (8, 8, "int", 0.2 + 0.03),     # 8b mult 0.2 + 8b add 0.03
    (32, 32, "int", 3.1 + 0.1),    # 32b mult 3.1 + 32b add 0.1
    (16, 16, "fp", 1.1 + 0.4),     # 16b FP mult 1.1 + 16b FP add 0.4
    (32, 32, "fp", 3.7 + 0.9),     # 32b FP mult 3.7 + 32b FP add 0.9
    (8, 32, "int", 0.2 + 0.1),     # 8-bit operands, 32-bit accumulator (TPU-style)
])
def test_horowitz_macs(bits, acc, arith, pj):
    # Horowitz ISSCC 2014 operator energies at 45 nm, as quoted in seed 001.
    assert H.mac_energy(MacQuery(bits, acc, arith, 45)) == pytest.approx(pj)


def test_sixteen_bit_int_multiplier_is_interpolated_as_bits_squared():
    # Not in the table: between 8b (0.2 pJ) and 32b (3.1 pJ) the power law gives 0.2 * (3.1/0.2)^(1/2).
    assert H.mac_energy(MacQuery(16, 16, "int", 45)) == pytest.approx(0.2 * (3.1 / 0.2) ** 0.5 + 0.05)


def test_unmodeled_parts_return_none():
    assert H.mac_energy(MacQuery(8, 8, "fp", 45)) is None        # no FP8 in the table
    assert H.memory_energy(mem("sram", None, 16)) is None        # unbounded SRAM


def test_node_scaling():
    # Energy ~ node (C V^2, V flat), area ~ node^2; DRAM is not scaled (interface-dominated).
    assert H.mac_energy(MacQuery(32, 32, "int", 90)) == pytest.approx(3.2 * 2)
    assert H.memory_energy(mem("sram", 1024, 64, node=90))["read"] == pytest.approx(20.0)
    assert H.memory_energy(mem("dram", None, 32, node=90))["read"] == pytest.approx(640.0)
    assert H.mac_area(MacQuery(8, 8, "int", 90)) == pytest.approx((282 + 36) * 4)


def test_eyeriss_normalized_table():
    # Eyeriss ISCA 2016 / seed 001 slide 27 (65 nm): DRAM 200x, buffer 6x, array 2x, RF 1x, MAC 1x.
    assert N.memory_energy(mem("dram", None, 16))["read"] == 200
    assert N.memory_energy(mem("sram", 55296, 16))["read"] == 6
    assert N.memory_energy(mem("regfile", 224, 16))["update"] == 1
    assert N.wire_energy(WireQuery(16, 0.3, 168, 65)) == 2
    assert N.mac_energy(MacQuery(16, 16, "int", 65)) == pytest.approx(1.0)
    assert N.memory_energy(mem("sram", 1024, 16, block=4))["read"] == 24  # a 4-word block costs 4 words


def test_area_law_by_hand():
    # sram: 0.346 um^2/cell (Intel 45 nm, IEDM 2007) x (bits + 2 x 100 x sqrt(bits)).
    assert H.memory_area(mem("sram", 8 * 1024 * 8 // 16, 16)) == pytest.approx(0.346 * (65536 + 200 * 256))
    # regfile: DFF_X1 4.522 + MUX2_X1 1.862 um^2 per bit (NanGate FreePDK45).
    assert H.memory_area(mem("regfile", 16, 16)) == pytest.approx(256 * (4.522 + 1.862))
    assert H.memory_area(mem("dram", None, 16)) == 0.0
    # MAC: 8b mult 282 + 8b add 36 um^2 (DC, TSMC 45 nm, the "cost of operations" slide).
    assert H.mac_area(MacQuery(8, 8, "int", 45)) == pytest.approx(318.0)
    # small SRAMs cost more per bit than big ones
    small, big = H.memory_area(mem("sram", 256, 16)), H.memory_area(mem("sram", 65536, 16))
    assert small / 256 > 2 * big / 65536


def test_pim_energy_by_hand():
    pim = load_arch("pim-crossbar").compute.pim
    # ISAAC Table I: DAC 0.390625 pJ, ADC 1.5625 pJ per conversion, cell 4e-3... see preset. One pass:
    # 128 DACs + 128 ADC conversions + 128 x 128 cells, 16 bit-serial passes, 128 x 16 MACs per pass.
    per_pass = 128 * 0.390625 + 128 * 1.5625 + 16384 * (2.4e-3 / 8 * 100e-9 / 16384 * 1e12)
    assert per_pass == pytest.approx(280.0)
    assert pim_mac_energy_pj(pim, 16) == pytest.approx(16 * 280.0 / 2048)
    # Half the rows used: DAC and cell costs halve, the 128 column conversions do not (seed 004).
    assert pim_mac_energy_pj(pim, 16, used_rows=64) == pytest.approx(16 * (25 + 200 + 15) / 1024)
    assert pim_mac_energy_pj(pim, 16, used_rows=64) > pim_mac_energy_pj(pim, 16)
    assert pim_mac_area_um2(pim) == pytest.approx(8 * 0.0002e6 / 8 / 16384 + (128 * 0.00017e6 / 1024 + 0.0096e6 / 8) / 2048)


class Flat(ComponentModel):
    """A user model: every access 1 pJ, MACs 0.5 pJ, wires 0.1 pJ per word."""

    name = "flat-test"

    def memory_energy(self, q):
        return {"read": 1.0, "write": 1.0, "update": 1.0}

    def mac_energy(self, q):
        return 0.5

    def wire_energy(self, q):
        return 0.1


def test_plugin_table_is_used_and_areas_default_to_the_law():
    register_table(Flat())
    try:
        a = load_arch("simple-ws", table="flat-test")
    finally:
        _REGISTRY.pop("flat-test")
    assert a.energy_table == "flat-test" and a.compute.energy_pj == 0.5
    assert all(lv.energy_pj == {"read": 1.0, "write": 1.0, "update": 1.0} for lv in a.levels)
    assert a.levels[1].fanout.energy_pj == 0.1
    assert a.levels[2].area_um2 == pytest.approx(16 * 4.522)  # one 16-bit register (NanGate DFF_X1)
    with pytest.raises(TypeError):
        register_table(object())


def test_numbers_in_the_spec_win_over_the_table():
    spec = {"name": "x", "technology_nm": 45, "energy_table": "horowitz45",
            "levels": [{"name": "DRAM", "class": "dram", "energy_pj": {"read": 7}},
                       {"name": "B", "capacity_words": 64, "area_um2": 5}],
            "compute": {"energy_pj": 0.25}}
    a = parse_arch(spec)
    assert a.levels[0].energy_pj == {"read": 7.0, "write": 320.0, "update": 320.0}
    assert a.levels[1].area_um2 == 5 and a.compute.energy_pj == 0.25
