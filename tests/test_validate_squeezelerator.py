"""The squeezelerator suite: seed 002's "Squeezelerator evolved to support both OS and WS dataflow
modes. Initial results improved accelerator performance on MobileNets v1 by 6x" (Keutzer's co-design
talk, after Kwon et al., DAC 2018) against the squeezelerator-like preset, each layer in its faster
mode."""

import json

from typer.testing import CliRunner

from loopnest.analysis.eyexam import capacity_bound_cycles, layer_bound_cycles
from loopnest.arch import list_presets, load_arch
from loopnest.cli import app
from loopnest.validation import squeezelerator
from loopnest.workload.layer_ref import load_layer


def test_preset_register_holds_a_weight_or_a_psum():
    a = load_arch("squeezelerator-like")
    assert "squeezelerator-like" in list_presets() and a.dataflow is None  # the mapper picks the mode
    assert a.pes == 256 and a.levels[-1].capacity_words == 1 and a.levels[-1].keeps == ("weights", "outputs")


def test_modes_by_hand_on_a_depthwise_and_the_fc_layer():
    a = load_arch("squeezelerator-like")
    # MobileNet v1 conv1.dw: G 32, P = Q = 112, 3 x 3, 3,612,672 MACs. WS unrolls what indexes the
    # weights (G, R, S): 16 groups x 3 x 3 taps = 144 PEs -> 25,088 cycles; OS what indexes the
    # outputs (G, P, Q): 16 x 16 = 256 -> 14,112 cycles
    dw = load_layer("mobilenet_v1:conv1.dw", 1)
    assert layer_bound_cycles([dw], a, "ws") == [3_612_672 / 144] and layer_bound_cycles([dw], a, "os") == [3_612_672 / 256]
    # fc 1024 -> 1000: WS puts C = 2^10 on both axes (256 PEs, 4,000 cycles); OS has only M = 2^3 x 5^3,
    # at most 10 x 10 on a 16 x 16 array (100 PEs, 10,240 cycles)
    fc = load_layer("mobilenet_v1:fc", 1)
    assert layer_bound_cycles([fc], a, "ws") == [4000] and layer_bound_cycles([fc], a, "os") == [10240]


def test_systolic_reading_by_hand():
    # WS with only C x M on the array: conv1.dw (C = M = 1 per group) runs on 1 PE, 3,612,672 cycles;
    # the fc layer puts C = 2^10 on both axes, 4,000 cycles. OS over output pixels and images (os-a):
    # conv1.dw 16 x 16 pixels, 14,112 cycles; the fc layer (one pixel, batch 1) on 1 PE, 1,024,000
    a = load_arch("squeezelerator-like")
    ws, os_ = squeezelerator.READINGS["systolic"]["ws"], squeezelerator.READINGS["systolic"]["os"]
    dw, fc = load_layer("mobilenet_v1:conv1.dw", 1), load_layer("mobilenet_v1:fc", 1)
    assert [capacity_bound_cycles(p, a, ws(p, a)) for p in (dw, fc)] == [3_612_672, 4000]
    assert [capacity_bound_cycles(p, a, os_(p, a)) for p in (dw, fc)] == [14_112, 1_024_000]


def test_hybrid_takes_each_layers_faster_mode():
    for reading in squeezelerator.READINGS:
        got = squeezelerator.mode_cycles(reading)
        assert got["hybrid"] <= min(got["ws"], got["os"])


def test_cli_suite_says_each_case_is_outside_tolerance():
    out = CliRunner().invoke(app, ["validate", "--json", "--suite", "squeezelerator"])
    assert out.exit_code == 0, out.output
    cases = json.loads(out.output)["cases"]
    assert [c["expected"] for c in cases] == [6.0] * 4 and abs(cases[0]["tolerance"] - 0.5 / 6) < 1e-12
    # flexible modes: 1.02x over WS, 1.003x over OS (loopnest's WS may unroll a depthwise layer's
    # groups); systolic modes: 8.7x over WS, 2.2x over OS: the seed's 6x lies between the readings
    assert {c["status"] for c in cases} == {"outside tolerance"}
    got = {c["name"]: c["got"] for c in cases}
    assert got["MobileNet v1, systolic modes: hybrid over WS alone"] > 6 > got["MobileNet v1, flexible modes: hybrid over WS alone"]
