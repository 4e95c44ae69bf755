"""The tetris suite and its presets: TETRIS (Gao et al., ASPLOS 2017) as the authors reproduce their
Figure 8 in nn_dataflow's test_eyeriss_asplos17 (configurations T-16 and L-1, every figure below
transcribed from that test), and a hand-derived capacity bound."""

import json

from typer.testing import CliRunner

from loopnest.analysis.eyexam import layer_bound_cycles
from loopnest.arch import load_arch
from loopnest.cli import app
from loopnest.validation import tetris
from loopnest.workload.layer_ref import load_layer


def test_t16_is_the_sources_configuration():
    # 4 x 4 nodes of 14 x 14 PEs, 133,032 B buffer, 512 B register file, 16-bit words;
    # pJ per 16-bit access: DRAM 80, buffer 14, array 4, register file 0.6; MAC 2; static 200 pJ/cycle
    a = load_arch("tetris-like")
    dram, gb, rf = a.levels
    assert (dram.fanout.x, dram.fanout.y, gb.fanout.x, gb.fanout.y) == (4, 4, 14, 14) and a.pes == 3136
    assert gb.capacity_words * 2 == 133032 and rf.capacity_words * 2 == 512 and a.instances(1) == 16
    assert [lv.energy_pj["read"] for lv in a.levels] == [80, 14, 0.6] and gb.fanout.energy_pj == 4
    assert a.compute.energy_pj == 2 and a.leakage_pj_per_cycle == 200  # 16 x 6.25 mW x 1e3 / 500 MHz


def test_l1_is_the_sources_baseline():
    # one node of 16 x 16 PEs, 576,056 B buffer, 1 kB register file; DRAM 240, buffer 28, array 4,
    # register file 1, MAC 2 pJ; static 320 pJ/cycle
    a = load_arch("tetris-2d-baseline")
    dram, gb, rf = a.levels
    assert dram.fanout is None and (gb.fanout.x, gb.fanout.y) == (16, 16) and a.pes == 256
    assert gb.capacity_words * 2 == 576056 and rf.capacity_words * 2 == 1024
    assert [lv.energy_pj["read"] for lv in a.levels] == [240, 28, 1] and gb.fanout.energy_pj == 4
    assert a.compute.energy_pj == 2 and a.leakage_pj_per_cycle == 320  # 160 mW x 1e3 / 500 MHz


def test_capacity_bound_by_hand_on_alexnet_fc8():
    # fc8 at batch 16: 16 x 4096 x 1000 = 65,536,000 MACs. On L-1 row stationary puts N and M on x
    # (16 of 16) and C and M on y (16 of 16): every PE busy, 65,536,000 / 256 = 256,000 cycles
    fc = load_layer("alexnet:fc8", 16)
    assert fc.macs == 65_536_000
    assert layer_bound_cycles([fc], load_arch("tetris-2d-baseline"), "rs") == [256_000]


def test_suite_reports_the_speedup_with_its_basis():
    out = CliRunner().invoke(app, ["validate", "--json", "--suite", "tetris"])
    assert out.exit_code == 0, out.output
    (case,) = json.loads(out.output)["cases"]
    assert case["expected"] == 3136 / 256 and case["tolerance"] == 1 / 6 and "20% margin" in case["basis"]
    assert case["got"] == tetris.network_cycles("tetris-2d-baseline") / tetris.network_cycles("tetris-like")
