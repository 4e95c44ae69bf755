"""Objectives: energy, cycles, EDP, a weighted sum of them, or a lexicographic list.

Syntax: ``energy`` | ``cycles`` | ``edp`` | ``static`` | ``0.7*energy+0.3*cycles`` (weighted sum, weights >= 0)
| ``cycles,energy`` (lexicographic: cycles first, energy breaks ties). Every objective breaks its
remaining ties by energy, then cycles, then the mapper's fixed enumeration order, so results are
reproducible run to run. ``energy`` is the dynamic energy; ``static`` the leakage energy (the
architecture's ``leakage_mw`` times the runtime: pJ per cycle x cycles), so ``energy+static`` is
the total energy. Every metric is monotone in the energy and the cycles, so the mapper's floors of
both bound every objective.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

METRICS = ("energy", "cycles", "edp", "static")
_TERM = re.compile(r"^\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*\*\s*)?([a-z]+)\s*$")


class ObjectiveError(ValueError):
    """An objective string that cannot be parsed."""


@dataclass(frozen=True)
class Objective:
    """Lexicographic keys, each a weighted sum of metrics: ((("energy", 1.0),), ...)."""

    keys: tuple[tuple[tuple[str, float], ...], ...]
    text: str
    static_pj_per_cycle: float = 0.0  # the architecture's leakage energy per cycle (``static``)

    @staticmethod
    def parse(text: str) -> Objective:
        keys = []
        for part in text.split(","):
            terms = []
            for term in part.split("+"):
                m = _TERM.match(term)
                if not m or m.group(2) not in METRICS:
                    raise ObjectiveError(f"objective {text!r}: cannot read {term.strip()!r}; use one of {', '.join(METRICS)}, "
                                         "a weighted sum like 0.7*energy+0.3*cycles, or a lexicographic list like cycles,energy")
                terms.append((m.group(2), float(m.group(1) or 1.0)))
            keys.append(tuple(terms))
        return Objective(tuple(keys), text)

    @property
    def energy_only(self) -> bool:
        """True when the objective is energy alone (then loop orders of different levels can be
        chosen independently: the energy is a sum of per-level terms)."""
        return all(m == "energy" for key in self.keys for m, _ in key)

    def values(self, energy: np.ndarray, cycles: np.ndarray) -> np.ndarray:
        """(B, k) array of keys, the tie-breakers energy and cycles appended."""
        metric = {"energy": energy, "cycles": cycles, "edp": energy * cycles,
                  "static": np.asarray(cycles, float) * self.static_pj_per_cycle}
        cols = [sum(w * metric[m] for m, w in key) for key in self.keys]
        return np.stack([np.asarray(c, float) for c in cols] + [np.asarray(energy, float), np.asarray(cycles, float)], axis=1)


def better(a: np.ndarray, b: np.ndarray | None) -> bool:
    """Keys a strictly better than b (lexicographic); anything beats None."""
    if b is None:
        return True
    for x, y in zip(a, b):
        if x != y:
            return bool(x < y)
    return False


def better_rows(keys: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """Per row of ``keys`` (K, k): strictly better than ``b`` (lexicographic), vectorized."""
    if b is None:
        return np.ones(len(keys), bool)
    out = np.zeros(len(keys), bool)
    tied = np.ones(len(keys), bool)
    for j in range(keys.shape[1]):
        out |= tied & (keys[:, j] < b[j])
        tied &= keys[:, j] == b[j]
    return out
