"""Dataflow comparison at equal area (Chen, Emer, Sze, ISCA 2016; seed 000 "Evaluation setup:
same total area, AlexNet, 256 PEs, batch 16"): every layer is mapped under WS, OS-A/B/C, NLR
and RS, each on its own architecture of the equal-area family (``eyeriss<PEs>-<dataflow>``: the
``eyeriss256-*`` presets, or ``arch.allocation.family_arch`` at any other PE count) with its
best mapping (the mapper, energy objective), and the energy per MAC is reported by level
(DRAM, buffer, array, RF, ALU) and by data type, for CONV and FC layers separately, with the
DRAM accesses per MAC.
The output-stationary variants are dataflow presets (``loopnest.mapping.dataflows``).
"""

from __future__ import annotations

from collections.abc import Callable

from loopnest.analysis.breakdown import (
    CATEGORIES,
    by_category,
    by_data_type,
    dram_words,
    per_mac,
    total,
)
from loopnest.analysis.runs import best_records, no_bypass
from loopnest.arch.allocation import family_arch
from loopnest.arch.spec import Architecture
from loopnest.mapping.constraints import Constraints
from loopnest.search.mapper import REMAINDER_FOLDS
from loopnest.workload.network import Network

DATAFLOWS = ("WS", "OS-A", "OS-B", "OS-C", "NLR", "RS")
CLAIM = {"source": "Chen, Emer, Sze, ISCA 2016, as presented by Sze et al., CICC 2017 tutorial: AlexNet, 256 PEs, batch 16",
         "conv": "RS uses 1.4x - 2.5x lower energy than the other dataflows", "fc": "RS at least 1.3x lower",
         "conv_range": [1.4, 2.5], "fc_min": 1.3}


class CompareError(ValueError):
    """A comparison that cannot run (no preset family for that many PEs, a layer no dataflow maps)."""


def arch_for(dataflow: str, pes: int, table: str | None = None) -> Architecture:
    """The equal-area architecture of ``dataflow`` at ``pes`` PEs (docs/arch.md, "Equal-area allocation")."""
    if pes < 1:
        raise CompareError(f"--pes: {pes} PEs; give a positive PE count")
    return family_arch(dataflow, pes, table)


def layer_kind(kind: str) -> str:
    """'conv' for convolutions, 'fc' for fully connected and matrix layers (no sliding window)."""
    return "conv" if kind == "conv" else "fc"


def _summary(records: list[dict], arch: Architecture) -> dict | None:
    if not records:
        return None
    macs = sum(r["macs"] for r in records)
    return {
        "layers": [r["layer"] for r in records],
        "macs": macs,
        "energy": sum(r["energy_pj"] for r in records),
        "energy_per_mac": sum(r["energy_pj"] for r in records) / macs,
        "energy_by_level_per_mac": per_mac(total([by_category(r, arch) for r in records]), macs),
        "energy_by_type_per_mac": per_mac(total([by_data_type(r) for r in records]), macs),
        "dram_accesses_per_mac": sum(dram_words(r, arch) for r in records) / macs,
    }


def compare_dataflows(network: Network, pes: int = 256, dataflows: tuple[str, ...] = DATAFLOWS, mode: str = "auto",
                      jobs: int | None = None, progress: Callable[[str], None] | None = None, bypass: bool = False,
                      table: str | None = None, constraints: Constraints | None = None, seed: int = 0,
                      remainder_folds: bool = REMAINDER_FOLDS) -> dict:
    """Map every layer under every dataflow; the JSON-ready comparison (energies per MAC, in the
    architectures' normalized units: 1 = one 16-bit MAC, unless ``table`` selects another). Without
    ``bypass`` every level keeps every tensor its hardware holds (the paper's framework); with it
    the mapper may bypass. ``constraints`` (the user's) are met with each dataflow's;
    ``remainder_folds``: ``map_network``'s."""
    out = {"model": network.name, "pes": pes, "batch": network.batch, "mode": mode, "objective": "energy",
           "bypass": bypass, "claim": CLAIM, "dataflows": {}, "ratios": {}}
    for df in dataflows:
        arch = arch_for(df, pes, table)
        out["energy_units"] = arch.energy_units
        fixed = None if bypass else no_bypass(arch)
        user = constraints if fixed is None else fixed if constraints is None else fixed.meet(constraints)
        recs, failed = best_records(network, arch, df, "energy", mode, jobs, progress, user, seed, remainder_folds)
        for r in recs:
            r["kind"] = layer_kind(r["kind"])
        out["dataflows"][df] = {
            "arch": arch.name,
            "conv": _summary([r for r in recs if r["kind"] == "conv"], arch),
            "fc": _summary([r for r in recs if r["kind"] == "fc"], arch),
            "unmapped": failed,
            "layers": [{"layer": r["layer"], "kind": r["kind"], "macs": r["macs"], "energy_per_mac": r["energy_per_mac_pj"],
                        "energy_by_level_per_mac": per_mac(by_category(r, arch), r["macs"]),
                        "energy_by_type_per_mac": per_mac(by_data_type(r), r["macs"]),
                        "dram_accesses_per_mac": dram_words(r, arch) / r["macs"],
                        "utilization": r["utilization"], "search_mode": r["search_mode"], "mapping": r["mapping"]}
                       for r in recs],
        }
    for kind in ("conv", "fc"):
        ref = (out["dataflows"].get("RS") or {}).get(kind)
        out["ratios"][kind] = {df: d[kind]["energy_per_mac"] / ref["energy_per_mac"]
                               for df, d in out["dataflows"].items() if ref and d[kind]} if ref else {}
    out["levels"] = list(CATEGORIES)
    return out
