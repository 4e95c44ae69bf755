"""The search's array helpers against NumPy's own (slower) forms."""

from __future__ import annotations

import numpy as np
import pytest

from loopnest.search.arrays import ascending, segments, unique_rows


@pytest.mark.parametrize(("shape", "high", "kind"), [((1000, 5), 4, int), ((20000, 7), 50, int), ((500, 6), 2, bool),
                                                    ((10, 3), 2, int), ((0, 3), 2, int), ((5, 0), 1, int)])
def test_unique_rows_is_numpys_unique_by_rows(shape, high, kind):
    a = np.random.default_rng(1).integers(0, high, size=shape).astype(kind)
    want, inverse = np.unique(a, axis=0, return_inverse=True)
    got, got_inverse = unique_rows(a)
    assert got.shape == want.shape and (got == want).all()
    assert (got_inverse == inverse.ravel()).all()


def test_ascending_is_pythons_sort_of_the_rows():
    keys = np.random.default_rng(2).integers(0, 3, size=(200, 3)).astype(float)
    want = sorted(range(len(keys)), key=lambda i: (tuple(keys[i]), i))  # stable: ties keep row order
    assert ascending(keys).tolist() == want


def test_segments_lists_every_member_of_every_row():
    counts = np.array([2, 0, 3, 1])
    row, index = segments(counts)
    want = [(i, j) for i, c in enumerate(counts) for j in range(c)]  # by hand: (0,0) (0,1) (2,0) (2,1) (2,2) (3,0)
    assert list(zip(row.tolist(), index.tolist())) == want
