"""Roofline (Williams, Waterman, Patterson, CACM 2009; seed 002) per memory level, in MACs.

Units: performance in MACs/cycle (1 MAC = 2 ops), operational intensity in MACs per word moved
at a level (words of the level's width), bandwidth in words/cycle.

- Compute roof: ``PEs / cycles_per_mac`` MACs/cycle.
- Port roofs: one roof per direction a level states a bandwidth for, because a roof must use the
  bandwidth its traffic actually uses: the read roof is ``instances * read_bw`` words/cycle
  times the read intensity ``MACs / reads``; the write roof ``instances * write_bw`` times
  ``MACs / (fills + updates)``. Reads and writes use separate ports (the model times them
  apart: its cycles are at least ``reads / (active * read_bw)`` and ``writes / (active *
  write_bw)`` with ``active <= instances``), so each roof bounds every achieved point and is
  reached where that port sets the cycles. Adding the two bandwidths (the former rule) gives a
  roof reachable only when the traffic splits exactly in their ratio: on the TPU v1 (34 GB/s
  read and write) it put the ridge at 675 MACs per byte, against the paper's 1,350 (weights
  are only read: 92e12 / 2 MACs/s / 34e9 B/s = 1,353).
- Roofs are named ``<level> read`` and ``<level> write``. A roof whose port moves nothing (every
  tensor bypasses the level, or nothing is written there) has no intensity (None) and no bound.
- Ops: 1 MAC = 2 ops (a multiply and an add), as the TPU paper's TOPS and ridge point count them.
- Dots: each layer's achieved MACs/cycle (the mapper's mapping) at its actual intensity per
  port; at the outermost level's ports also the compulsory intensity (every tensor moved once,
  the minimum; tensors held on chip between layers, ``resident``, never move there: on the TPU
  v1 this is MACs per weight byte, the paper's x-axis).
- Sparse layers (docs/sparsity.md) add the effective point: non-zero (actual) MACs per cycle at
  non-zero MACs per word the port actually moves (actual values plus metadata words, each
  ``metadata_bits / word_bits`` of a data word, as the model times the port). The model's cycles
  are at least those words over the port's bandwidth, so this point too lies under every roof.
"""

from __future__ import annotations

from dataclasses import dataclass

from loopnest.arch.spec import Architecture
from loopnest.workload.problem import ROLES, Problem


@dataclass(frozen=True)
class Roof:
    level: str
    bandwidth: float  # words/cycle, all instances, of this port
    direction: str  # "read" or "write"

    @property
    def name(self) -> str:
        return f"{self.level} {self.direction}"


def compute_roof(arch: Architecture) -> float:
    """Peak MACs/cycle."""
    return arch.pes / arch.compute.cycles_per_mac


def level_roofs(arch: Architecture) -> list[Roof]:
    """One roof per stated port (level and direction), outer level first, reads before writes."""
    return [Roof(lv.name, arch.instances(l) * bw, d) for l, lv in enumerate(arch.levels)
            for d, bw in (("read", lv.read_bandwidth), ("write", lv.write_bandwidth)) if bw is not None]


def traffic_words(record: dict, level: str, directions: tuple[str, ...] = ("read", "write")) -> int:
    """Words moved at ``level`` in a ``Result.to_dict()`` record: reads and/or fills + updates."""
    lv = next(x for x in record["levels"] if x["name"] == level)
    acts = (("reads",) if "read" in directions else ()) + (("fills", "updates") if "write" in directions else ())
    return sum(c[a] for c in lv["counts_words"].values() for a in acts)


def compulsory_words(problem: Problem, arch: Architecture | None = None, direction: str | None = None) -> int:
    """Every tensor moved once at the outermost level (padded inputs, as the model counts them):
    its minimum traffic. ``direction`` "read" counts inputs and weights, "write" the outputs, None
    all; tensors the architecture holds on chip between layers (``resident``) never move there."""
    roles = {"read": ("inputs", "weights"), "write": ("outputs",), None: ROLES}[direction]
    kept = arch.resident if arch is not None else ()
    return sum(problem.size(problem.tensor(r)) for r in roles if r not in kept)


def actual_words(record: dict, arch: Architecture, level: str, direction: str) -> float:
    """Data words a sparse record's port at ``level`` actually moves: the actual reads (or fills
    and updates) plus their metadata words times ``metadata_bits / word_bits``."""
    lv = next(x for x in arch.levels if x.name == level)
    ratio = lv.sparse.metadata_bits / lv.word_bits if lv.sparse is not None else 0.0
    acts = ("reads",) if direction == "read" else ("fills", "updates")
    per = record["sparse"]["levels"][level]
    return sum(c[a]["actual"] + c[a]["metadata_words"] * ratio for c in per.values() for a in acts)


def layer_point(record: dict, arch: Architecture, problem: Problem | None = None) -> dict:
    """A layer's achieved MACs/cycle and its intensity (MACs/word) at every roof (by roof name);
    with ``problem``, also the compulsory intensity at the outermost level's roofs; for a sparse
    record, also the effective point (non-zero MACs, the words actually moved)."""
    macs = record["macs"]
    intensity = {}
    for r in level_roofs(arch):
        words = traffic_words(record, r.level, (r.direction,))
        intensity[r.name] = macs / words if words else None  # nothing moves through that port: no bound
    point = {"layer": record["layer"], "macs": macs, "achieved_macs_per_cycle": macs / record["cycles"],
             "bound": record["bound"], "intensity_macs_per_word": intensity}
    if record.get("sparse") is not None:
        actual = record["actual_macs"]
        moved = {r.name: actual_words(record, arch, r.level, r.direction) for r in level_roofs(arch)}
        point |= {"actual_macs": actual, "achieved_actual_macs_per_cycle": actual / record["cycles"],
                  "actual_intensity_macs_per_word": {k: actual / w if w else None for k, w in moved.items()}}
    if problem is not None:
        least = {r.name: compulsory_words(problem, arch, r.direction) for r in level_roofs(arch) if r.level == arch.levels[0].name}
        point["compulsory_intensity_macs_per_word"] = {k: macs / w if w else None for k, w in least.items()}
    return point


def attainable(arch: Architecture, intensity: dict[str, float | None]) -> float:
    """The lowest roof at the given per-roof intensities (MACs/cycle; None: no traffic, no roof)."""
    roofs = {r.name: r for r in level_roofs(arch)}
    return min([compute_roof(arch)] + [roofs[l].bandwidth * i for l, i in intensity.items() if i is not None])


def roofline(records: list[dict], arch: Architecture, problems: list[Problem] | None = None) -> dict:
    """The roofline data of a set of evaluated layers (JSON-ready)."""
    problems = problems or [None] * len(records)
    return {
        "arch": arch.name,
        "units": {"performance": "MACs/cycle (1 MAC = 2 ops)", "intensity": "MACs/word through the roof's port",
                  "bandwidth": "words/cycle", "word_bits": {lv.name: lv.word_bits for lv in arch.levels}},
        "clock_mhz": arch.clock_mhz,
        "outermost_level": arch.levels[0].name,  # where the compulsory (minimum) traffic applies
        "compute_roof_macs_per_cycle": compute_roof(arch),
        "roofs": [{"name": r.name, "level": r.level, "direction": r.direction, "bandwidth_words_per_cycle": r.bandwidth,
                   "ridge_macs_per_word": compute_roof(arch) / r.bandwidth} for r in level_roofs(arch)],
        "layers": [layer_point(rec, arch, p) for rec, p in zip(records, problems)],
    }
