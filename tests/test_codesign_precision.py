"""The precision study: its spec, the Pareto front and the greedy mixed-precision search on hand
cases, the plumbing (the study maps networks whose tensors carry the studied bit widths) and
the `loopnest codesign precision` command with its bad-input errors.

Energies are not assumed to fall with the bit width: whether they do is the cost model's
business (Tensor.bits), tested with the model."""

import json

import pytest
from codesign_helpers import digits_cache  # noqa: F401  (a fixture)

from loopnest.codesign import CodesignError
from loopnest.codesign.precision_study import PrecisionSpec, greedy_mixed, pareto
from loopnest.workload.precision import Precision, PrecisionError


@pytest.mark.parametrize("kwargs, message", [
    ({"bits": (0,)}, "integer from 1 to 32, got 0"),
    ({"bits": (33,)}, "integer from 1 to 32, got 33"),
    ({"bits": (4.5,)}, "integer from 1 to 32, got 4.5"),
    ({"bits": ()}, "at least one bit width"),
    ({"bits": (4, 4)}, "repeated"),
    ({"bits": (1, 4)}, "use --method binary"),
    ({"bits": (4,), "method": "fp8"}, "'fp8' is not one of uniform, log, binary, ternary"),
    ({"bits": (4,), "output_bits": 40}, "--output-bits"),
    ({"bits": (4,), "budget": -1.0}, "--budget"),
])
def test_spec_rejects(kwargs, message):
    with pytest.raises((CodesignError, PrecisionError), match=message):
        PrecisionSpec(**kwargs)


def test_spec_widths_per_method():
    assert PrecisionSpec((4,)).precision(4) == Precision(4, 4, 4)
    assert PrecisionSpec((4,), method="log").precision(4) == Precision(4, 4, 4)
    assert PrecisionSpec((1, 4), method="binary").precision(4) == Precision(1, 4, 4)
    assert PrecisionSpec((4,), method="ternary").precision(4) == Precision(2, 4, 4)
    assert PrecisionSpec((4,), output_bits=16).precision(4) == Precision(4, 4, 16)


def test_pareto_front():
    # (cost, accuracy): B dominates C (cheaper, as accurate); D ties A exactly (neither dominates)
    costs, accs = [10, 5, 6, 10, 4], [0.9, 0.8, 0.8, 0.9, 0.1]
    assert pareto(costs, accs) == [True, True, False, True, True]


def test_greedy_mixed_hand_case():
    """Two layers a, b (and c, whose energy rises when narrowed), widths 8 > 4 > 2, additive drops.

    Round 1: a 8->4 saves 40 pJ for 1 point (40/pt), b 8->4 saves 5 for 0.2 (25/pt): take a.
    Round 2: a 4->2 would drop 5 points in all (> budget 2): a freezes; b 8->4: take.
    Round 3: b 4->2 saves 35 for 0.2 (total drop 1.4): take. c never moves (saved < 0).
    """
    energy = {("a", 8): 100, ("a", 4): 60, ("a", 2): 40, ("b", 8): 50, ("b", 4): 45, ("b", 2): 10,
              ("c", 8): 10, ("c", 4): 12, ("c", 2): 1}
    drop = {("a", 8): 0, ("a", 4): 0.01, ("a", 2): 0.05, ("b", 8): 0, ("b", 4): 0.002, ("b", 2): 0.004,
            ("c", 8): 0, ("c", 4): 0, ("c", 2): 0}
    calls = []

    def acc(widths):
        calls.append(dict(widths))
        return 0.9 - sum(drop[n, b] for n, b in widths.items())

    widths, steps = greedy_mixed(["a", "b", "c"], [4, 8, 2], energy, acc, 0.9, 2.0)
    assert widths == {"a": 4, "b": 2, "c": 8}
    assert [(s["layer"], s["to_bits"]) for s in steps if s["taken"]] == [("a", 4), ("b", 4), ("b", 2)]
    assert calls[0] == {"a": 8, "b": 8, "c": 8}  # the start: every layer at the widest width


