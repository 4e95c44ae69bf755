"""The search's array helpers against NumPy's own (slower) forms."""

from __future__ import annotations

import numpy as np
import pytest

from loopnest.search.arrays import unique_rows


@pytest.mark.parametrize(("shape", "high", "kind"), [((1000, 5), 4, int), ((20000, 7), 50, int), ((500, 6), 2, bool),
                                                    ((10, 3), 2, int), ((0, 3), 2, int), ((5, 0), 1, int)])
def test_unique_rows_is_numpys_unique_by_rows(shape, high, kind):
    a = np.random.default_rng(1).integers(0, high, size=shape).astype(kind)
    want, inverse = np.unique(a, axis=0, return_inverse=True)
    got, got_inverse = unique_rows(a)
    assert got.shape == want.shape and (got == want).all()
    assert (got_inverse == inverse.ravel()).all()
