"""Crossbar mapping (loopnest.model.crossbar): utilization, array counts, converter counts and the
search, each against a hand derivation (the counting rules of the module docstring; Yang and Sze,
IEDM 2019, for what utilization does to energy per MAC)."""

from math import ceil

import pytest

from loopnest.arch import ArchSpecError, load_arch
from loopnest.arch.loader import parse_arch, read_spec, preset_path
from loopnest.arch.pim import PimArray, pim_mac_energy_pj
from loopnest.model.crossbar import CrossbarError, LayerShape, array_count, layer_shape, map_crossbar, resized
from loopnest.workload.zoo import build


@pytest.fixture(scope="module")
def arch():
    return load_arch("pim-crossbar")


def _layer(net, name):
    return next(lay for lay in build(net).layers if lay.name == name)


def test_shape_from_projections():
    # VGG-16 conv1_2: 3x3x64 -> 64, 224x224 outputs; MobileNet-v1 conv1.dw: 32 groups of one 3x3 filter
    s = layer_shape(_layer("vgg16", "conv1_2"))
    assert (s.K, s.M, s.G, s.V) == (3 * 3 * 64, 64, 1, 224 * 224)
    s = layer_shape(_layer("mobilenet_v1", "conv1.dw"))
    assert (s.K, s.M, s.G, s.V) == (9, 1, 32, 112 * 112)


def test_attention_is_refused():
    qk = _layer("bert_base_128", "attn.qk")
    with pytest.raises(CrossbarError, match="static weights only"):
        layer_shape(qk)


def test_arrays_of_the_preset(arch):
    # ISAAC-like tile: 8 crossbars (TileBuffer fanout 8)
    assert array_count(arch) == 8


# (network, layer, array side, tiles, utilization): 16-bit weights on 2-bit cells = 8 cells each,
# so a 128-column array holds 16 weights per row and a 1024-column one 128.
#   VGG conv1_2, K=576, M=64 on 128: ceil(576/128)=5 row x ceil(64/16)=4 column tiles = 20;
#     used cells 576*64*8 = 294,912 of 20*16,384 = 327,680 -> 0.9.
#   on 1024: one array, 294,912 / 1,048,576 = 0.28125.
#   digits-cnn2 conv2, K=72, M=16: one array of 128: 72*128/16,384 = 0.5625; on 1024: 72*128/1,048,576.
#   ResNet-50 fc, K=2048, M=1000 on 1024: 2 x ceil(1000/128)=8 = 16 tiles; 2048*8000/(16*1,048,576).
CASES = [("vgg16", "conv1_2", 128, 20, 0.9), ("vgg16", "conv1_2", 1024, 1, 0.28125),
         ("digits-cnn2", "conv2", 128, 1, 0.5625), ("digits-cnn2", "conv2", 1024, 1, 72 * 128 / 1024 ** 2),
         ("resnet50", "fc", 1024, 16, 2048 * 8000 / (16 * 1024 ** 2))]


@pytest.mark.parametrize("net,layer,side,tiles,util", CASES)
def test_utilization_and_array_count(arch, net, layer, side, tiles, util):
    m = map_crossbar(_layer(net, layer), arch, pim=resized(arch.compute.pim, side), arrays=64)
    assert m.tiles == tiles
    assert m.utilization == pytest.approx(util)


def test_converter_counts_per_pass(arch):
    # K=300, M=40 on 128x128 (16 weights per row): 3 row tiles x 3 column tiles. Per pass of one
    # vector: DAC = 300 rows x 3 column tiles = 900; ADC = 3 row tiles x 40*8 columns = 960;
    # 16-bit inputs through 1-bit DACs = 16 passes.
    s = LayerShape("x", K=300, M=40, G=1, V=1, weight_bits=16, input_bits=16)
    m = map_crossbar(s, arch, arrays=9)
    assert (m.row_tiles, m.column_tiles, m.passes) == (3, 3, 16)
    assert m.counts["dac_conversions"] == 16 * 900
    assert m.counts["adc_conversions"] == 16 * 960
    # digital: 16 passes x 8 cells -> 127 shift-adds per output per row tile, then 2 cross-tile adds
    assert m.counts["digital_adds"] == 3 * 40 * 127 + 40 * 2


def test_full_array_matches_per_mac_energy(arch):
    # A layer that fills the array exactly (K=128 rows, 16 weights of 8 cells) pays the converters
    # and cells of loopnest.arch.pim's per-MAC energy (full utilization) and nothing more.
    pim = arch.compute.pim
    m = map_crossbar(LayerShape("full", 128, 16, 1, 7, 16, 16), arch)
    analog = m.energy_pj["dac"] + m.energy_pj["adc"] + m.energy_pj["cells"]
    assert analog / m.shape.macs == pytest.approx(pim_mac_energy_pj(pim, 16))
    assert m.utilization == 1.0