def test_greedy_respects_a_zero_budget():
    energy = {("a", 8): 2, ("a", 4): 1}
    widths, _ = greedy_mixed(["a"], [8, 4], energy, lambda w: 0.9 - 0.001 * (w["a"] == 4), 0.9, 0.0)
    assert widths == {"a": 8}


# ----- the study on a shipped network (needs torch and scikit-learn) ---------------------------

@pytest.fixture(scope="module")
def cnn2(digits_cache):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from loopnest.codesign.models import digits_workload

    return digits_workload("digits-cnn2")


def test_study_maps_the_network_at_the_studied_widths(cnn2, monkeypatch):
    from loopnest.arch import load_arch
    from loopnest.codesign.precision_study import run_precision_study
    from loopnest.search import network as search_network

    seen = []
    real = search_network.map_network

    def spy(network, *args, **kwargs):
        seen.append({p.name: {t.role: t.bits for t in p.tensors} for p in network.layers})
        return real(network, *args, **kwargs)

    monkeypatch.setattr(search_network, "map_network", spy)
    module, network, data = cnn2
    arch = load_arch("eyeriss")
    spec = PrecisionSpec((3, 8), method="ternary", per_layer=True, output_bits=12, budget=1.0)
    out = run_precision_study(spec, module, network, data, arch, dataflow=arch.dataflow, jobs=1).to_dict()
    names = [p.name for p in network.layers]
    # the float32 reference, then one mapping per width: ternary weights (2 bits), inputs b, outputs 12
    assert seen == [{n: {"weights": 32, "inputs": 32, "outputs": 32} for n in names},
                    {n: {"weights": 2, "inputs": 3, "outputs": 12} for n in names},
                    {n: {"weights": 2, "inputs": 8, "outputs": 12} for n in names}]
    for p, b in zip(out["points"], (3, 8)):
        assert p["bits"] == b and p["precision"] == {"weights": 2, "inputs": b, "outputs": 12}
        assert all(layer["bits"] == p["precision"] for layer in p["layers"])  # what the mapper costed
        assert p["energy_pj"] == pytest.approx(sum(layer["energy_pj"] for layer in p["layers"]))
        assert 0.0 <= p["accuracy"] <= 1.0
    # per layer: only that layer at b, the others float32; its energy sums the matching mappings
    row = next(r for r in out["per_layer"] if r["layer"] == names[0] and r["bits"] == 3)
    at3 = {lay["name"]: lay["energy_pj"] for lay in out["points"][0]["layers"]}
    ref = {lay["name"]: lay["energy_pj"] for lay in out["reference"]["layers"]}
    assert row["energy_pj"] == pytest.approx(at3[names[0]] + sum(ref[n] for n in names[1:]))
    assert len(out["per_layer"]) == 2 * len(names)
    mixed = out["mixed"]
    assert set(mixed["widths"]) == set(names) and set(mixed["widths"].values()) <= {3, 8}
    assert mixed["energy_pj"] == pytest.approx(sum(lay["energy_pj"] for lay in mixed["layers"]))
    assert out["settings"]["method"] == "ternary" and out["data"]["test_samples"] == 449


def test_study_rejects_a_module_that_is_not_the_network(cnn2):
    from torch import nn

    from loopnest.arch import load_arch
    from loopnest.codesign.precision_study import run_precision_study

    _, network, data = cnn2
    other = nn.Sequential(nn.Flatten(), nn.Linear(256, 10))
    with pytest.raises(CodesignError, match="do not match the network's layers .only in the network: conv1, conv2, fc; "
                                            "only in the module: 1."):
        run_precision_study(PrecisionSpec((8,)), other, network, data, load_arch("eyeriss"), dataflow="rs")


def _run(*args):
    from typer.testing import CliRunner

    from loopnest.cli import app

    return CliRunner().invoke(app, ["codesign", "precision", *args])


