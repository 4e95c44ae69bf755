"""Hand-derived checks of zigzag_mapping.py (ZigZag mapping -> loopnest Mapping); no ZigZag needed.

Not collected by CI (testpaths is tests/): ``python -m pytest benchmarks/peers/test_zigzag_mapping.py``.
The ZigZag fragments are written in the runner's JSON form; the expected loopnest levels are read
off by hand from the loop tables (inner -> outer per memory) as the module docstring describes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from zigzag_mapping import chain_for, chains, to_loopnest

from loopnest.arch import load_arch

HERE = Path(__file__).parent


def _level(memory: str, loops: list) -> dict:
    return {"memory": memory, "temporal_inner_to_outer": [[d, float(f)] for d, f in loops]}


@pytest.fixture(scope="module")
def tpu():
    return load_arch(HERE / "zigzag_tpu_like.yaml")


# AlexNet conv2 on tpu_like as ZigZag 3.9.1 mapped it (its loop table, inner -> outer):
# O: rf_2B [C2 G2 FY5 FX5], sram_2MB [OY27 OX27 K4], dram []; W: rf_128B [C2 G2 FY5 FX5 OY27 OX27],
# dram [K4]; I: sram_2MB [all seven loops], dram []; spatial K 32 (D1), C 24 (D2).
CONV2 = {
    "spatial": {"K": 32.0, "C": 24.0},
    "levels": {
        "O": [_level("rf_2B", [("C", 2), ("G", 2), ("FY", 5), ("FX", 5)]),
              _level("sram_2MB", [("OY", 27), ("OX", 27), ("K", 4)]), _level("dram", [])],
        "W": [_level("rf_128B", [("C", 2), ("G", 2), ("FY", 5), ("FX", 5), ("OY", 27), ("OX", 27)]),
              _level("dram", [("K", 4)])],
        "I": [_level("sram_2MB", [("C", 2), ("G", 2), ("FY", 5), ("FX", 5), ("OY", 27), ("OX", 27), ("K", 4)]),
              _level("dram", [])],
    },
}


def test_conv2_translates_level_by_level(tpu):
    chain = chain_for(CONV2, tpu)
    assert [lv.name for lv in chain.levels] == ["dram", "sram_2MB", "rf_128B", "rf_2B"]
    m = to_loopnest(CONV2, chain)
    dram, sram, rf_w, rf_o = m.levels
    assert dict(dram.temporal) == {}
    # sram_2MB: what lies between the weight RF's boundary (6 loops) and the end: K 4; fanout K 32 x C 24
    assert dict(sram.temporal) == {"M": 4} and dict(sram.spatial_x) == {"M": 32} and dict(sram.spatial_y) == {"C": 24}
    # rf_128B: loops 5-6 of the list (OY 27, OX 27), printed outer -> inner: Q (OX) then P (OY)
    assert dict(rf_w.temporal) == {"P": 27, "Q": 27} and rf_w.order == ("Q", "P")
    # rf_2B: loops 1-4 (C, G, FY, FX), outer -> inner: S (FX), R (FY), G, C
    assert dict(rf_o.temporal) == {"C": 2, "G": 2, "R": 5, "S": 5} and rf_o.order == ("S", "R", "G", "C")
    assert [sorted(lv.keep) for lv in m.levels] == [["inputs", "outputs", "weights"], ["inputs", "outputs"],
                                                    ["weights"], ["outputs"]]


def test_weight_rf_inside_psum_register_swaps_the_chain(tpu):
    # W's RF holds 1 loop, O's register 2: the weight RF must nest inside the psum register.
    zz = {"spatial": {"K": 32.0, "C": 32.0},
          "levels": {"O": [_level("rf_2B", [("C", 2), ("C", 3)]), _level("sram_2MB", [("K", 4)]), _level("dram", [])],
                     "W": [_level("rf_128B", [("C", 2)]), _level("dram", [("C", 3), ("K", 4)])],
                     "I": [_level("sram_2MB", [("C", 2), ("C", 3), ("K", 4)]), _level("dram", [])]}}
    chain = chain_for(zz, tpu)
    assert [lv.name for lv in chain.levels] == ["dram", "sram_2MB", "rf_2B", "rf_128B"]
    assert chain.levels[1].fanout is not None
    assert "ends inside" in to_loopnest(zz, tpu)  # the YAML's own order cannot follow it
    m = to_loopnest(zz, chain)
    assert dict(m.levels[3].temporal) == {"C": 2} and dict(m.levels[2].temporal) == {"C": 3}


def test_what_has_no_loopnest_form(tpu):
    fractional = {**CONV2, "spatial": {"K": 31.25, "C": 32.0}}
    assert "fractional" in to_loopnest(fractional, tpu)
    split = {**CONV2, "levels": {**CONV2["levels"],
                                 "I": [_level("sram_2MB", [("C", 2), ("G", 2)]),
                                       _level("dram", [("FY", 5), ("FX", 5), ("OY", 27), ("OX", 27), ("K", 4)])]}}
    assert "different loops" in chain_for(split, tpu)


def test_chain_orders():
    # tpu_like: the two per-MAC RFs hold different tensors: 2 orders.
    assert len(chains(load_arch(HERE / "zigzag_tpu_like.yaml"))) == 2
    # eyeriss_like: shared SRAMs sram_1M (I, O), sram_64KB (W), sram_8KB (O): sram_8KB stays below
    # sram_1M, so 3!/2 = 3 orders; the three per-MAC RFs share nothing: 3! = 6; 3 * 6 = 18.
    eyeriss = chains(load_arch(HERE / "zigzag_eyeriss_like.yaml"))
    assert len(eyeriss) == 18
    for chain in eyeriss:
        names = [lv.name for lv in chain.levels]
        assert names.index("sram_8KB") > names.index("sram_1M")
        assert sum(lv.fanout is not None for lv in chain.levels) == 1
        assert chain.levels[3].fanout is not None  # the innermost shared SRAM feeds the array


def test_layers_are_8_bit_on_the_8_bit_cores():
    # The zoo's layers are 16-bit; the benchmark costs them at 8 bits (as ZigZag's runner is told),
    # one value per 8-bit word of the cores. ResNet-50 fc (C 2048, M 1000) on eyeriss_like with
    # no loop at dram: dram reads each weight and input once and writes each output once, 8 words
    # per 1000 pJ access: weights 2,048,000 / 8 * 1000 = 256,000,000 pJ, inputs 2048 / 8 * 1000 =
    # 256,000, outputs 1000 / 8 * 1000 = 125,000: 256,381,000 pJ; MACs 2,048,000 * 0.5 pJ (8-bit
    # operands, the core's width) = 1,024,000 pJ. At 16 bits both would be larger (2 words per value).
    sys.path.insert(0, str(HERE.parent))
    from peer_zigzag import unique_layers

    from loopnest.mapping.io import parse_mapping
    from loopnest.model import evaluate

    layers = dict((p.name, p) for p, _ in unique_layers("resnet50", 1))
    assert {t.bits for p in layers.values() for t in p.tensors} == {8}
    eyeriss = load_arch(HERE / "zigzag_eyeriss_like.yaml")
    mapping = parse_mapping({"mapping": [
        {"level": "sram_1M", "temporal": {"C": 4, "M": 25}, "order": ["C", "M"]},
        {"level": "sram_64KB", "temporal": {"M": 4}},
        {"level": "sram_8KB", "spatial": {"x": {"M": 10}, "y": {"C": 8}}},
        {"level": "rf_16B", "temporal": {"C": 64}}]}, eyeriss)
    result = evaluate(layers["fc"], eyeriss, mapping)
    by_level = result.energy_by_level_pj()
    assert by_level["dram"] == pytest.approx(256_381_000)
    assert by_level["MAC"] == pytest.approx(1_024_000)
