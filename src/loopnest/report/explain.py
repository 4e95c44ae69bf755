"""Text explanation of one evaluated mapping: the loop nest (outer -> inner) and per-level counts."""

from __future__ import annotations

from loopnest.mapping.mapping import full_order
from loopnest.model import Result
from loopnest.report.units import eng
from loopnest.search.summary import limit
from loopnest.workload.problem import ROLES


def loop_nest_lines(result: Result) -> list[str]:
    """One line per loop, outer -> inner, with its level and kind (temporal or spatial X/Y)."""
    lines, depth = [], 0
    for lv, lm in zip(result.arch.levels, result.mapping.levels):
        kept = ", ".join(r for r in ROLES if lm.keep is None and r in lv.keeps or lm.keep is not None and r in lm.keep)
        lines.append(f"{'  ' * depth}# {lv.name} keeps: {kept or 'nothing (bypass)'}")
        for d in full_order(lm, result.problem):
            f = lm.temporal.get(d, 1)
            if f > 1:
                lines.append(f"{'  ' * depth}for {d.lower()} in [0, {f}):  # {d} temporal @ {lv.name}")
                depth += 1
        for axis, factors in (("X", lm.spatial_x), ("Y", lm.spatial_y)):
            for d, f in factors.items():
                if f > 1:
                    lines.append(f"{'  ' * depth}parallel-for {d.lower()} in [0, {f}):  # {d} spatial {axis} below {lv.name}")
                    depth += 1
    lines.append(f"{'  ' * depth}{result.arch.compute.name}: outputs += inputs * weights")
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
        f"cycles: {result.cycles:,.0f} (set by: {limit(result.bound, active, result.arch.pes)})   "
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
