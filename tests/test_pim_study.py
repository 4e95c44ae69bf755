"""The PIM study (loopnest codesign pim-study): its hardware side by hand, the claims' verdicts on
made-up curves, and bad input as one line."""

import json

import pytest
from typer.testing import CliRunner

from loopnest.arch import load_arch
from loopnest.cli import app
from loopnest.codesign.pim_study import PimStudySpec, claims, hardware
from loopnest.workload.zoo import build
from loopnest.codesign.pim_study import network_on_arrays


def test_network_utilization_by_hand():
    # digits-cnn2 on 128x128 arrays, 16-bit weights on 2-bit cells (8 cells, 16 weights a row):
    # conv1 K=9 x M=8 -> 9*64 cells in one array; conv2 K=72 x 16 -> 72*128 in one; fc K=256 x 10
    # -> 2 row tiles, 256*80 cells over two arrays: (576 + 9216 + 20480) / (4 * 16384).
    a = load_arch("pim-crossbar")
    r = network_on_arrays(build("digits-cnn2"), a, 128, 8)
    assert r["utilization"] == pytest.approx((576 + 9216 + 20480) / (4 * 16384))
    assert r["macs"] == 8 * 9 * 256 + 16 * 72 * 64 + 10 * 256
    assert r["total_pj"] == pytest.approx(sum(r["energy_pj"].values()))


def test_attention_layers_are_left_out():
    a = load_arch("pim-crossbar")
    r = network_on_arrays(build("bert_base_128"), a, 128, 8)
    assert "attn.qk" in r["skipped_layers"] and r["macs"] > 0


def test_same_cells_at_every_size():
    a = load_arch("pim-crossbar")
    hw = hardware(PimStudySpec(networks=("digits-cnn2",), zoo=(), array_sizes=(64, 128, 512)), a)
    assert hw["total_cells"] == 8 * 128 * 128
    assert [p["arrays"] for p in hw["sweep"]["digits-cnn2"]] == [32, 8, 1]


def _curve(values):
    return {"noise": [{"sigma": s, "mean": v, "std": 0.0, "values": [v]} for s, v in zip((0.0, 1.0), values)],
            "weight_bits": [{"bits": 4, "mean": values[0], "std": 0.0, "values": [values[0]]}]}


def test_claims_on_made_up_curves():
    spec = PimStudySpec(networks=("digits-cnn2", "digits-cnn4", "digits-cnn8", "digits-k7"), zoo=(), sigmas=(0.0, 1.0),
                        weight_bits=(4,), array_sizes=(128,))
    hw = {"sweep": {}, "own_array": {}}
    # drops 10 < 20 < 30 points with depth; the 7x7 net drops 5 against cnn2's 10; ranking changes
    acc = {"digits-cnn2": _curve((0.90, 0.80)), "digits-cnn4": _curve((0.95, 0.75)), "digits-cnn8": _curve((0.97, 0.67)),
           "digits-k7": _curve((0.92, 0.87))}
    c = claims(acc, hw, spec)
    assert (c["a"]["verdict"], c["b"]["verdict"], c["c"]["verdict"], c["d"]["verdict"]) == ("reproduced", "reproduced", "reproduced", "refuted")
    acc["digits-cnn8"] = _curve((0.97, 0.92))  # the deepest net now drops least
    assert claims(acc, hw, spec)["b"]["verdict"] == "refuted"


@pytest.mark.parametrize("args,message", [
    (["--sigma", "-1"], "--sigma: a noise standard deviation must be a finite number >= 0, got -1.0"),
    (["--sigma", "x"], "--sigma: a noise standard deviation (a number >= 0), got 'x'"),
    (["--noise", "loud"], "--noise: 'loud' is not one of fixed, rescaled"),
    (["--array-sizes", "0"], "--array-sizes: an array side is an integer >= 1, got 0"),
    # pim-crossbar: a 16-bit weight spans 8 two-bit cells, so a 4 x 4 array cannot hold one weight
    (["--array-sizes", "128,4"], "--array-sizes: array 4 x 4: columns: 4 columns cannot hold one weight of 8 cells"),
    (["--adc-bits", "0"], "--adc-bits: an ADC of 2 to 32 bits (a symmetric partial-sum quantizer), got 0"),
    (["--adc-bits", "1"], "--adc-bits: an ADC of 2 to 32 bits (a symmetric partial-sum quantizer), got 1"),
    (["--arch", "eyeriss"], "has no pim block"),
    (["--zoo", "nosuchnet"], "--zoo: unknown network 'nosuchnet'"),
    (["--digital", "pim-crossbar"], "--digital: 'pim-crossbar' is a PIM architecture"),
])
def test_bad_input_one_line(args, message):
    out = CliRunner().invoke(app, ["codesign", "pim-study", "--no-accuracy", "--zoo", "", *args])
    assert out.exit_code == 2
    assert message in out.output and len(out.output.strip().splitlines()) == 1


