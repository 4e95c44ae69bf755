"""The per-layer steps of energy-aware pruning (Yang, Chen, Sze, CVPR 2017, Sec. 4): the greedy
per-weight restore by output error and the least-squares local fit, on layers small enough to
derive by hand; then the option through `run_prune` and the commands."""

import numpy as np
import pytest
from codesign_helpers import digits_cache  # noqa: F401  (a fixture)

from loopnest.codesign import CodesignError

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")


def _linear(weights, bias=None):
    from torch import nn

    layer = nn.Linear(len(weights), 1, bias=bias is not None)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([weights]))
        if bias is not None:
            layer.bias.fill_(bias)
    return nn.Sequential(layer)


def _fit(net, sparsity, x, extra=0.0):
    from loopnest.codesign.local_fit import local_fit
    from loopnest.codesign.pruning import magnitude_masks

    return local_fit(net, magnitude_masks(net, sparsity), torch.as_tensor(x, dtype=torch.float32), extra)


def test_least_squares_recovers_a_pruned_weight_whose_input_is_a_sum_of_kept_ones():
    """Linear, w = (4, 5, 0.5), bias 0.25, inputs with x3 = x1 + x2. Sparsity 1/3 removes w3 (the
    smallest). y = 4 x1 + 5 x2 + 0.5 (x1 + x2) + 0.25 = 4.5 x1 + 5.5 x2 + 0.25: the fit finds
    (4.5, 5.5, 0) and bias 0.25, and the pruned layer's outputs equal the unpruned ones."""
    rng = np.random.default_rng(0)
    x12 = rng.random((20, 2))
    x = np.c_[x12, x12.sum(1)]
    net = _linear([4.0, 5.0, 0.5], 0.25)
    fitted, keep = _fit(net, 1 / 3, x)
    assert keep["0"].tolist() == [[True, True, False]]
    assert fitted[0].weight.detach().numpy() == pytest.approx(np.array([[4.5, 5.5, 0.0]]), abs=1e-5)
    assert float(fitted[0].bias.detach()) == pytest.approx(0.25, abs=1e-5)
    xt = torch.as_tensor(x, dtype=torch.float32)
    assert fitted(xt).detach().numpy() == pytest.approx(net(xt).detach().numpy(), abs=1e-5)


def test_least_squares_moves_a_constant_inputs_weight_into_the_bias():
    """x3 = 1 on every input: w3 x3 is a constant, so pruning w3 (0.5, the smallest) moves it into
    the bias: weights (2, 3, 0), bias 1 + 0.5 = 1.5."""
    x = np.c_[np.random.default_rng(1).random((12, 2)), np.ones(12)]
    fitted, _ = _fit(_linear([2.0, 3.0, 0.5], 1.0), 1 / 3, x)
    assert fitted[0].weight.detach().numpy() == pytest.approx(np.array([[2.0, 3.0, 0.0]]), abs=1e-5)
    assert float(fitted[0].bias.detach()) == pytest.approx(1.5, abs=1e-5)


def test_least_squares_through_the_conv_patches():
    """Conv2d 1 -> 1, kernel 1 x 2, stride 1, no padding, weights (3, 0.5), no bias; images
    constant along each row (x[h, w] = r_h), so both taps of a patch see the same pixel and
    3 a + 0.5 a = 3.5 a: pruning the 0.5 tap fits the other to 3.5, outputs unchanged."""
    from torch import nn

    conv = nn.Conv2d(1, 1, (1, 2), bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[3.0, 0.5]]]]))
    net = nn.Sequential(conv)
    rows = np.random.default_rng(2).random((4, 1, 5, 1))
    x = np.repeat(rows, 4, axis=3)  # 4 images of 5 x 4, each row constant
    fitted, keep = _fit(net, 0.5, x)
    assert keep["0"].flatten().tolist() == [True, False]
    assert fitted[0].weight.detach().flatten().tolist() == pytest.approx([3.5, 0.0], abs=1e-5)
    xt = torch.as_tensor(x, dtype=torch.float32)
    assert fitted(xt).detach().numpy() == pytest.approx(net(xt).detach().numpy(), abs=1e-5)