@pytest.mark.parametrize("args, message", [
    (["digits-cnn2", "--bits", "0"], "--bits: a bit width must be an integer from 1 to 32, got 0"),
    (["digits-cnn2", "--bits", "4,33"], "--bits: a bit width must be an integer from 1 to 32, got 33"),
    (["digits-cnn2", "--bits", "4.5"], "--bits: a bit width must be an integer from 1 to 32, got '4.5'"),
    (["resnet99"], "unknown model 'resnet99'; the trained models are digits-cnn2"),
    (["digits-cnn2", "--method", "fp8"], "--method: 'fp8' is not one of"),
])
def test_cli_bad_input_one_line(args, message):
    out = _run(*args)
    assert out.exit_code != 0
    assert message in out.output and "Traceback" not in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_cli_weights_that_do_not_match(cnn2, tmp_path):
    import torch
    from torch import nn

    path = tmp_path / "other.pt"
    torch.save(nn.Sequential(nn.Linear(4, 2)).state_dict(), path)
    out = _run("digits-cnn2", "--bits", "8", "--weights", str(path), "--json")
    assert out.exit_code != 0 and "Traceback" not in out.output
    assert "its layers do not match the model's (missing: conv1, conv2, fc; not in the model: 0)" in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_cli_json_csv_and_plot(cnn2, tmp_path):
    pytest.importorskip("matplotlib")
    out = _run("digits-cnn2", "--bits", "4,8", "--jobs", "1", "--json", "--plot", str(tmp_path / "p.png"))
    assert out.exit_code == 0, out.output
    assert (tmp_path / "p.png").stat().st_size > 0 and (tmp_path / "p-precision-cycles.png").stat().st_size > 0
    d = json.loads(out.stdout)  # the "plot: ..." lines go to stderr
    assert [p["bits"] for p in d["points"]] == [4, 8] and d["reference"]["precision"]["weights"] == 32
    assert any(p["pareto_energy"] for p in d["points"]) and any(p["pareto_cycles"] for p in d["points"])
    out = _run("digits-cnn2", "--bits", "8", "--jobs", "1", "--csv")
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[0].startswith("bits,weights_bits,inputs_bits,outputs_bits,accuracy") and lines[1].startswith("float32,32,32,32,")
    assert lines[2].startswith("8,8,8,8,")


def test_an_unmappable_reference_keeps_the_study(cnn2, monkeypatch, tmp_path):
    """The float32 reference alone without a mapping: its energy is None and a note says why;
    an unmappable studied width is an error naming the layer."""
    import dataclasses

    from loopnest.arch import load_arch
    from loopnest.codesign.precision_study import run_precision_study
    from loopnest.report.codesign import precision_charts
    from loopnest.search import network as search_network

    real = search_network.map_network
    failing = {32}

    def drop_first_layer_at(network, *args, **kwargs):
        result = real(network, *args, **kwargs)
        if network.layers[0].tensors[0].bits in failing:
            first = result.layers[0]
            result.layers[0] = dataclasses.replace(first, result=None, search=dataclasses.replace(first.search, reason="too big"))
        return result

    monkeypatch.setattr(search_network, "map_network", drop_first_layer_at)
    module, network, data = cnn2
    arch = load_arch("eyeriss")
    out = run_precision_study(PrecisionSpec((8,), per_layer=True), module, network, data, arch, dataflow=arch.dataflow,
                              jobs=1).to_dict()
    assert out["reference"]["energy_pj"] is None and out["points"][0]["energy_pj"] > 0
    assert any("float32 reference has no energy" in n and "conv1" in n and "too big" in n for n in out["notes"])
    assert all(r["energy_pj"] is None for r in out["per_layer"])
    charts = precision_charts(out)
    assert [c.id for c in charts] == ["precision-energy", "precision-cycles"]
    assert "float32 reference" not in {s.name for s in charts[0].series}
    failing.add(8)
    with pytest.raises(CodesignError, match="layer conv1 has no valid mapping on eyeriss at .*weights=8.*: too big"):
        run_precision_study(PrecisionSpec((8,)), module, network, data, arch, dataflow=arch.dataflow, jobs=1)


def test_import_and_help_stay_light():
    """torch and scikit-learn load only inside the co-design functions."""
    import subprocess
    import sys

    code = ("import sys, loopnest, loopnest.cli, loopnest.codesign.precision_study, loopnest.workload.zoo;"
            "print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
