"""Array helpers of the search."""

from __future__ import annotations

import math

import numpy as np


def unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(a, axis=0, return_inverse=True)`` of a 2-D integer or boolean array, with the
    same result (rows in lexicographic order, the inverse flat) through one integer key per row:
    each column's value ranks in mixed radix, column 0 most significant. One 1-D sort of the
    keys instead of a sort of rows (several times faster on large arrays)."""
    cols = [np.unique(a[:, j], return_inverse=True) for j in range(a.shape[1])]
    if not len(a) or math.prod(len(v) for v, _ in cols) >= 1 << 62:
        uniq, inverse = np.unique(a, axis=0, return_inverse=True)
        return uniq, inverse.ravel()
    key = np.zeros(len(a), np.int64)
    for values, rank in cols:
        key = key * len(values) + rank.ravel()
    keys, inverse = np.unique(key, return_inverse=True)
    row = np.empty(len(keys), np.int64)
    row[inverse] = np.arange(len(a))  # a row holding each key
    return a[row], inverse.ravel()


def ascending(keys: np.ndarray) -> np.ndarray:
    """Row order of lexicographic keys (K, k), least first."""
    return np.lexsort(tuple(keys[:, k] for k in range(keys.shape[1] - 1, -1, -1)))


def segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows with ``counts[i]`` members each: every member's row and its index in the row."""
    row = np.repeat(np.arange(len(counts)), counts)
    return row, np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
