"""Pareto fronts: the points no other point dominates, every metric minimized.

``a`` dominates ``b`` when ``a <= b`` in every metric and ``a < b`` in at least one. Equal points
do not dominate each other, so duplicates on the front are all kept.
"""

from __future__ import annotations

import numpy as np

METRIC_COLUMNS = {"energy": "energy_pj", "latency": "cycles", "area": "area_um2", "edp": "edp"}


def pareto_front(values: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the non-dominated rows of ``values`` (n points x k metrics)."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError(f"values must be a 2-D array (points x metrics), got shape {v.shape}")
    order = np.lexsort(v.T[::-1])  # by the first metric, ties by the next: a dominator comes first
    keep: list[int] = []
    front = np.empty((0, v.shape[1]))
    for i in order:
        p = v[i]
        if len(front) and np.any(np.all(front <= p, axis=1) & np.any(front < p, axis=1)):
            continue
        keep.append(int(i))
        front = np.vstack([front, p])
    return np.sort(np.array(keep, dtype=int))


def parse_metrics(text: str) -> list[str]:
    """``energy,latency`` -> the store columns; two or three distinct names of ``METRIC_COLUMNS``."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in METRIC_COLUMNS]
    if bad or not 2 <= len(names) <= 3 or len(set(names)) != len(names):
        raise ValueError(f"{text!r}: give two or three distinct metrics of {', '.join(METRIC_COLUMNS)}")
    return [METRIC_COLUMNS[n] for n in names]
