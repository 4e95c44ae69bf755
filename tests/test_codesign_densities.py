"""Measured densities (issue 13, the "measured" kind): per layer, the fraction of non-zero
weights, input activations and output activations (before the nonlinearity), from a torch
forward pass or onnx's reference evaluator. Expected values are counted by hand below."""

import json
import re
import warnings

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
from torch import nn  # noqa: E402

from loopnest.cli import app  # noqa: E402
from loopnest.codesign import CodesignError  # noqa: E402
from loopnest.codesign.densities import Densities, LayerDensity, onnx_densities, torch_densities  # noqa: E402
from loopnest.codesign.models import digits_module  # noqa: E402
from loopnest.codesign.pruning import baked, magnitude_masks, masked  # noqa: E402


class Tiny(nn.Module):
    """conv (1x1, 1 -> 3 channels, weights 1, -1, 0), ReLU, flatten, fc (12 -> 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 1, bias=False)
        self.fc = nn.Linear(12, 1, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor([1.0, -1.0, 0.0]).reshape(3, 1, 1, 1))
            self.fc.weight.copy_(torch.tensor([[0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.float32))

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))


# two 1x2x2 samples: A has one non-zero pixel (the first), B four
X = np.array([[[[1, 0], [0, 0]]], [[[1, 1], [1, 1]]]], np.float32)
# Hand counts (2 samples, so 8 input pixels, 24 conv outputs, 24 fc inputs, 2 fc outputs):
#   conv weights 2 of 3 non-zero; inputs 5 of 8; outputs: channel 0 = x (5), channel 1 = -x (5,
#   negative), channel 2 = 0 -> 10 of 24 before the ReLU.
#   fc inputs: ReLU keeps channel 0 only -> 5 of 24; weights 3 of 12; outputs: A's fc taps
#   (flat indices 1-3) see zeros -> 0, B's see 1+1+1 -> 3: 1 of 2.
HAND = {"conv": LayerDensity(2 / 3, 5 / 8, 10 / 24), "fc": LayerDensity(3 / 12, 5 / 24, 1 / 2)}


def export(module, x, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(module.eval(), torch.as_tensor(x[:1]), str(path), dynamo=False)
    return path


def close(a: dict, b: dict, tol: float = 0.0) -> bool:
    return list(a) == list(b) and all(abs(getattr(a[n], k) - getattr(b[n], k)) <= tol
                                      for n in a for k in ("weights", "inputs", "outputs"))


def test_torch_densities_hand_counted():
    assert close(torch_densities(Tiny(), X), HAND, 1e-12)
    assert close(torch_densities(Tiny(), X, batch=1), HAND, 1e-12)  # batching does not change a count


def test_onnx_densities_hand_counted_with_the_importers_names(tmp_path):
    from loopnest.workload.onnx_import import import_onnx

    path = export(Tiny(), X, tmp_path / "tiny.onnx")
    got = onnx_densities(path, X)  # batch axis fixed at 1 by the export: fed one sample at a time
    names = [p.name for p in import_onnx(path).layers]
    assert list(got) == names == ["/conv/Conv", "/fc/MatMul"]  # no bias: a MatMul
    assert close(dict(zip(HAND, got.values())), HAND, 1e-12)


@pytest.mark.parametrize("s", [0.5, 0.75])
def test_pruned_weights_have_density_exactly_one_minus_s(s):
    torch.manual_seed(0)
    module = digits_module("digits-cnn4")
    counts = {n: m.weight.numel() for n, m in module.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
    assert all((n * s).is_integer() for n in counts.values())  # so floor(s n) = s n
    pruned = baked(masked(module, magnitude_masks(module, s)))
    x = np.random.default_rng(0).random((8, 1, 16, 16), dtype=np.float32)
    got = torch_densities(pruned, x)
    assert list(got) == list(counts)
    assert all(d.weights == 1 - s for d in got.values())


@pytest.mark.parametrize("name", ["digits-cnn4", "digits-res6", "digits-dws"])
def test_torch_and_onnx_agree_on_the_exported_model(tmp_path, name):
    torch.manual_seed(1)
    module = digits_module(name)
    module = baked(masked(module, magnitude_masks(module, 0.5)))
    x = np.random.default_rng(1).random((6, 1, 16, 16), dtype=np.float32) * (np.arange(16) % 3 > 0)  # some zero columns
    t = torch_densities(module, x)
    o = onnx_densities(export(module, x, tmp_path / "m.onnx"), x)
    # same layers in the same order (names differ: each importer's own); values equal up to a
    # float rounding flipping an output's sign near zero before a ReLU (none seen; tolerance 1e-3)
    assert len(t) == len(o)
    assert close(dict(zip(t, o.values())), t, 1e-3)
    assert all(d.weights == 0.5 for d in o.values())


def test_onnx_pruning_matches_torch_pruning(tmp_path):
    torch.manual_seed(2)
    module = digits_module("digits-cnn2")
    x = np.random.default_rng(2).random((3, 1, 16, 16), dtype=np.float32)
    path = export(module, x, tmp_path / "m.onnx")
    o = onnx_densities(path, x, prune_sparsity=0.75)
    t = torch_densities(baked(masked(module, magnitude_masks(module, 0.75))), x)
    assert close(dict(zip(t, o.values())), t, 1e-3)


def test_yaml_format(tmp_path):
    path = tmp_path / "d.yaml"
    Densities("tiny, 2 inputs", torch_densities(Tiny(), X)).save(path)
    data = yaml.safe_load(path.read_text())
    assert list(data) == ["source", "layers"] and data["source"] == "tiny, 2 inputs"
    assert list(data["layers"]) == ["conv", "fc"]
    assert data["layers"]["fc"] == {"weights": 0.25, "inputs": 5 / 24, "outputs": 0.5}


def test_module_whose_layers_the_importer_names_otherwise_is_rejected():
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(self.fc(torch.flatten(x, 1)))

    with pytest.raises(CodesignError, match="called once; these layers differ .*fc_"):
        torch_densities(Twice(), np.ones((2, 1, 2, 2), np.float32))


def test_cli_writes_the_yaml_and_json(tmp_path):
    path = export(Tiny(), X, tmp_path / "tiny.onnx")
    np.save(tmp_path / "x.npy", X)
    out = tmp_path / "d.yaml"
    run = CliRunner().invoke(app, ["codesign", "densities", str(path), "--data", str(tmp_path / "x.npy"), "-o", str(out), "--json"])
    assert run.exit_code == 0, run.output
    data = yaml.safe_load(out.read_text())
    assert "tiny.onnx" in data["source"] and "2 inputs of x.npy" in data["source"]
    assert data["layers"]["/fc/MatMul"] == {"weights": 0.25, "inputs": 5 / 24, "outputs": 0.5}
    assert json.loads(run.stdout) == data


@pytest.mark.parametrize("args,message", [
    (["digits-nope"], "unknown model 'digits-nope'"),
    (["digits-cnn2", "--prune-sparsity", "1.5"], r"sparsity: a fraction in \[0, 1\), got 1.5"),
    (["m.onnx", "--data", "x.npy"], "m.onnx: input '[^']+' has shape 1 x 1 x 2 x 2; the data's shape is 2 x 3"),
    (["m.onnx", "--data", "bad.npy"], "bad.npy: not a numpy .npy array"),
    (["m.onnx", "--data", "none.npy"], "none.npy: cannot read the file"),
])
def test_cli_bad_input_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    export(Tiny(), X, tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", np.ones((2, 3), np.float32))
    (tmp_path / "bad.npy").write_text("not numpy")
    run = CliRunner().invoke(app, ["codesign", "densities", *args, "-o", "d.yaml"])
    assert run.exit_code != 0 and run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert re.search(message, lines[0]), lines[0]

