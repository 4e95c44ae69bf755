"""Roofline (Williams, Waterman, Patterson, CACM 2009; seed 002) per memory level, in MACs.

Units: performance in MACs/cycle (1 MAC = 2 ops), operational intensity in MACs per word moved
at a level (words of the level's width), bandwidth in words/cycle.

- Compute roof: ``PEs / cycles_per_mac`` MACs/cycle.
- Level roof: ``instances * (read_bw + write_bw)`` words/cycle times the intensity
  ``MACs / (reads + fills + updates)`` (only the directions with a stated bandwidth count).
  It bounds the model exactly: the model's cycles are at least ``reads / (active * read_bw)``
  and ``writes / (active * write_bw)`` with ``active <= instances``, and
  ``max(R/a, W/b) >= (R + W)/(a + b)``, so no achieved point lies above any roof.
- A level where nothing moves (every tensor bypasses it) has no intensity (None) and no roof.
- Dots: each layer's achieved MACs/cycle (the mapper's mapping) at its actual intensity per
  level; for DRAM also the compulsory intensity (every tensor moved once, the minimum).
"""

from __future__ import annotations

from dataclasses import dataclass

from loopnest.arch.spec import Architecture
from loopnest.workload.problem import ROLES, Problem


@dataclass(frozen=True)
class Roof:
    level: str
    bandwidth: float  # words/cycle, all instances, the directions in ``directions``
    directions: tuple[str, ...]  # "read", "write"


def compute_roof(arch: Architecture) -> float:
    """Peak MACs/cycle."""
    return arch.pes / arch.compute.cycles_per_mac


def level_roofs(arch: Architecture) -> list[Roof]:
    """One roof per level that states a bandwidth."""
    out = []
    for l, lv in enumerate(arch.levels):
        dirs = tuple(d for d, bw in (("read", lv.read_bandwidth), ("write", lv.write_bandwidth)) if bw is not None)
        if dirs:
            bw = (lv.read_bandwidth or 0.0) + (lv.write_bandwidth or 0.0)
            out.append(Roof(lv.name, arch.instances(l) * bw, dirs))
    return out


def traffic_words(record: dict, level: str, directions: tuple[str, ...] = ("read", "write")) -> int:
    """Words moved at ``level`` in a ``Result.to_dict()`` record: reads and/or fills + updates."""
    lv = next(x for x in record["levels"] if x["name"] == level)
    acts = (("reads",) if "read" in directions else ()) + (("fills", "updates") if "write" in directions else ())
    return sum(c[a] for c in lv["counts_words"].values() for a in acts)


def compulsory_words(problem: Problem) -> int:
    """Every tensor moved once (padded inputs, as the model counts them): the DRAM minimum."""
    return sum(problem.size(problem.tensor(r)) for r in ROLES)


def layer_point(record: dict, arch: Architecture, problem: Problem | None = None) -> dict:
    """A layer's achieved MACs/cycle and its intensity (MACs/word) at every level with a roof."""
    macs = record["macs"]
    roofs = level_roofs(arch)
    intensity = {}
    for r in roofs:
        words = traffic_words(record, r.level, r.directions)
        intensity[r.level] = macs / words if words else None  # nothing moves there: no roof applies
    point = {"layer": record["layer"], "macs": macs, "achieved_macs_per_cycle": macs / record["cycles"],
             "bound": record["bound"], "intensity_macs_per_word": intensity}
    if problem is not None:
        point["compulsory_intensity_macs_per_word"] = macs / compulsory_words(problem)
    return point


def attainable(arch: Architecture, intensity: dict[str, float | None]) -> float:
    """The lowest roof at the given per-level intensities (MACs/cycle; None: no traffic, no roof)."""
    roofs = {r.level: r for r in level_roofs(arch)}
    return min([compute_roof(arch)] + [roofs[l].bandwidth * i for l, i in intensity.items() if i is not None])


def roofline(records: list[dict], arch: Architecture, problems: list[Problem] | None = None) -> dict:
    """The roofline data of a set of evaluated layers (JSON-ready)."""
    problems = problems or [None] * len(records)
    return {
        "arch": arch.name,
        "units": {"performance": "MACs/cycle (1 MAC = 2 ops)", "intensity": "MACs/word",
                  "bandwidth": "words/cycle", "word_bits": {lv.name: lv.word_bits for lv in arch.levels}},
        "clock_mhz": arch.clock_mhz,
        "outermost_level": arch.levels[0].name,  # where the compulsory (minimum) traffic applies
        "compute_roof_macs_per_cycle": compute_roof(arch),
        "roofs": [{"level": r.level, "bandwidth_words_per_cycle": r.bandwidth, "directions": list(r.directions),
                   "ridge_macs_per_word": compute_roof(arch) / r.bandwidth} for r in level_roofs(arch)],
        "layers": [layer_point(rec, arch, p) for rec, p in zip(records, problems)],
    }
