"""The synetgy suite: DiracDeltaNet's published size figures (Yang et al., Synetgy, FPGA 2019, arXiv
1811.08634: abstract "42x fewer parameters and 48x fewer OPs than VGG16"; 47.09 GOP/s at 66.3 fps on
the Ultra96, its Tables 5-7 as transcribed in a public literature table) against hand counts of the
zoo's networks: VGG-16 configuration D (Simonyan and Zisserman, 2015) and DiracDeltaNet as its public
reference code builds it (github.com/Yang-YiFan/DiracDeltaNet, models/diracdeltanet.py, train.py
defaults: expansion 2, base 116 channels, blocks 4/8/4; 224 -> 2x2/2 pad-1 pools -> 113 -> 57)."""

import json

import pytest
from typer.testing import CliRunner

from loopnest.cli import app


def vgg16_by_hand() -> tuple[int, int]:
    """VGG-16's MACs and weights: 3x3 convolutions (same padding) on 224, 112, 56, 28, 14, then 3 FCs."""
    macs = weights = 0
    C = 3
    for size, M, n in ((224, 64, 2), (112, 128, 2), (56, 256, 3), (28, 512, 3), (14, 512, 3)):
        for _ in range(n):
            macs += size * size * M * C * 9
            weights += M * C * 9
            C = M
    for fan_in, fan_out in ((512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)):
        macs += fan_in * fan_out
        weights += fan_in * fan_out
    return macs, weights


def dirac_by_hand() -> tuple[int, int]:
    """DiracDeltaNet's MACs and weights, every layer a 1x1 convolution (C x M weights, C x M x H x W MACs)."""
    layers = [(3, 32, 224), (32, 64, 113)]  # (C, M, output side): conv1, conv2 after pool1
    # layer1.0 (57 -> 28): 64 split in halves; shortcut pool + conv 32 -> 58; conv1 32 -> 116 on 57; conv3 116 -> 58 on 28
    layers += [(32, 58, 28), (32, 116, 57), (116, 58, 28)]
    layers += [(58, 116, 28), (116, 58, 28)] * 3
    for C, side in ((116, 14), (232, 7)):  # layer2.0, layer3.0: both branches read the whole input
        layers += [(C, C, side), (C, 2 * C, 2 * side), (2 * C, C, side)]
        layers += [(C, 2 * C, side), (2 * C, C, side)] * (7 if C == 116 else 3)
    layers.append((464, 1024, 7))
    macs = sum(C * M * s * s for C, M, s in layers) + 1024 * 1000
    weights = sum(C * M for C, M, _ in layers) + 1024 * 1000
    return macs, weights


def test_hand_counts_are_the_known_totals():
    # VGG-16: the well-known 15.47 G MACs and 138.34 M weights (138,357,544 parameters less 13,416 biases)
    assert vgg16_by_hand() == (15_470_264_320, 138_344_128)
    # DiracDeltaNet: docs/workload.md's 269.2M MACs and 2.913M weights
    assert dirac_by_hand() == (269_229_440, 2_913_000)


def test_suite_against_the_published_figures():
    out = CliRunner().invoke(app, ["validate", "--json", "--suite", "synetgy"])
    assert out.exit_code == 0, out.output
    params, ops, per_frame = json.loads(out.output)["cases"]
    (vgg_macs, vgg_weights), (macs, weights) = vgg16_by_hand(), dirac_by_hand()
    assert (params["expected"], params["got"]) == (42, pytest.approx(vgg_weights / weights, rel=1e-12))
    assert (ops["expected"], ops["got"]) == (48, pytest.approx(vgg_macs / macs, rel=1e-12))
    assert per_frame["expected"] == pytest.approx(47.09 / 66.3, rel=1e-12)
    assert per_frame["got"] == pytest.approx(2 * macs / 1e9, rel=1e-12)
    assert params["tolerance"] == pytest.approx(0.5 / 42) and ops["tolerance"] == pytest.approx(0.5 / 48)
    assert per_frame["tolerance"] == pytest.approx(0.005 / 47.09 + 0.05 / 66.3)
    # the reference code's network is smaller than the paper's in all three figures
    assert {c["status"] for c in (params, ops, per_frame)} == {"outside tolerance"}
    assert params["got"] > 42 and ops["got"] > 48 and per_frame["got"] < per_frame["expected"]
