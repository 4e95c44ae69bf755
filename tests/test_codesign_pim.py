"""PIM non-idealities on the accuracy harness (loopnest.codesign.pim), on hand-made modules whose
outputs are known by hand."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from loopnest.codesign import CodesignError
from loopnest.codesign.pim import Adc, Noise, pim_accuracy, pim_module
from loopnest.workload.precision import PrecisionError


def _bias_only(bias: float, n: int = 4):
    """A Linear layer with zero weights: its output is its bias, so any spread is the noise."""
    m = nn.Linear(3, n)
    nn.init.zeros_(m.weight)
    nn.init.constant_(m.bias, bias)
    return nn.Sequential(m)


def _data(rows: int = 20000):
    x = np.zeros((rows, 3), np.float32)
    return x, np.zeros(rows, np.int64)


def test_fixed_noise_has_its_sigma():
    x, _ = _data()
    noisy = pim_module(_bias_only(2.0), _data(10), noise=Noise(0.3), seed=1)
    with torch.no_grad():
        out = noisy(torch.as_tensor(x))
    assert float(out.mean()) == pytest.approx(2.0, abs=0.01)
    assert float(out.std()) == pytest.approx(0.3, rel=0.02)


def test_rescaled_noise_scales_with_the_largest_output():
    # max |output| on the calibration data is the bias, 2.0: standard deviation 0.1 * 2.0
    x, _ = _data()
    noisy = pim_module(_bias_only(-2.0), _data(10), noise=Noise(0.1, "rescaled"), seed=1)
    with torch.no_grad():
        out = noisy(torch.as_tensor(x))
    assert float(out.std()) == pytest.approx(0.2, rel=0.02)


def test_seeded_and_spread():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4))
    x = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 4, 200)
    a = pim_accuracy(m, (x, y), (x, y), noise=Noise(1.0), seeds=(0, 1, 2))
    b = pim_accuracy(m, (x, y), (x, y), noise=Noise(1.0), seeds=(0, 1, 2))
    assert a == b and len(a["values"]) == 3
    assert a["std"] > 0
    clean = pim_accuracy(m, (x, y), (x, y), noise=Noise(0.0), seeds=(0, 1, 2))
    assert clean["std"] == 0 and len(clean["values"]) == 1


def test_adc_reads_each_arrays_partial_sum():
    # 256 inputs, all weights 1, arrays of 128 rows: two partial sums. Calibration with all
    # inputs 1 sets each ADC's full scale to 128. An 8-bit symmetric ADC has 127 steps of
    # 128/127: the first array's sum 128 reads 128 exactly, the second's 64 reads
    # round(64 * 127/128 = 63.5) = 64 steps (half to even) = 64 * 128/127.
    lin = nn.Linear(256, 1, bias=False)
    nn.init.ones_(lin.weight)
    m = nn.Sequential(lin)
    cal = (np.ones((1, 256), np.float32), np.zeros(1, np.int64))
    x = np.concatenate([np.ones(128), np.ones(64), np.zeros(64)]).astype(np.float32)[None]
    out = pim_module(m, cal, adc=Adc(8, 128))(torch.as_tensor(x))
    assert float(out.detach()) == pytest.approx(128 + 64 * 128 / 127)
    exact = pim_module(m, cal, adc=Adc(8, 256))(torch.as_tensor(x))  # one array: 192 of 255 steps of 256/127
    assert float(exact.detach()) == pytest.approx(round(192 * 127 / 256) * 256 / 127)


def test_adc_conv_matches_plain_conv_at_high_resolution():
    torch.manual_seed(0)
    conv = nn.Conv2d(20, 4, 3, padding=1)
    m = nn.Sequential(conv)
    x = torch.randn(2, 20, 6, 6)
    cal = (x.numpy(), np.zeros(2, np.int64))
    out = pim_module(m, cal, adc=Adc(24, 36))(x)  # 36 rows: 4 channels of 3x3 per array, 5 arrays
    assert torch.allclose(out, m(x), atol=1e-4)


def test_weight_bits_reuse_the_uniform_quantizer():
    lin = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -0.2]]))
    m = pim_module(nn.Sequential(lin), _data(2), weight_bits=2)
    # 2-bit symmetric, signed weights: levels -1, 0, 1 times max|w| = 1: -0.2 rounds to 0
    assert float(m(torch.tensor([[1.0, 1.0]])).detach()) == pytest.approx(1.0)


@pytest.mark.parametrize("bad,match", [(lambda: Noise(-0.1), r"--sigma: a noise standard deviation must be a finite number >= 0, got -0.1"),
                                       (lambda: Noise(0.1, "relative"), r"--noise: 'relative' is not one of fixed, rescaled"),
                                       (lambda: Adc(8, 0), r"ADC rows: an integer >= 1, got 0")])
def test_bad_input_one_line(bad, match):
    with pytest.raises(CodesignError, match=match) as e:
        bad()
    assert "\n" not in str(e.value)


def test_adc_of_one_bit_is_refused():
    with pytest.raises(PrecisionError, match="from 2 to"):
        Adc(1, 128)
