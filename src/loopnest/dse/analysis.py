"""Analysis of stored sweep rows: Pareto fronts per workload and the sensitivity of each metric to
each axis.

Sensitivity is a main effect (as in a one-factor-at-a-time reading of a full grid): for one
workload, one axis and one metric, the valid rows are grouped by the axis's value; each group's
metric is summarized by its geometric mean (the other axes' values averaged out on a ratio scale,
since metrics span orders of magnitude); the sensitivity is the largest group's mean over the
smallest's (1.0: the metric does not move with this axis). Example: metric = a * b on the grid
a in {1, 2}, b in {1, 3}: the groups a=1 -> sqrt(1*3), a=2 -> sqrt(2*6), ratio 2.0.
"""

from __future__ import annotations

import json
import math

import numpy as np

from loopnest.dse.pareto import pareto_front


def by_workload(rows: list[dict]) -> dict[tuple[str, int], list[dict]]:
    """The valid rows (status ok) of each (model, batch), in the given order."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        if r["status"] == "ok":
            groups.setdefault((r["model"], r["batch"]), []).append(r)
    return groups


def front_rows(rows: list[dict], metrics: list[str]) -> list[dict]:
    """The valid rows on the Pareto front of their own workload over ``metrics`` (store columns)."""
    out = []
    for group in by_workload(rows).values():
        values = np.array([[r[m] for m in metrics] for r in group], dtype=float)
        out += [group[i] for i in pareto_front(values)]
    return out


def axis_effects(group: list[dict], axis: str, metric: str) -> list[tuple[object, float]]:
    """(axis value, geometric mean of ``metric`` over the rows with that value), values in first-seen
    order; rows whose metric is not positive are left out (a geometric mean needs > 0)."""
    logs: dict[str, list[float]] = {}
    shown: dict[str, object] = {}
    for r in group:
        if axis not in r["params"] or r[metric] is None or not r[metric] > 0:
            continue
        v = r["params"][axis]
        key = json.dumps(v)
        shown.setdefault(key, v)
        logs.setdefault(key, []).append(math.log(r[metric]))
    return [(shown[k], math.exp(sum(x) / len(x))) for k, x in logs.items()]


def sensitivity(rows: list[dict], metrics: list[str]) -> list[dict]:
    """One entry per (workload, axis with two or more values, metric): the ratio of the largest to
    the smallest per-value geometric mean, and the axis values where the metric is lowest and highest."""
    out = []
    for (model, batch), group in by_workload(rows).items():
        axes = list(dict.fromkeys(k for r in group for k in r["params"]))
        for axis in axes:
            for metric in metrics:
                eff = axis_effects(group, axis, metric)
                if len(eff) < 2:
                    continue
                lo = min(eff, key=lambda e: e[1])
                hi = max(eff, key=lambda e: e[1])
                out.append({"model": model, "batch": batch, "axis": axis, "metric": metric, "ratio": hi[1] / lo[1],
                            "lowest_at": lo[0], "highest_at": hi[0]})
    return out
