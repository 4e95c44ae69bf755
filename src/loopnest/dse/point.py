"""One sweep point: an architecture (as data), one workload, the mapper settings -> one result row.

``evaluate_point`` is a pure function of its ``Point`` (no clock, no randomness beyond the
mapper's seed), so every executor gives the same row. A point that cannot be evaluated (the
architecture fails validation, or a layer fits nowhere) gives a row with ``status`` ``invalid``
and the reason; it is never dropped. Its energy and cycles are the network's totals with the
non-MAC operators (pooling, element-wise, and the copies of shifts and shuffles;
``model.elementwise``) added to the MAC layers', exactly as ``evaluate`` reports them
("with_element_ops"); the operators' share is in its own columns. The row's key is a content hash of everything the result
depends on: the architecture's data, the workload, the mapper settings and the loopnest version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import loopnest

METRICS = ("energy_pj", "cycles", "area_um2", "edp", "utilization")


@dataclass(frozen=True)
class Point:
    """``arch`` is the architecture's data after the axis values are applied; ``params`` the
    axis values (for the report only: they are already in ``arch``)."""

    index: int
    params: tuple[tuple[str, Any], ...]
    arch: str  # canonical JSON of the architecture data (hashable, picklable, exact)
    table: str | None
    model: str
    batch: int
    mode: str
    objective: str
    dataflow: str | None  # None: the architecture's own; "none": no dataflow constraint
    seed: int
    remainder_folds: bool = False  # search partial last folds too (search_layer); in the key only when on

    @property
    def key(self) -> str:
        """SHA-256 of the canonical JSON of (architecture, table, workload, mapper, version);
        ``remainder_folds`` only when on, so the keys of points without it are those stored before it."""
        content = {"arch": json.loads(self.arch), "table": self.table, "model": self.model, "batch": self.batch,
                   "mapper": {"mode": self.mode, "objective": self.objective, "dataflow": self.dataflow,
                              "seed": self.seed, **({"remainder_folds": True} if self.remainder_folds else {})},
                   "loopnest": loopnest.__version__}
        return hashlib.sha256(canonical(content).encode()).hexdigest()


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def evaluate_point(point: Point) -> dict:
    """The result row of ``point`` (see ``loopnest.dse.store`` for the columns)."""
    from loopnest.arch.loader import ArchSpecError, parse_arch
    from loopnest.mapping.constraints import ConstraintError
    from loopnest.model import CountLimitError
    from loopnest.search.network import map_network
    from loopnest.search.summary import element_ops, layer_row, totals
    from loopnest.workload import load_network

    row: dict[str, Any] = {"key": point.key, "point": point.index, "params": canonical(dict(point.params)),
                           "model": point.model, "batch": point.batch, "status": "invalid", "reason": None,
                           **{m: None for m in METRICS}, "energy_units": None, "energy_by_level": None,
                           "layers": None, "element_ops_energy_pj": None, "element_ops_cycles": None}
    try:
        arch = parse_arch(json.loads(point.arch), source="architecture", table=point.table)
    except ArchSpecError as e:
        row["reason"] = str(e)
        return row
    row["area_um2"] = arch.total_area_um2
    row["energy_units"] = arch.energy_units
    dataflow = point.dataflow if point.dataflow is not None else arch.dataflow
    if dataflow is not None and dataflow.lower() == "none":
        dataflow = None
    network = load_network(point.model, batch=point.batch)
    row["layers"] = len(network.layers)
    try:
        net = map_network(network, arch, dataflow and dataflow.lower(), None, point.objective, point.mode,
                          point.seed, jobs=1, remainder_folds=point.remainder_folds)
    except (CountLimitError, ConstraintError) as e:  # the point's own trouble: recorded, not raised
        row["reason"] = str(e)
        return row
    if net.unmapped:
        lo = net.unmapped[0]
        more = len(net.unmapped) - 1
        row["reason"] = f"layer {lo.name}: no valid mapping: {lo.search.reason}" + (f" (and {more} more layers)" if more else "")
        return row
    tot = totals(net, [layer_row(lo) for lo in net.mapped])
    costs, ops = element_ops(net)
    by_level = dict(tot["energy_by_level_pj"])
    for c in costs:
        for level, e in c["energy_by_level_pj"].items():
            by_level[level] = by_level.get(level, 0.0) + e
    energy = tot["energy_pj"] + ops.get("energy_pj", 0.0)  # evaluate's totals "with_element_ops"
    cycles = tot["cycles"] + ops.get("cycles", 0.0)
    row.update(status="ok", energy_pj=energy, cycles=cycles, edp=energy * cycles, utilization=tot["utilization"],
               element_ops_energy_pj=ops.get("energy_pj"), element_ops_cycles=ops.get("cycles"),  # None: not costed
               energy_by_level=canonical(by_level))
    return row