def test_a_tenth_of_the_array(arch):
    # 120 x 128 arrays: K=120 fills the rows, K=12 uses a tenth. Per useful MAC (V*K*M MACs):
    # DAC conversions V*passes*K / (V*K*M) = passes/M and cell reads stay the same; ADC
    # conversions V*passes*M*cpw / (V*K*M), digital adds and output writes scale as 1/K: x10.
    pim = resized(arch.compute.pim, 120, 128)
    full = map_crossbar(LayerShape("full", 120, 16, 1, 5, 16, 16), arch, pim=pim)
    tenth = map_crossbar(LayerShape("tenth", 12, 16, 1, 5, 16, 16), arch, pim=pim)
    assert tenth.utilization == pytest.approx(full.utilization / 10)
    per = {c: (tenth.energy_pj[c] / tenth.shape.macs) / (full.energy_pj[c] / full.shape.macs) for c in full.energy_pj}
    assert per["dac"] == pytest.approx(1) and per["cells"] == pytest.approx(1)
    assert per["adc"] == pytest.approx(10) and per["digital"] == pytest.approx(10)
    assert tenth.total_pj / tenth.shape.macs > 3 * full.total_pj / full.shape.macs


def test_search_packs_groups_when_cycles_matter(arch):
    # MobileNet-v1 conv1.dw: 32 groups of K=9 rows x 1 weight. One group per array: 32 tiles on
    # 8 arrays = 4 rounds (cheapest: no off-diagonal cells). For cycles, 8 groups per array
    # (72 rows, 64 columns) make 4 tiles, replicated twice on the 8 arrays: ceil(12544/2)*16
    # cycles; 14 groups per array also gives 2 replicas but reads (2*14^2 + 4^2) vs 4*8^2 blocks.
    dw = _layer("mobilenet_v1", "conv1.dw")
    e = map_crossbar(dw, arch, objective="energy")
    assert (e.groups_per_array, e.rounds, e.cycles) == (1, 4, 4 * 12544 * 16)
    c = map_crossbar(dw, arch, objective="cycles")
    assert (c.groups_per_array, c.replication, c.tiles, c.cycles) == (8, 2, 4, ceil(12544 / 2) * 16)
    assert c.counts["cell_reads"] == 12544 * 16 * 4 * 64 * 9 * 1 * 8
    assert c.options_searched > 10


def test_replication_uses_spare_arrays(arch):
    s = LayerShape("small", 72, 16, 1, 100, 16, 16)  # one tile; 8 arrays -> 8 copies
    m = map_crossbar(s, arch)
    assert (m.replication, m.arrays_used, m.cycles) == (8, 8, ceil(100 / 8) * 16)


def test_adc_bits_and_exact_option(arch):
    # 128 rows x 1-bit inputs x 2-bit cells: sums up to 128*3 = 384 need 9 bits (ISAAC's 8-bit
    # ADC loses one); exact: at most 85 rows (85*3 = 255 < 256) -> 8 bits, K=576 over 7 row tiles
    # (64 rows would need 9 tiles, 42 rows 14).
    lay = _layer("vgg16", "conv1_2")
    m = map_crossbar(lay, arch)
    assert (m.adc_bits_needed, m.adc_lost_bits) == (9, 1)
    x = map_crossbar(lay, arch, exact_adc=True)
    assert (x.rows_per_array, x.row_tiles, x.adc_bits_needed, x.adc_lost_bits) == (85, 7, 8, 0)


def test_sized_adc_doubles_per_bit(arch):
    # A full 128-row array needs a 9-bit ADC: sized, each conversion costs 2 x the 8-bit one.
    # 85 rows (8 bits) would take 2 row tiles for K=128: the same ADC energy (2 x 1 vs 1 x 2) but
    # more shift-and-adds, so the search keeps 128 rows.
    s = LayerShape("full", 128, 16, 1, 3, 16, 16)
    fixed, sized = map_crossbar(s, arch), map_crossbar(s, arch, adc_energy="sized")
    assert sized.rows_per_array == 128 and sized.adc_lost_bits == 0
    assert sized.energy_pj["adc"] == pytest.approx(2 * fixed.energy_pj["adc"])
    # K=576: per-MAC ADC energy ~ row tiles x 2^(bits - 8): 128 rows 5 x 2 = 10; 85 rows 7 x 1;
    # 42 rows (7 bits) 14 x 0.5 = 7; fewer row tiles break the tie (fewer additions): 85 rows.
    v = map_crossbar(_layer("vgg16", "conv1_2"), arch, adc_energy="sized")
    assert (v.rows_per_array, v.row_tiles) == (85, 7)
    # K=9 (digits-cnn2 conv1): sums up to 9*3 = 27 need 5 bits: each conversion 2^(5-8) = 1/8
    small = LayerShape("conv1", 9, 8, 1, 256, 16, 16)
    assert map_crossbar(small, arch, adc_energy="sized").energy_pj["adc"] == pytest.approx(
        map_crossbar(small, arch).energy_pj["adc"] / 8)
    with pytest.raises(CrossbarError, match="adc_energy: 'big' is not one of fixed, sized"):
        map_crossbar(s, arch, adc_energy="big")


