"""Distinct positions read on one tensor axis indexed by two dimensions, ``c1 * x + c2 * y`` (a
window at a stride, a dilated window), for ``strided_windows: positions``.

Rule (exact where, after dividing both coefficients by ``g = gcd(c1, c2)``, one of them is 1:
every stride and dilation where one divides the other, the layers that exist). Call ``u`` the
dimension of reduced coefficient 1 and ``w`` the other, of reduced coefficient ``m``. Over a box
of ``t_u`` by ``t_w`` values the positions read are, in units of ``g``, the ``t_w`` intervals
``[m j, m j + t_u)``:

- count: ``t_u + (t_w - 1) * min(m, t_u)`` (the intervals merge into the hull where ``t_u >= m``,
  else they are disjoint: ``t_w * t_u``);
- the positions a box shares with itself shifted by ``v`` positions (``v`` a multiple of ``g``:
  one step of a loop over ``x`` or ``y``), ``s = v / g``: the merged interval of ``n`` positions
  shares ``max(0, n - s)``; disjoint intervals ``I_j`` and ``I_j' + s`` share
  ``max(0, t_u - |m (j - j') - s|)``, nonzero only for ``j - j'`` = ``s // m`` or ``s // m + 1``
  (``t_u < m``), each difference ``d`` taken by ``t_w - |d|`` pairs.

A step's new positions are the count less that overlap. Where neither reduced coefficient is 1
(stride 2 with dilation 3) the hull is kept (``exact`` is False): those counts are the hull's,
an over-count, as in ``hull`` mode. Works on integers and NumPy integer arrays alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np


@dataclass(frozen=True)
class TwoTermAxis:
    """An axis ``c1 * x + c2 * y``: ``u``/``w`` are 0 or 1 (which term is ``x``), ``m`` the reduced
    coefficient of ``w``, ``g`` the common factor; ``exact`` False where no reduced coefficient is 1."""

    u: int
    w: int
    m: int
    g: int
    exact: bool

    @staticmethod
    def of(c1: int, c2: int) -> "TwoTermAxis":
        g = gcd(c1, c2)
        a1, a2 = c1 // g, c2 // g
        if a1 == 1:
            return TwoTermAxis(0, 1, a2, g, True)
        return TwoTermAxis(1, 0, a1, g, a2 == 1)

    def count(self, t1, t2):
        """Distinct positions of a box of ``t1`` by ``t2`` values of the two terms."""
        tu, tw = (t1, t2) if self.u == 0 else (t2, t1)
        return tu + (tw - 1) * np.minimum(self.m, tu)

    def new(self, t1, t2, shift):
        """Positions a box of ``t1`` by ``t2`` reads that the same box ``shift`` positions back
        did not (``shift`` a multiple of ``g``, >= 0)."""
        tu, tw = (t1, t2) if self.u == 0 else (t2, t1)
        n = tu + (tw - 1) * np.minimum(self.m, tu)
        s = shift // self.g
        merged = np.maximum(0, n - s)
        d0 = s // self.m
        apart = 0
        for d in (d0, d0 + 1):
            apart = apart + np.maximum(0, tw - d) * np.maximum(0, tu - np.abs(self.m * d - s))
        return n - np.where(tu >= self.m, merged, apart)
