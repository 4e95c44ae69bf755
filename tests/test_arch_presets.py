"""Every preset loads, resolves and matches the numbers its sources publish."""

import math

import pytest

from loopnest.arch import list_presets, load_arch
from loopnest.arch.allocation import (
    baseline_area_um2,
    buffer_area_um2,
    equal_area_buffer_words,
    rf_area_um2,
)
from loopnest.arch.spec import ACTIONS

EXPECTED = {"eyeriss", "eyeriss256-rs", "eyeriss256-ws", "eyeriss256-os-a", "eyeriss256-os-b", "eyeriss256-os-c",
            "eyeriss256-nlr", "tpu-v1", "simba-like", "shidiannao-like", "diannao-like", "simple-ws", "simple-os",
            "edge-npu", "pim-crossbar"}


def test_all_presets_are_shipped():
    assert EXPECTED <= set(list_presets())


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("table", [None, "horowitz45"])
def test_preset_resolves_completely(name, table):
    a = load_arch(name, table=table)
    for lv in a.levels:
        assert set(lv.energy_pj) == set(ACTIONS) and all(v >= 0 for v in lv.energy_pj.values())
        assert lv.area_um2 is not None and lv.area_um2 >= 0
        if lv.fanout is not None:
            assert lv.fanout.energy_pj is not None and lv.fanout.area_um2 is not None
    assert a.compute.energy_pj > 0 and a.compute.area_um2 > 0 and a.total_area_um2 > 0


def test_eyeriss_shape_and_normalized_ratios():
    # Eyeriss JSSC 2017: 12 x 14 = 168 PEs, 108 KB GLB, spads 224/12/24 16-bit words, 65 nm, 200 MHz.
    a = load_arch("eyeriss", table="eyeriss65")
    assert [lv.name for lv in a.levels] == ["DRAM", "GlobalBuffer", "RF"]
    dram, glb, rf = a.levels
    assert a.pes == 168 and (glb.fanout.x, glb.fanout.y) == (14, 12) and glb.fanout.multicast
    assert glb.capacity_words == 108 * 1024 * 8 // 16 == 55296 and set(glb.keeps) == {"inputs", "outputs"}
    assert rf.partitions == {"weights": 224, "inputs": 12, "outputs": 24} and a.instances(2) == 168
    assert (a.technology_nm, a.clock_mhz, a.compute.operand_bits) == (65, 200, 16)
    # ISCA 2016 / seed 001 slide 27: DRAM 200x, buffer 6x, array 2x, RF 1x relative to one MAC.
    assert a.energy_units == "norm"
    assert dram.energy_pj["read"] / a.compute.energy_pj == 200
    assert glb.energy_pj["read"] / a.compute.energy_pj == 6
    assert glb.fanout.energy_pj / a.compute.energy_pj == 2
    assert rf.energy_pj["read"] / a.compute.energy_pj == 1


def test_eyeriss_with_horowitz_table():
    a = load_arch("eyeriss", table="horowitz45")
    dram, glb, rf = a.levels
    s = 65 / 45  # node scaling of on-chip energies
    assert a.energy_units == "pJ"
    assert dram.energy_pj["read"] == pytest.approx(640 / 2)  # 32b DRAM read 640 pJ (Horowitz via seed 001), 16 bits
    assert a.compute.energy_pj == pytest.approx((0.2 * (3.1 / 0.2) ** 0.5 + 0.05) * s)
    # 108 KB between the 32 KB (20 pJ) and 1 MB (100 pJ) points of the 64-bit table, 16 of 64 bits.
    assert glb.energy_pj["read"] == pytest.approx(20 * (108 / 32) ** (math.log(5) / math.log(32)) / 4 * s)
    # Per-partition RF energies (Pedram: 16-word 0.12 pJ, 64-word 0.23 pJ per 16-bit read).
    slope = math.log(0.23 / 0.12) / math.log(4)
    assert rf.energy_pj_by_role["weights"]["read"] == pytest.approx(0.23 * (224 / 64) ** slope * s)
    assert rf.energy_pj_by_role["inputs"]["read"] == pytest.approx(0.12 * (12 / 16) ** slope * s)
    assert rf.energy_pj["read"] == rf.energy_pj_by_role["weights"]["read"]  # the upper bound
    assert rf.energy_of("inputs", "read") < rf.energy_of("weights", "read")


def test_equal_area_family():
    # Baseline by hand (ISCA 2016 Sec. VI-A rule, our area law at 65 nm):
    # 256 x Area(512 B regfile) + Area(128 KB SRAM).
    s = (65 / 45) ** 2
    rf512 = 4096 * (4.522 + 1.862) * s
    buf128k = 0.346 * (1048576 + 200 * 1024) * s
    total = 256 * rf512 + buf128k
    assert baseline_area_um2() == pytest.approx(total)
    for name, rf_words in [("eyeriss256-ws", 32), ("eyeriss256-os-a", 32), ("eyeriss256-os-b", 32),
                           ("eyeriss256-os-c", 32), ("eyeriss256-nlr", 0), ("eyeriss256-rs", 256)]:
        a = load_arch(name)
        assert a.pes == 256 and a.levels[1].fanout.size == 256
        if rf_words:
            assert a.levels[2].capacity_words == rf_words and a.instances(2) == 256
        else:
            assert len(a.levels) == 2  # NLR: nothing in the PE, the buffer feeds the MACs
        words = a.levels[1].capacity_words
        used = 256 * rf_area_um2(rf_words, 16, 65) + buffer_area_um2(words, 16, 65)
        # the largest whole-KB buffer that fits: it fits, and 1 KB more would not
        assert used <= total * (1 + 1e-9)
        assert 256 * rf_area_um2(rf_words, 16, 65) + buffer_area_um2(words + 512, 16, 65) > total
        assert words == equal_area_buffer_words(total, 256, rf_words)
    assert load_arch("eyeriss256-rs").levels[1].capacity_words == 65536  # 128 KB round-trips
    hints = {load_arch(n).dataflow for n in ("eyeriss256-os-a", "eyeriss256-os-b", "eyeriss256-os-c")}
    assert hints == {"os-a", "os-b", "os-c"}


