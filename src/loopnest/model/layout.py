"""Array layout helpers of the counts: batch-innermost rows, loop positions and loop keys."""

from __future__ import annotations

import math

import numpy as np


def _pack_keys(pos: np.ndarray, T: np.ndarray, kb: int, dt) -> np.ndarray:
    """key = position << kb | bound for a real loop (bound > 1), -1 for a loop of bound 1: the
    largest key over some dimensions of a level is their innermost real loop, and its low ``kb``
    bits are that loop's bound (``limits._key_bits`` says that kb bits hold every bound)."""
    key = pos.astype(dt)
    key <<= kb
    key |= T
    real = T > 1
    key *= real
    key -= ~real
    return key


def _rows(a: np.ndarray, dt, rows: list[int] | None = None) -> np.ndarray:
    """Columns ``rows`` (default all) of ``a`` (B, ...) flattened after the batch axis, as
    contiguous rows (len(rows), B) of ``dt``: a cast, then a gather of the transposed view
    (faster than a transposing cast, whose result keeps the batch-major layout)."""
    flat = a.reshape(len(a), math.prod(a.shape[1:])).astype(dt).T
    return flat[range(len(flat)) if rows is None else rows]


def _positions(perm: np.ndarray, keep: list[int]) -> np.ndarray:
    """(L, len(keep), B): the position of each kept dimension in its level's loop order, from
    ``perm`` (B, L, D), a permutation per level. The positions are packed into one integer
    per level and mapping (a field of w bits per dimension), which beats a scatter."""
    B, L, D = perm.shape
    w = max(1, (D - 1).bit_length())
    if D * w > 64:  # too many dimensions to pack: scatter
        pos = np.empty((B * L, D), np.int64)
        np.put_along_axis(pos, perm.reshape(B * L, D), np.arange(D)[None, :], axis=1)
        return pos.reshape(B, L, D)[:, :, keep].transpose(1, 2, 0)
    ut = np.uint32 if D * w <= 32 else np.uint64
    at = _rows(perm, np.uint8).reshape(L, D, B)  # at[l, k]: the dimension at position k
    at *= w  # -> the offset of its field
    code = np.zeros((L, B), ut)
    for k in range(1, D):
        code |= np.left_shift(ut(k), at[:, k])
    return (code[:, None, :] >> np.array([d * w for d in keep], ut)[None, :, None]) & ut((1 << w) - 1)
