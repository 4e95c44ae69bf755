"""Text explanation of one evaluated mapping: the loop nest (outer -> inner) and per-level counts."""

from __future__ import annotations

from loopnest.model import Result
from loopnest.report.units import eng
from loopnest.search.summary import limit
from loopnest.workload.problem import ROLES


def loop_nest_lines(result: Result) -> list[str]:
    """One line per loop, outer -> inner, with its level and kind (temporal or spatial X/Y)."""
    return mapping_lines(result.mapping.to_dict(result.arch, result.problem), result.arch.compute.name)


def mapping_lines(mapping: list[dict], compute: str = "MAC") -> list[str]:
    """The loop nest, outer -> inner, of a mapping in its plain-data form (the mapping file's
    syntax, ``Result.to_dict()["mapping"]``): what the reports show from the JSON export alone."""
    lines, depth = [], 0
    for lv in mapping:
        kept = ", ".join(lv.get("keep") or [])
        lines.append(f"{'  ' * depth}# {lv['level']} keeps: {kept or 'nothing (bypass)'}")
        temporal = lv.get("temporal", {})
        for d in [*lv.get("order", []), *(d for d in temporal if d not in lv.get("order", []))]:
            if temporal.get(d, 1) > 1:
                lines.append(f"{'  ' * depth}for {d.lower()} in [0, {temporal[d]}):  # {d} temporal @ {lv['level']}")
                depth += 1
        for axis in ("x", "y"):
            for d, f in lv.get("spatial", {}).get(axis, {}).items():
                if f > 1:
                    lines.append(f"{'  ' * depth}parallel-for {d.lower()} in [0, {f}):  # {d} spatial {axis.upper()} "
                                 f"below {lv['level']}")
                    depth += 1
    lines.append(f"{'  ' * depth}{compute}: outputs += inputs * weights")
    return lines


def counts_table(result: Result) -> tuple[str, list[str], list[list[str]]]:
    """Per level and tensor: words read, filled, updated, over the fanout; energy. Returns
    (title, column names, rows of text); the first two columns are text, the rest numbers."""
    d = result.to_dict()
    unit = result.arch.energy_units
    rows = []
    for lv in d["levels"]:
        for role in ROLES:
            c = lv["counts_words"][role]
            if not any(c.values()):
                continue
            e = lv["energy_pj"][role] + lv["network_energy_pj"][role]
            rows.append([lv["name"], role, f"{lv['tile_words'][role]:,}" if role in lv["tile_words"] else "-",
                         *(f"{c[a]:,}" for a in ("reads", "fills", "updates", "network")), eng(e, unit)])
    rows.append([result.arch.compute.name, "-", "-", "-", "-", "-", "-", eng(d["compute_energy_pj"], unit)])
    return (f"{result.problem.name} on {result.arch.name}: accesses and tile sizes in words; energy "
            + ("in joules with SI prefixes" if unit == "pJ" else f"in {unit} (normalized)"),
            ["level", "tensor", "tile", "reads", "fills", "updates", "network", "energy"], rows)


def summary_lines(result: Result) -> list[str]:
    unit = result.arch.energy_units
    active = result.macs // int(result.costs.counts.compute_cycles[0])
    return [
        f"MACs: {result.macs:,}   energy: {eng(result.energy_pj, unit)} ({result.energy_pj / result.macs:.3f} {unit}/MAC)",
        f"cycles: {result.cycles:,.0f} (set by: {limit(result.bound, active, result.arch.pes, result.gated_macs > 0)})   "
        f"PE utilization: {result.utilization:.1%} of {result.arch.pes} PEs",
    ] + ([f"static (leakage): {eng(result.leakage_energy_pj, 'pJ')} ({sum(result.arch.leakage_mw().values()):g} mW over the "
          f"runtime; {result.leakage_energy_pj / result.macs:.4f} pJ/MAC) beside the dynamic energy; total "
          f"{eng(result.energy_pj + result.leakage_energy_pj, 'pJ')}"] if result.arch.leakage_mw() else []) + _sparse_lines(result)


def _sparse_lines(result: Result) -> list[str]:
    """Actual vs algorithmic MACs, energy and DRAM accesses per non-zero MAC (sparse results only)."""
    sp = result.sparse_dict()
    if sp is None:
        return []
    unit = result.arch.energy_units
    return [f"densities: {', '.join(f'{r} {d}' for r, d in sp['densities'].items())}   MACs actual {sp['actual_macs']:,.1f} of "
            f"{sp['algorithmic_macs']:,} algorithmic (gated {sp['gated_macs']:,.1f}, skipped {sp['skipped_macs']:,.1f})",
            f"energy per non-zero MAC: {sp['energy_per_nonzero_mac_pj']:.3f} {unit}   "
            f"{result.arch.levels[0].name} accesses per non-zero MAC: {sp['dram_accesses_per_nonzero_mac']:.4f}"]