def test_restore_returns_the_weight_whose_removal_hurts_the_output_most():
    """Linear w = (1, 2, 5), inputs (10, 0, 0), (0, 1, 0), (0, 0, 1). Sparsity 1/3 keeps 2 weights;
    restore fraction 1/2 removes floor(2/2) = 1 more by magnitude (w1 and w2 removed), then restores
    one. The residual is e = (10, 2, 0); the cut of returning w_i is 2 w_i <e, x_i> - w_i^2 |x_i|^2:
    w1: 2*1*100 - 1*100 = 100, w2: 2*2*2 - 4*1 = 4. So w1 (the smaller!) returns; magnitude alone
    keeps w2. Least squares over (w1, w3, bias) then solves 10 w1 + b = 10, b = 2, w3 + b = 5:
    (0.8, 0, 3), bias 2; without a bias (10 w1 = 10, w3 = 5): (1, 0, 5)."""
    x = [[10.0, 0, 0], [0, 1, 0], [0, 0, 1]]
    fitted, keep = _fit(_linear([1.0, 2.0, 5.0], 0.0), 1 / 3, x, extra=0.5)
    assert keep["0"].tolist() == [[True, False, True]]
    assert fitted[0].weight.detach().flatten().tolist() == pytest.approx([0.8, 0.0, 3.0], abs=1e-5)
    assert float(fitted[0].bias.detach()) == pytest.approx(2.0, abs=1e-5)
    fitted, keep = _fit(_linear([1.0, 2.0, 5.0]), 1 / 3, x, extra=0.5)
    assert keep["0"].tolist() == [[True, False, True]]
    assert fitted[0].weight.detach().flatten().tolist() == pytest.approx([1.0, 0.0, 5.0], abs=1e-5)
    _, keep = _fit(_linear([1.0, 2.0, 5.0], 0.0), 1 / 3, x, extra=0.0)
    assert keep["0"].tolist() == [[False, True, True]]  # no restore: magnitude's choice


def test_restore_updates_the_residual_after_each_return():
    """Columns x1 = x2 = (1, 0), x3 = (0, 1), a ones column (1, 1), w0 = (2, 2, 2.5), bias 0, all
    three removed, two restored. y = X w0 = (4, 2.5). First: g = X'e = (4, 4, 2.5), cuts 2*2*4 - 4
    = 12, 12, 2*2.5*2.5 - 6.25 = 6.25: w1 (tie: lower index). Then g -= 2 H_1 = (2, 2, 2.5): cuts
    w2 2*2*2 - 4 = 4, w3 6.25: w3. Without the update w2 (12) would return second."""
    from loopnest.codesign.local_fit import restore

    x = np.array([[1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    w0 = np.array([[2.0, 2.0, 2.5, 0.0]])
    keep = restore(w0, np.zeros((1, 3), bool), (x.T @ x)[None], (x.T @ (x @ w0[0]))[None], np.array([0]), 2)
    assert keep.tolist() == [[True, False, True]]


@pytest.mark.parametrize("s", [0.25, 0.5, 0.8125, 0.9375])
def test_restore_keeps_exactly_the_levels_count(s):
    """A conv of 4 filters of 2 x 3 x 3 (72 weights) and a Linear of 3 x 8: after restore each
    layer keeps n - floor(s n) weights, as magnitude pruning at s does."""
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 3))
    x = torch.rand(6, 2, 5, 5).numpy()
    fitted, keep = _fit(net, s, x, extra=0.5)
    for name, n in (("0", 72), ("4", 48)):
        assert int(keep[name].sum()) == n - int(s * n)
        assert int((dict(fitted.named_modules())[name].weight != 0).sum()) <= n - int(s * n)


def test_local_fit_rejects_non_zero_padding_and_bad_fraction():
    from torch import nn

    from loopnest.codesign.local_fit import local_fit
    from loopnest.codesign.pruning import magnitude_masks

    net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"))
    with pytest.raises(CodesignError, match=r"padding \(1, 1\) \(reflect\) is not supported"):
        local_fit(net, magnitude_masks(net, 0.5), torch.rand(2, 1, 4, 4))
    with pytest.raises(CodesignError, match="restore fraction: in \\[0, 1\\], got 2"):
        local_fit(net, magnitude_masks(net, 0.5), torch.rand(2, 1, 4, 4), 2)


def test_run_prune_local_fit_option(digits_cache):
    """The option reaches the candidates: with the fit, each candidate is the fitted network (its
    kept weights differ from the unpruned ones); the settings and the note say which was used;
    other methods and unknown values are refused in one line."""
    from loopnest.arch import load_arch
    from loopnest.codesign.data import Split, Splits
    from loopnest.codesign.models import digits_workload
    from loopnest.codesign.pruning import run_prune

    module, _, data = digits_workload("digits-cnn2")
    data = Splits(Split(data.train.x[:240], data.train.y[:240]), data.calibration, data.test)
    arch = load_arch("eyeriss")
    study, pruned = run_prune("energy", module, "digits-cnn2", data, arch, 0.0, dataflow="rs", short_epochs=0,
                              local_fit="least-squares")
    assert study["settings"]["local_fit"] == "least-squares"
    assert any("least-squares local fit" in n for n in study["notes"])
    if study["sparsity"]:  # a fitted layer's kept weights moved
        name = next(iter(study["sparsity"]))
        kept = dict(pruned.named_modules())[name].weight != 0
        assert not torch.equal(dict(pruned.named_modules())[name].weight[kept], dict(module.named_modules())[name].weight[kept])
    with pytest.raises(CodesignError, match="--local-fit least-squares: only with --method energy"):
        run_prune("magnitude", module, "digits-cnn2", data, arch, 0.0, local_fit="least-squares")
    with pytest.raises(CodesignError, match="--local-fit: 'cg' is not one of none, least-squares"):
        run_prune("energy", module, "digits-cnn2", data, arch, 0.0, local_fit="cg")


@pytest.mark.parametrize("args, message", [
    (["prune", "digits-cnn2", "--method", "magnitude", "--local-fit", "least-squares"],
     "--local-fit least-squares: only with --method energy"),
    (["prune-compare", "digits-cnn2", "--local-fit", "cg"], "--local-fit: 'cg' is not one of none, least-squares"),
])
def test_cli_local_fit_bad_input_one_line(args, message):
    from typer.testing import CliRunner

    from loopnest.cli import app

    out = CliRunner().invoke(app, ["codesign", *args])
    assert out.exit_code != 0 and "Traceback" not in out.output
    assert message in out.output and len(out.output.strip().splitlines()) == 1


# ----- activations costed at their measured densities ---------------------------------------------

def test_measured_densities_of_weights_inputs_and_outputs_as_hand_derived():
    """Linear(2, 2) = identity (2 of 4 weights non-zero), ReLU, Linear(2, 1) = (1, 1); inputs (1, -1)
    and (2, 3). Layer 0: inputs 4/4, outputs (1, -1), (2, 3): 4/4, weights 2/4. Layer 2 reads
    relu: (1, 0), (2, 3): 3/4; its outputs 1 and 5: 2/2; weights 2/2."""
    from torch import nn

    from loopnest.codesign.pruning import measured_densities

    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(2))
        net[0].bias.zero_()
        net[2].weight.fill_(1.0)
        net[2].bias.zero_()
    spec = measured_densities(net, np.array([[1.0, -1.0], [2.0, 3.0]], np.float32))
    got = {n: {t: d.value for t, d in per.items()} for n, per in spec.layers.items()}
    assert got == {"0": {"weights": 0.5, "inputs": 1.0, "outputs": 1.0}, "2": {"weights": 1.0, "inputs": 0.75, "outputs": 1.0}}