def test_tpu_v1():
    # Jouppi et al., ISCA 2017: 256 x 256 int8 MACs, 700 MHz, 24 MiB UB, 4 MiB accumulators, 34 GB/s, 28 nm.
    a = load_arch("tpu-v1")
    assert a.pes == 65536 and a.clock_mhz == 700 and a.technology_nm == 28 and a.compute.operand_bits == 8
    ub, acc = a.levels[1], a.levels[2]
    assert ub.partitions["inputs"] * 8 == 24 * 2**20 * 8
    assert acc.capacity_words * acc.word_bits == 4 * 2**20 * 8
    assert a.levels[0].read_bandwidth == pytest.approx(34e9 / 700e6)
    assert 2 * a.pes * a.clock_mhz * 1e6 == pytest.approx(92e12, rel=0.005)  # "92 TOPS" peak
    assert a.levels[3].capacity_of("weights") == 1  # 2 registers, double-buffered


def test_pim_crossbar():
    a = load_arch("pim-crossbar")
    assert a.compute.arithmetic == "analog" and a.compute.cycles_per_mac == 16  # 16-bit inputs, 1-bit DACs
    assert a.pes == 8 * 128 * 16  # 8 crossbars x 128 rows x 16 weights per row
    assert a.compute.energy_pj == pytest.approx(2.1875)
    with pytest.raises(Exception, match="pim"):
        load_arch("pim-crossbar", table="eyeriss65")  # pJ converter figures cannot mix with normalized units


@pytest.mark.parametrize("name, pes", [("simba-like", 1024), ("shidiannao-like", 64), ("diannao-like", 256),
                                       ("simple-ws", 256), ("simple-os", 256), ("edge-npu", 2048)])
def test_pe_counts(name, pes):
    assert load_arch(name).pes == pes


def test_simple_os_keeps_outputs_in_the_pe():
    assert load_arch("simple-os").levels[-1].keeps == ("outputs",)
    assert load_arch("simple-ws").levels[-1].keeps == ("weights",)


def test_equal_area_family_for_any_pe_count():
    # issue 11, item 10: --pes N gives the ISCA 2016 equal-area family at N PEs, not only 256.
    # Arrays as square as N allows: Eyeriss's own 168 PEs are 12 x 14 (Chen et al., ISSCC 2016).
    from loopnest.analysis.dataflow_compare import arch_for
    from loopnest.arch.allocation import array_shape, equal_area_spec
    from loopnest.arch.loader import parse_arch

    assert [array_shape(n) for n in (256, 168, 64, 7, 1)] == [(16, 16), (12, 14), (8, 8), (1, 7), (1, 1)]
    # at 256 PEs the derivation gives the shipped presets back
    for df in ("ws", "os-a", "os-b", "os-c", "nlr", "rs"):
        shipped, derived = load_arch(f"eyeriss256-{df}"), parse_arch(equal_area_spec(df, 256))
        assert [(lv.capacity_words, lv.fanout) for lv in derived.levels] == [(lv.capacity_words, lv.fanout) for lv in shipped.levels]
        assert derived.dataflow == shipped.dataflow
    # by hand, the rule of test_equal_area_family at N PEs (docs/arch.md, Equal-area allocation):
    # budget N x Area(512 B RF) + Area(N x 512 B buffer); a buffer of b bits costs k (b + 200 sqrt(b)),
    # k = 0.346 (65/45)^2, so sqrt(b) = -100 + sqrt(100^2 + left / k), rounded down to whole KB (512 words).
    # 64 PEs: budget 3,754,845 um^2; WS/OS (64 x 64 B RFs) sqrt(b) = 2046.2 -> 261,632 words;
    # NLR (no RF) 297,472 words; RS the baseline 64 x 256 = 16,384 words.
    # 168 PEs: WS 705,536 words, NLR 801,792, RS 168 x 256 = 43,008.
    expected = {64: {"ws": 261632, "os-b": 261632, "nlr": 297472, "rs": 16384},
                168: {"ws": 705536, "os-a": 705536, "nlr": 801792, "rs": 43008}}
    for pes, words in expected.items():
        for df, w in words.items():
            a = arch_for(df, pes)
            assert a.name == f"eyeriss{pes}-{df}" and a.pes == pes and a.levels[1].capacity_words == w
            assert a.dataflow == df and (len(a.levels) == 2) == (df == "nlr")
    assert arch_for("ws", 256).name == "eyeriss256-ws"  # the shipped file, as before