def test_hardware_only_json():
    out = CliRunner().invoke(app, ["codesign", "pim-study", "--no-accuracy", "--networks", "digits-cnn2", "--zoo", "vgg16",
                                   "--array-sizes", "128,1024", "--digital", "none", "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert set(d["claims"]) == {"e", "f"} and d["accuracy"] == {} and d["hardware"]["digital"] is None
    vgg = d["hardware"]["sweep"]["vgg16"]
    assert vgg[0]["utilization"] >= vgg[1]["utilization"]
    assert vgg[1]["sized_adc"]["pj_per_mac"] > vgg[1]["pj_per_mac"]  # 1024 rows need 12-bit ADCs, not 8
    layers = d["hardware"]["own_array"]["vgg16"]["layers"]  # every layer's mapping explains itself
    assert len(layers) == 16 and {"rows_per_array", "groups_per_array", "replication"} <= set(layers[0]["choice"])


def test_digital_side_by_side():
    # issue 15: the same networks on the same-area digital preset beside the PIM one. The crossbar
    # model costs no DRAM (weights stay in the cells), so the ratio is taken on chip: total minus DRAM.
    out = CliRunner().invoke(app, ["codesign", "pim-study", "--no-accuracy", "--networks", "digits-cnn2", "--zoo", "",
                                   "--array-sizes", "128", "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert d["settings"]["digital"] == "digital-same-area"
    v = d["hardware"]["digital"]["digits-cnn2"]
    dig, pim = v["digital"], v["pim"]
    assert dig["macs"] == pim["macs"] == 18_432 + 73_728 + 2_560  # the same network on both
    assert dig["on_chip_pj_per_mac"] == pytest.approx((dig["total_pj"] - dig["dram_pj"]) / dig["macs"])
    assert v["digital_over_pim_on_chip"] == pytest.approx(dig["on_chip_pj_per_mac"] / pim["pj_per_mac"])
    assert dig["area_mm2"] == pytest.approx(d["hardware"]["area_mm2"], rel=0.01)  # same area by construction
    assert 0 < dig["utilization"] <= 1


def test_html_report(tmp_path):
    # --report: the claims, the array-size tables, the breakdown and the digital side by side, with
    # the study's JSON embedded (element #loopnest-data) and every chart's numbers from it
    import re

    path = tmp_path / "pim.html"
    out = CliRunner().invoke(app, ["codesign", "pim-study", "--no-accuracy", "--networks", "digits-cnn2", "--zoo", "",
                                   "--array-sizes", "128,1024", "--report", str(path), "--json"])
    assert out.exit_code == 0, out.output
    page = path.read_text()
    titles = re.findall(r"<h2>(.*?)</h2>", page)
    assert titles[0].startswith("Yang and Sze") and any("digital array of the same area" in t for t in titles)
    embedded = json.loads(re.search(r'<script id="loopnest-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert embedded["result"]["claims"] == json.loads(out.stdout)["claims"]
    side = embedded["charts"]["pim-vs-digital"]
    v = embedded["result"]["hardware"]["digital"]["digits-cnn2"]
    assert side["series"][0]["y"] == [v["pim"]["pj_per_mac"]] and side["series"][1]["y"] == [v["digital"]["on_chip_pj_per_mac"]]


def test_report_path_is_checked_before_the_study(tmp_path):
    out = CliRunner().invoke(app, ["codesign", "pim-study", "--no-accuracy", "--zoo", "", "--report", str(tmp_path / "x.txt")])
    assert out.exit_code != 0 and "--report" in out.output and len(out.output.strip().splitlines()) == 1


def test_wide_vs_deep_pair_on_made_up_utilizations():
    # claim (e)'s detail names the array sizes where Wide ResNet-50-2 fills the arrays better than ResNet-152
    spec = PimStudySpec(networks=(), zoo=("wide_resnet50_2", "resnet152"), array_sizes=(128, 1024, 4096))
    pts = lambda us: [{"utilization": u} for u in us]  # noqa: E731
    hw = {"sweep": {"wide_resnet50_2": pts((1.0, 0.9, 0.3)), "resnet152": pts((1.0, 0.6, 0.1))}, "own_array": {}}
    assert claims({}, hw, spec)["e"]["detail"]["wide_vs_deep"]["wide_fills_more_at"] == [1024, 4096]
