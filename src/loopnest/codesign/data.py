"""Data for the accuracy harness: arrays (or a torch DataLoader) of inputs and labels, and
scikit-learn's handwritten digits split into train / calibration / test.

The digits ship inside scikit-learn (1,797 8x8 images, 16 grey levels): nothing is downloaded.
Each pixel is repeated 2x2 to give 16x16 images scaled to [0, 1]. The split is stratified by
class and seeded, so every run sees the same images in the same split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loopnest.codesign import CodesignError

SPLIT_SEED = 0
TEST_FRACTION = 0.25  # of all 1,797 images: 450 held out for testing
CALIBRATION_FRACTION = 0.10  # of all images: 180 for post-training calibration and searches


@dataclass(frozen=True)
class Split:
    """Inputs ``x`` (float32, N x 1 x H x W) and integer labels ``y`` (N,)."""

    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise CodesignError(f"dataset: {len(self.x)} inputs but {len(self.y)} labels")

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Splits:
    """A data set as the studies use it: ``train`` (fine-tuning), ``calibration`` (activation
    ranges, and the selection in searches) and ``test`` (the accuracy reported). Each is a
    :class:`Split`, a pair of arrays ``(x, y)`` or a torch DataLoader."""

    train: object
    calibration: object
    test: object


def load_digits(size: int = 16, seed: int = SPLIT_SEED) -> Splits:
    """The digits as ``size`` x ``size`` images (size a multiple of 8), split train / calibration / test."""
    try:
        from sklearn.datasets import load_digits as sk_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise CodesignError("the digits data set needs scikit-learn (pip install 'loopnest[codesign]')") from None
    if size % 8:
        raise CodesignError(f"digits size: a multiple of 8 (the images are 8x8), got {size}")
    d = sk_digits()
    r = size // 8
    x = (d.images.repeat(r, axis=1).repeat(r, axis=2) / 16.0).astype(np.float32)[:, None]
    y = d.target.astype(np.int64)
    n = len(y)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=round(TEST_FRACTION * n), random_state=seed, stratify=y)
    x_train, x_cal, y_train, y_cal = train_test_split(x_rest, y_rest, test_size=round(CALIBRATION_FRACTION * n),
                                                      random_state=seed, stratify=y_rest)
    return Splits(Split(x_train, y_train), Split(x_cal, y_cal), Split(x_test, y_test))