def test_measured_activations_lower_the_energy_only_where_the_arch_exploits_them(digits_cache):
    """digits-cnn2 unpruned (budget 0, no fine-tuning), mapped with the rs dataflow: on eyeriss (no
    sparse feature) measured activation densities give exactly the dense energy; on eyeriss-rlc
    (RLC inputs/outputs at DRAM, zero-input gating) they give less, since ReLU zeros reach conv2 and fc."""
    from loopnest.arch import load_arch
    from loopnest.codesign.data import Split, Splits
    from loopnest.codesign.models import digits_workload
    from loopnest.codesign.pruning import run_prune

    module, _, data = digits_workload("digits-cnn2")
    data = Splits(Split(data.train.x[:240], data.train.y[:240]), data.calibration, data.test)
    energy = {}
    for arch in ("eyeriss", "eyeriss-rlc"):
        for act in ("dense", "measured"):
            study, _ = run_prune("magnitude", module, "digits-cnn2", data, load_arch(arch), 0.0, dataflow="rs",
                                 short_epochs=0, activations=act)
            energy[arch, act] = study["start"]["energy_pj"]
            assert study["settings"]["activations"] == act
    assert energy["eyeriss", "measured"] == energy["eyeriss", "dense"]
    assert energy["eyeriss-rlc", "measured"] < energy["eyeriss-rlc", "dense"]


def test_normal_equations_summed_over_chunks_equal_one_chunk(monkeypatch):
    """H and b over 6 images in one chunk equal their sums over smaller chunks (the memory bound), to
    float32 rounding (torch's forward pass of a smaller batch may round differently)."""
    from torch import nn

    from loopnest.codesign import local_fit as lf

    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, groups=2), nn.ReLU(), nn.Conv2d(4, 3, 3))
    x = torch.rand(6, 2, 6, 6)
    whole = lf._normal_equations(net, net, "2", x)
    monkeypatch.setattr(lf, "CHUNK_VALUES", 700)  # about one image of layer 2's 16 rows x 37 columns
    parts = lf._normal_equations(net, net, "2", x)
    for a, b in zip(whole, parts):
        assert a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-6)
    grouped = lf._normal_equations(net, net, "0", x)
    assert grouped[0].shape == (2, 10, 10) and grouped[1].shape == (4, 10)  # 2 groups of 1 channel x 3 x 3 + ones
