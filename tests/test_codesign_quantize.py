"""Quantizers against hand-derived values from the defining papers' formulas (sources in
loopnest/codesign/quantize.py): uniform (Jacob et al. 2018, eq. 1), log (Miyashita et al. 2016,
eq. 3), binary weights (Rastegari et al. 2016), ternary weights (Li, Zhang and Liu 2016)."""

import pytest

torch = pytest.importorskip("torch")

from loopnest.codesign.quantize import Binary, Log, Ternary, Uniform, value_range
from loopnest.workload.precision import PrecisionError


def q(quantizer, values, per_channel=False):
    x = torch.tensor(values, dtype=torch.float32)
    lo, hi = value_range(x, per_channel)
    return quantizer.quantize(x, lo, hi).tolist()


def test_uniform_symmetric_signed():
    # range [-0.9, 3]: scale = 3 / (2^2 - 1) = 1 for 3 bits; 0.4 -> 0, -0.9 -> -1, 1.6 -> 2, 3 -> 3
    assert q(Uniform(3), [-0.9, 0.4, 1.6, 3.0]) == [-1.0, 0.0, 2.0, 3.0]


def test_uniform_symmetric_unsigned_uses_all_levels():
    # ReLU-like data, range [0, 3], 2 bits: levels 0..3 with scale 3 / (2^2 - 1) = 1
    assert q(Uniform(2), [0.0, 1.4, 2.6, 3.0]) == [0.0, 1.0, 3.0, 3.0]


def test_uniform_asymmetric_zero_point():
    # range [-0.5, 1], 2 bits: scale = 1.5 / 3 = 0.5, zero point round(0.5 / 0.5) = 1; grid -0.5, 0, 0.5, 1
    assert q(Uniform(2, symmetric=False), [-0.5, 0.2, 0.8, 1.0]) == [-0.5, 0.0, 1.0, 1.0]


def test_uniform_per_channel_scales_each_output_channel():
    # channel 0 range [-1, 0.4] -> scale 1/3 (3 bits); channel 1 range [-1, 4] -> scale 4/3
    w = [[[0.4, -1.0]], [[4.0, -1.0]]]
    per_channel = torch.tensor(q(Uniform(3, per_channel=True), w, per_channel=True))
    per_tensor = torch.tensor(q(Uniform(3), w))
    assert torch.allclose(per_channel, torch.tensor([[[1 / 3, -1.0]], [[4.0, -4 / 3]]]))
    assert torch.allclose(per_tensor, torch.tensor([[[0.0, -4 / 3]], [[4.0, -4 / 3]]]))


@pytest.mark.parametrize("bits", [2, 3, 4, 6])
def test_uniform_level_counts(bits):
    x = torch.linspace(-3, 3, 5000)  # dense: every level of the grid is hit
    assert len(set(q(Uniform(bits), x.tolist()))) == 2 ** bits - 1  # symmetric signed: one code unused
    assert len(set(q(Uniform(bits, symmetric=False), x.tolist()))) == 2 ** bits


def test_log_rounds_in_the_log_domain_and_zeroes_below_the_lowest_level():
    # 4 bits signed: 2^3 - 1 = 7 exponents; max |x| = 3 -> e_max = round(log2 3) = 2, e_min = -4.
    # 0.3 -> 2^round(-1.74) = 0.25; -0.7 -> -2^round(-0.51) = -0.5; 3 -> 4; 0.01 -> 2^-7 < 2^-4 -> 0
    assert q(Log(4), [0.3, -0.7, 3.0, 0.01]) == [0.25, -0.5, 4.0, 0.0]
    # unsigned 2 bits: 3 exponents 2, 1, 0 below e_max = 2 (max 3): 0.3 -> 2^-2 is below 2^0 -> 0
    assert q(Log(2), [0.3, 0.9, 3.0]) == [0.0, 1.0, 4.0]


def test_binary_weights_scaled_by_mean_magnitude():
    w = [[0.5, -1.5], [2.0, -0.5]]
    assert q(Binary(), w) == [[1.125, -1.125], [1.125, -1.125]]  # mean |w| = 4.5 / 4
    assert q(Binary(per_channel=True), w, per_channel=True) == [[1.0, -1.0], [1.25, -1.25]]


def test_ternary_threshold_and_scale():
    # mean |w| = 4.2 / 5 = 0.84, delta = 0.7 * 0.84 = 0.588; kept 1.0, -2.0, 0.9: alpha = 3.9 / 3 = 1.3
    out = torch.tensor(q(Ternary(), [1.0, -0.1, -2.0, 0.2, 0.9]))
    assert torch.allclose(out, torch.tensor([1.3, 0.0, -1.3, 0.0, 1.3]))


def test_all_zero_tensor_stays_zero():
    for quantizer in (Uniform(4), Uniform(4, symmetric=False), Log(4), Binary(), Ternary()):
        assert q(quantizer, [0.0, 0.0]) == [0.0, 0.0]


@pytest.mark.parametrize("make", [lambda: Uniform(0), lambda: Uniform(33), lambda: Uniform(4.5), lambda: Uniform(True),
                                  lambda: Uniform(1), lambda: Log(1)])
def test_bad_bit_widths_rejected_at_construction(make):
    with pytest.raises(PrecisionError, match="bit width must be an integer"):
        make()
