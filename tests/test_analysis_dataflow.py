"""compare-dataflows, roofline and eyexam from the command line, on a tiny ONNX network (built
here, no download): JSON schema and identities, the HTML report in a browser, static plots,
the OS variants' arrays, and bad input."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from test_report_browser import open_report
from typer.testing import CliRunner

from loopnest.analysis.runs import constraints_for
from loopnest.arch import load_arch
from loopnest.cli import app
from loopnest.mapping.mapspace import Mapspace
from loopnest.workload.layers import conv2d

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper

LEVELS = ("DRAM", "buffer", "array", "RF", "ALU")


def tiny_onnx(path):
    """conv1: 2 -> 4 channels, 3x3 on 6x6 (4x4 output); fc1: 64 -> 8."""
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 2, 6, 6])
    inits = [TensorProto(name="w1", data_type=TensorProto.FLOAT, dims=[4, 2, 3, 3]),
             TensorProto(name="w2", data_type=TensorProto.FLOAT, dims=[8, 64])]
    nodes = [helper.make_node("Conv", ["image", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Flatten", ["r1"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "w2"], ["fc"], name="fc1", transB=1)]
    g = helper.make_graph(nodes, "tiny", [x], [helper.make_tensor_value_info("fc", TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    d = tmp_path_factory.mktemp("compare")
    model = tiny_onnx(d / "tiny.onnx")
    out = CliRunner().invoke(app, ["compare-dataflows", str(model), "--batch", "2", "--dataflows", "ws,os-c,rs", "--mode",
                                   "heuristic", "--jobs", "1", "--json", "--report", str(d / "c.html"), "--plot", str(d / "c.png")])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout), d


def test_compare_json_schema_and_identities(compared):
    data, _ = compared
    assert (data["model"], data["pes"], data["batch"]) == ("tiny", 256, 2)
    assert list(data["dataflows"]) == ["WS", "OS-C", "RS"]
    for name, d in data["dataflows"].items():
        assert d["arch"] == f"eyeriss256-{name.lower()}"
        assert {r["search_mode"] for r in d["layers"]} == {"heuristic"}  # the mode that ran, per layer
        for kind, layer in (("conv", "conv1"), ("fc", "fc1")):
            s = d[kind]
            assert s["layers"] == [layer]
            assert set(s["energy_by_level_per_mac"]) == set(LEVELS)
            # the level categories partition the energy, and so do the data types
            assert sum(s["energy_by_level_per_mac"].values()) == pytest.approx(s["energy_per_mac"])
            assert sum(s["energy_by_type_per_mac"].values()) == pytest.approx(s["energy_per_mac"])
            # normalized table (seed 001 slide 27): one MAC costs 1, the reference
            assert s["energy_by_level_per_mac"]["ALU"] == pytest.approx(1.0)
        # every tensor crosses DRAM at least once. conv1 (N=2): inputs 2*2*6*6 = 144, weights
        # 4*2*3*3 = 72, outputs 2*4*4*4 = 128 words over 2*4*2*4*4*3*3 = 2304 MACs; fc1: inputs
        # 2*64, weights 8*64, outputs 2*8 = 656 words over 2*8*64 = 1024 MACs.
        assert d["conv"]["dram_accesses_per_mac"] >= (144 + 72 + 128) / 2304 - 1e-12
        assert d["fc"]["dram_accesses_per_mac"] >= 656 / 1024 - 1e-12
    for kind in ("conv", "fc"):
        assert data["ratios"][kind]["RS"] == 1.0
        for name, r in data["ratios"][kind].items():
            assert r == pytest.approx(data["dataflows"][name][kind]["energy_per_mac"] / data["dataflows"]["RS"][kind]["energy_per_mac"])


def test_compare_report_shows_the_json_numbers_in_a_browser(compared, tmp_path):
    data, d = compared
    state, errors, requests = open_report(d / "c.html", tmp_path / "profile")
    assert errors == [] and requests == []
    assert state["data"]["result"] == data
    bars = state["charts"]["dataflow-energy-by-level"]["traces"]
    for trace, level in zip(bars, LEVELS):
        want = [data["dataflows"][n][k]["energy_by_level_per_mac"][level] for k in ("conv", "fc") for n in data["dataflows"]]
        assert trace["name"] == level and trace["y"] == pytest.approx(want)
    for suffix in ("c.png", "c-dataflow-energy-by-type.png", "c-dataflow-dram-accesses.png"):
        assert (d / suffix).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_at_any_pe_count(tmp_path):
    # --pes derives the equal-area family (docs/arch.md): 12 PEs -> a 3 x 4 array, RS buffer 12 x 512 B
    model = tiny_onnx(tmp_path / "tiny.onnx")
    out = CliRunner().invoke(app, ["compare-dataflows", str(model), "--pes", "12", "--dataflows", "ws,rs", "--mode",
                                   "heuristic", "--jobs", "1", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["pes"] == 12 and [d["arch"] for d in data["dataflows"].values()] == ["eyeriss12-ws", "eyeriss12-rs"]
    assert all(l["utilization"] <= 1 for d in data["dataflows"].values() for l in d["layers"])


def test_os_variants_unroll_only_their_dimensions():
    layer = conv2d("c", C=4, M=8, H=6, W=6, R=3, N=2)
    arch = load_arch("eyeriss256-os-a")
    want = {"os-a": {"P", "Q", "N"}, "os-b": {"P", "Q", "N", "M"}, "os-c": {"M"}}
    for name, dims in want.items():
        ms = Mapspace(layer, arch, constraints_for(name, layer, arch))
        spatial = [s for s, (l, a) in enumerate(ms.slots) if a != 0]
        unrolled = {d for d, b in zip(ms.dims, ms.bounds) if any(b[s][1] > 1 for s in spatial)}
        assert unrolled == dims, name


def test_roofline_and_eyexam_on_an_onnx_file(tmp_path):
    model = tiny_onnx(tmp_path / "tiny.onnx")
    out = CliRunner().invoke(app, ["roofline", str(model), "--arch", "eyeriss", "--mode", "heuristic", "--jobs", "1", "--json"])
    assert out.exit_code == 0, out.output
    rf = json.loads(out.stdout)["roofline"]
    roofs = {r["name"]: r["bandwidth_words_per_cycle"] for r in rf["roofs"]}
    # eyeriss: 4 words/cycle read and 4 write, one instance each: one roof per port, never their sum
    assert roofs == {"DRAM read": 4.0, "DRAM write": 4.0, "GlobalBuffer read": 4.0, "GlobalBuffer write": 4.0}
    for p in rf["layers"]:
        limits = [rf["compute_roof_macs_per_cycle"]] + [roofs[l] * i for l, i in p["intensity_macs_per_word"].items() if i]
        assert p["achieved_macs_per_cycle"] <= min(limits) * (1 + 1e-9)
    out = CliRunner().invoke(app, ["eyexam", f"{model}:conv1", "--arch", "eyeriss", "--mode", "heuristic", "--json"])
    assert out.exit_code == 0, out.output
    steps = [s["bound_macs_per_cycle"] for s in json.loads(out.stdout)["steps"]]
    assert steps[0] == 1 * 4 * 2 * 4 * 4 * 3 * 3 and all(a >= b for a, b in pairwise(steps))


@pytest.mark.parametrize("args, message", [
    (["compare-dataflows", "alexnet", "--dataflows", "ws,xyz"], "unknown dataflow 'xyz'; choose from"),
    (["compare-dataflows", "alexnet", "--pes", "0"], "--pes"),
    (["compare-dataflows", "nonet"], "unknown model 'nonet'"),
    (["eyexam", "alexnet:conv9", "--arch", "eyeriss"], "has no layer 'conv9'"),
    (["eyexam", "alexnet:conv3", "--dataflow", "zz"], "unknown dataflow 'zz'"),
    (["roofline", "alexnet", "--arch", "nosuch"], "nosuch"),
    (["roofline", "alexnet", "--mode", "fast"], "--mode: 'fast' is not one of exact, heuristic, auto"),
    (["evaluate", "alexnet", "--arch", "eyeriss", "--mode", "fast"], "--mode: 'fast' is not one of exact, heuristic, auto"),
])
def test_bad_input_gives_one_clear_error(args, message):
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 2, out.output
    assert message in out.output and "Traceback" not in out.output


def test_compare_at_another_pe_count_derives_the_family():
    # issue 11, item 10: --pes 64 once failed ("no equal-area preset 'eyeriss64-ws'"); now the family is
    # derived at 64 PEs (8 x 8, buffers of docs/arch.md, Equal-area allocation: WS 261,632 words, RS 16,384)
    out = CliRunner().invoke(app, ["compare-dataflows", "lenet5", "--pes", "64", "--batch", "1", "--dataflows", "ws,rs",
                                   "--jobs", "1", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["pes"] == 64 and {df: d["arch"] for df, d in data["dataflows"].items()} == {"WS": "eyeriss64-ws", "RS": "eyeriss64-rs"}
    assert all(p["utilization"] <= 1 for d in data["dataflows"].values() for p in d["layers"])