def test_array_smaller_than_a_weight(arch):
    tiny = PimArray(rows=4, columns=4, bits_per_cell=2, dac_energy_pj=1, adc_energy_pj=1)
    with pytest.raises(CrossbarError, match=r"pim.columns: 4 columns cannot hold one 16-bit weight of 8 cells"):
        map_crossbar(LayerShape("x", 9, 1, 1, 1, 16, 16), arch, pim=tiny)


def test_resized_below_one_weight_is_one_line(arch):
    # 16-bit weights on 2-bit cells: 8 cells each; a 4-column array holds none (the message was
    # pydantic's help URL before)
    with pytest.raises(CrossbarError) as e:
        resized(arch.compute.pim, 4)
    assert str(e.value) == ("array 4 x 4: columns: 4 columns cannot hold one weight of 8 cells (cells_per_weight); "
                            "need columns >= 8")


def test_no_arrays_is_refused(arch):
    with pytest.raises(CrossbarError, match=r"arrays: an integer >= 1, got 0"):
        map_crossbar(LayerShape("x", 9, 1, 1, 1, 16, 16), arch, arrays=0)


def test_adc_below_one_bit_is_one_line():
    data = read_spec(preset_path("pim-crossbar"))
    data["compute"]["pim"]["adc_bits"] = 0
    with pytest.raises(ArchSpecError) as e:
        parse_arch(data, "x.yaml")
    assert "adc_bits" in str(e.value) and "\n" not in str(e.value)


def test_isaac_ima_power_by_component():
    # ISAAC Table I (per IMA): 8 x 128 DACs 4 mW, 8 ADCs 16 mW, 8 arrays 2.4 mW. Eight full arrays
    # per 100 ns pass: 1,024 DAC and 1,024 ADC conversions and 8 x 16,384 cell reads, which at the
    # preset's per-unit figures (derived from the same table) give those powers back.
    from loopnest.validation.isaac import cases, ima_power_mw

    p = ima_power_mw()
    assert p["dac"] == pytest.approx(4.0) and p["adc"] == pytest.approx(16.0) and p["cells"] == pytest.approx(2.4)
    by = {c.name: c for c in cases()}
    assert by["isaac-ima-total"].expected == pytest.approx((289 + 20.7 + 7) / 12)
    assert all(by[f"isaac-ima-{k}"].passed for k in ("dac", "adc", "cells"))


def test_isaac_adc_rate_and_areas():
    # ISAAC Table I prints the ADC as "8 bits, 1.2 GSps"; Sec. V feeds a crossbar's 128 columns to one
    # ADC within the 100 ns cycle (1.28 GSps), which is what the model's pipeline needs: 128 / 100 ns.
    from loopnest.validation.isaac import cases

    by = {c.name: c for c in cases()}
    rate = by["isaac-adc-rate"]
    assert rate.expected == 1.2 and rate.got == pytest.approx(128 / 100e-9 / 1e9) and not rate.passed
    # Table I areas per IMA: ADC 0.0096 + DAC 0.00017 + arrays 0.0002 mm^2, the preset's per-unit source
    conv = by["isaac-area-converters-cells"]
    assert conv.expected == pytest.approx(0.0096 + 0.00017 + 0.0002) and conv.passed
    # IR 2 KB + OR 256 B = 0.0021 + 0.00077 mm^2; the eight XbarIO files hold the same 2,304 bytes
    arch = load_arch("pim-crossbar")
    io = arch.levels[arch.level_index("XbarIO")]
    assert arch.instances(arch.level_index("XbarIO")) * io.total_words * io.word_bits == (2048 + 256) * 8
    assert by["isaac-area-io-registers"].expected == pytest.approx(0.0021 + 0.00077)
    assert by["isaac-area-tile-buffer"].expected == 0.083
