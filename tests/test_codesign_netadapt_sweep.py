"""NetAdapt against every uniform width multiplier at equal accuracy (Yang et al., ECCV 2018,
Table 1: the multiplier network at NetAdapt's accuracy, and how much slower it is)."""

import json

import pytest
from codesign_helpers import digits_cache  # noqa: F401  (a fixture)

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")


def test_uniform_width_counts_as_hand_derived():
    """max(1, floor(M k / K)), K = 16: at k = 5 conv1 (8) keeps 2, conv2 (16) 5; at k = 1, 1 and 1."""
    from loopnest.codesign.netadapt import uniform_width

    assert uniform_width({"conv1": 8, "conv2": 16}, 5) == {"conv1": 2, "conv2": 5}
    assert uniform_width({"conv1": 8, "conv2": 16}, 1) == {"conv1": 1, "conv2": 1}
    assert uniform_width({"conv1": 8, "conv2": 16}, 16) == {"conv1": 8, "conv2": 16}


def test_equal_accuracy_takes_the_least_resource_at_or_above_the_adapted_accuracy():
    """Adapted: 0.97 test accuracy at 1,000 cycles. Widths: 1.0 (0.98, 2,000), 0.75 (0.97, 1,500),
    0.5 (0.96, 800). 0.5 is below 0.97, so the pick is 0.75 at 1,500 cycles: 1.5x. At 0.99 none qualifies."""
    from loopnest.codesign.netadapt import equal_accuracy

    sweep = [{"width_multiplier": 1.0, "accuracy_test": 0.98, "cycles": 2000},
             {"width_multiplier": 0.75, "accuracy_test": 0.97, "cycles": 1500},
             {"width_multiplier": 0.5, "accuracy_test": 0.96, "cycles": 800}]
    got = equal_accuracy({"accuracy_test": 0.97, "cycles": 1000}, sweep, "cycles")
    assert got == {"width_multiplier": 0.75, "accuracy_test": 0.97, "cycles": 1500, "ratio": 1.5}
    assert equal_accuracy({"accuracy_test": 0.99, "cycles": 1000}, sweep, "cycles") is None


def test_netadapt_uniform_sweep_end_to_end(digits_cache, monkeypatch):
    """digits-cnn2 (240 train images), cycles = energy = MACs (the mapper replaced): the sweep has
    one fine-tuned network per width 16/16 .. 1/16 with floor(M k / 16) filters, each fine-tuned for
    the adapted network's epochs, and the match is equal_accuracy's pick from it."""
    from loopnest.arch import load_arch
    from loopnest.codesign import netadapt
    from loopnest.codesign.data import Split, Splits
    from loopnest.codesign.models import digits_workload
    from loopnest.codesign.netadapt import Budget, NetAdaptSpec, equal_accuracy, run_netadapt

    monkeypatch.setattr(netadapt.LookupTable, "_search", lambda self, problem: (float(problem.macs), float(problem.macs)))
    monkeypatch.setattr(netadapt, "_SHARED", {})
    module, _, data = digits_workload("digits-cnn2")
    data = Splits(Split(data.train.x[:240], data.train.y[:240]), data.calibration, data.test)
    spec = NetAdaptSpec(Budget.parse("latency=0.6x"), step=0.2, short_epochs=1, long_epochs=1)
    r = run_netadapt(spec, module, "digits-cnn2", data, load_arch("eyeriss"), dataflow="rs", persist=False, sweep=True)
    assert [p["width_multiplier"] for p in r.sweep] == [k / 16 for k in range(16, 0, -1)]
    for k, p in zip(range(16, 0, -1), r.sweep):
        a, b = max(1, 8 * k // 16), k
        assert p["filters"] == {"conv1": a, "conv2": b}
        assert p["cycles"] == 2304 * a + 576 * a * b + 160 * b  # the MACs, hand count
        assert p["epochs"] == len(r.trace) + 1
    assert r.matched == equal_accuracy(r.final, r.sweep, "cycles")
    out = r.to_dict()
    assert out["uniform_sweep"] == r.sweep and out["equal_accuracy"] == r.matched
    json.dumps(out)


def test_cli_netadapt_prints_the_uniform_sweep_and_the_equal_accuracy_line(digits_cache, monkeypatch):
    """--uniform-sweep prints one row per width (16 of them for digits-cnn2) and the equal-accuracy
    line, which agrees with the JSON's equal_accuracy (the mapper replaced: cycles = MACs)."""
    import re

    from typer.testing import CliRunner

    from loopnest.cli import app
    from loopnest.codesign import netadapt

    monkeypatch.setattr(netadapt.LookupTable, "_search", lambda self, problem: (float(problem.macs), float(problem.macs)))
    monkeypatch.setattr(netadapt, "_SHARED", {})
    monkeypatch.setattr(netadapt.LookupTable, "save", lambda self: None)
    monkeypatch.setattr(netadapt, "_read_entries", lambda path: {})
    args = ["codesign", "netadapt", "digits-cnn2", "--budget", "latency=0.5x", "--step", "0.3", "--long-epochs", "0",
            "--uniform-sweep"]
    out = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert len(re.findall(r"^\s*0?\.?\d+(\.\d+)?\s+\d+ \d+\s+\d+\.\d\d%", out.output, re.M)) == 16, out.output
    res = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    m = res["equal_accuracy"]
    line = next(x for x in out.output.splitlines() if x.startswith("at NetAdapt's test accuracy"))
    assert (f"{m['ratio']:.3f}x" in line) if m else ("no uniform width reaches it" in line)
