"""The accuracy harness on small hand-made modules whose outputs are known by hand."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from loopnest.codesign import CodesignError
from loopnest.codesign.accuracy import (
    LayerQuant,
    QuantScheme,
    accuracy,
    check_layers,
    finetune,
    mac_layers,
    quantize_module,
)
from loopnest.codesign.quantize import Binary, Uniform


class Identity3(nn.Module):
    """Logits = input (a 3x3 identity Linear, no bias): the class is the largest input."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3, bias=False)
        with torch.no_grad():
            self.fc.weight.copy_(torch.eye(3))

    def forward(self, x):
        return self.fc(x)


X = np.array([[3.0, 0, 0], [0, 2.6, 0], [0, 0, 1.2], [0.9, 1.0, 0]], np.float32)


def test_accuracy_counts_top1_over_any_batching():
    y = np.array([0, 1, 2, 0])  # the last one is classified 1: 3 of 4 right
    m = Identity3()
    assert accuracy(m, (X, y)) == 0.75
    assert accuracy(m, (X, y), batch=1) == 0.75
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=3)
    assert accuracy(m, loader) == 0.75


def test_inputs_quantized_over_the_calibrated_range():
    # calibration inputs span [0, 3]; 2-bit unsigned grid 0, 1, 2, 3: 2.6 -> 3, 1.2 -> 1; 0.9 and 1.0 -> 1 tie,
    # argmax picks the first (torch.argmax docs): class 0, so the last sample (label 0) becomes right.
    y = np.array([0, 1, 2, 0])
    q = quantize_module(Identity3(), QuantScheme(LayerQuant(inputs=Uniform(2))), (X, y))
    with torch.no_grad():
        out = q(torch.from_numpy(X))
    assert out.tolist() == [[3, 0, 0], [0, 3, 0], [0, 0, 1], [1, 1, 0]]
    assert accuracy(q, (X, y)) == 1.0


def test_weights_quantized_in_a_copy():
    m = Identity3()
    with torch.no_grad():
        m.fc.weight.copy_(torch.tensor([[1.0, 0.2, 0], [0, 0.6, 0], [-0.3, 0, 0.9]]))
    q = quantize_module(m, QuantScheme(LayerQuant(weights=Uniform(3))))
    # 3 bits signed, range [-0.3, 1]: scale 1/3; 0.2 -> 1/3, 0.6 -> 2/3, -0.3 -> -1/3, 0.9 -> 1
    expected = torch.tensor([[1.0, 1 / 3, 0], [0, 2 / 3, 0], [-1 / 3, 0, 1.0]])
    assert torch.allclose(q.fc.weight, expected)
    assert m.fc.weight[0, 1].item() == pytest.approx(0.2)  # the original is untouched


def test_per_layer_settings_and_their_errors():
    m = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3))
    assert list(mac_layers(m)) == ["0", "2"]
    q = quantize_module(m, QuantScheme(LayerQuant(), {"2": LayerQuant(weights=Binary())}))
    assert len(set(q[2].weight.abs().flatten().tolist())) == 1 and not hasattr(q[0], "parametrizations")
    with pytest.raises(CodesignError, match="'9': no such Conv2d/Linear layer"):
        quantize_module(m, QuantScheme(LayerQuant(), {"9": LayerQuant(weights=Binary())}))
    with pytest.raises(CodesignError, match="needs calibration data"):
        quantize_module(m, QuantScheme(LayerQuant(inputs=Uniform(8))))
    with pytest.raises(CodesignError, match="quantizes weights only"):
        LayerQuant(inputs=Binary())
    with pytest.raises(CodesignError, match="quantizes weights only"):
        LayerQuant(inputs=Uniform(8, per_channel=True))


def test_check_layers_names_what_differs():
    m = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3))
    check_layers(m, ["0", "2"])
    with pytest.raises(CodesignError, match=r"only in the network: conv1; only in the module: 0, 2"):
        check_layers(m, ["conv1"])


def test_dataset_errors():
    with pytest.raises(CodesignError, match="3 inputs and 2 labels"):
        accuracy(Identity3(), (X[:3], np.array([0, 1])))


def test_finetune_is_seeded_and_keeps_weights_on_the_grid():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x.argmax(axis=1)

    def tuned():
        torch.manual_seed(1)
        m = nn.Sequential(nn.Linear(3, 3))
        q = quantize_module(m, QuantScheme(LayerQuant(weights=Binary(), inputs=Uniform(4))), (x, y))
        return finetune(q, (x, y), epochs=3, lr=1e-2, batch=16, seed=5)

    a, b = tuned(), tuned()
    assert all(torch.equal(p, r) for p, r in zip(a.state_dict().values(), b.state_dict().values()))
    w = a[0].weight
    assert len(set(w.abs().flatten().tolist())) == 1  # binary: one magnitude, two signs
    underneath = a[0].parametrizations.weight.original
    assert not torch.equal(underneath, w)  # the float weights were trained underneath the quantizer
