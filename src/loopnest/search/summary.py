"""Numbers of a mapped network as plain data: per-layer rows, network totals, the benchmarking
sheet of eyeriss.mit.edu/benchmarking.html (Sze et al., CICC 2017 tutorial), and the stable JSON export.

JSON interface (stable; keys are only ever added; ``schema_version`` is raised when a key changes
meaning or goes away; docs/interop.md)::

    {"schema_version": 1, "model", "arch", "batch", "dataflow", "objective", "mode", "energy_units",
     "layers": [{"name", "macs", "cycles", "bound", "limit", "utilization", "energy_pj", "energy_by_level_pj": {level: pJ},
                 "accesses_by_level": {level: values}, "traffic_bytes_by_level": {level: bytes},
                 "bits": {role: bits}, "mapping", ...}],
     "unmapped": [{"name", "macs", "reason"}],
     "totals": {"macs", "cycles", "energy_pj", "energy_by_level_pj", "accesses_by_level", ...},
     "element_ops": [{"name", "kind", "elem_ops", "accesses", "energy_pj", "cycles", ...}] (the non-MAC
     operators, ``model.elementwise``); totals "element_ops" (their sums, and "copied_elements": the
     elements shifts and shuffles copy) and "with_element_ops"
     ({"energy_pj", "cycles"}: the MAC layers' totals plus the operators'), beside the MAC-layer totals;
     (layers and totals also carry "leakage_energy_pj": static power x runtime, beside the dynamic
     "energy_pj" and not in it, and "total_energy_pj", their sum; the sheet "static_power_mW")
     "sheet": {...}, "search": {"distinct_shapes", "shapes_total", "shapes_by_mode": {mode: n}},
     "pending": [layer names not searched: the run was interrupted],
     "timing": {"seconds", "jobs", "layers": {layer: seconds}}}

Each layer's ``search`` says which mode ran (``mode`` auto picks exact or heuristic per shape;
its ``notes`` say why), how much was searched and whether it stopped at the layer timeout;
``lower_bound`` (the objective's first key, e.g. pJ for energy: no mapping of the space is below
it) and ``gap`` (the result over it, less 1: 0 where proven optimal, an upper bound of the excess
over the optimum elsewhere); ``subspaces``: in auto mode where the heuristic ran, each dataflow
subspace searched exactly and its best value (``search.subspaces``); ``folds``: where a fold
variant beat the exact splits (``search.padded``), each padded dimension's [size, padded size].

Everything outside ``timing`` is a function of the inputs only: two runs, or runs with
``--jobs 1`` and ``--jobs N``, give identical JSON once ``timing`` is dropped (wall-clock
seconds and the process count live there and only there).

``energy_by_level`` has one entry per storage level (its own accesses), one per fanout
(``<level>.network``) and the MACs. Energies are in ``energy_units`` (pJ unless the architecture
uses a normalized table, ``norm``: 1 = one 16-bit MAC), which every layer row and the totals carry
beside the unit-neutral keys ``energy``, ``energy_per_mac`` and ``energy_by_level``. The older
``energy_pj``, ``energy_per_mac_pj`` and ``energy_by_level_pj`` hold the same numbers (kept: keys
are only ever added) despite their names. ``sheet.on_chip_memory_KiB`` is in KiB (1024 bytes;
``on_chip_memory_kB``, the old name, holds the same KiB value). ``limit`` says in words what set
the cycles (``bound``): a level's bandwidth, all PEs computing, or the spatial mapping leaving
PEs idle. ``accesses_by_level`` counts values read, filled and updated (words
when a value takes one word); ``traffic_bytes_by_level`` is those accesses in bytes at each
tensor's bit width (the packing rule of docs/model.md, "Precision").
"""

from __future__ import annotations

from loopnest.model.elementwise import ElementOpError, evaluate_element_op
from loopnest.search.network import LayerOutcome, NetworkResult

SCHEMA_VERSION = 1  # of the JSON results of evaluate and model (docs/interop.md)


def limit(bound: str, active_pes: int, pes: int, gated: bool = False) -> str:
    """What set the cycles, in words: a level's bandwidth, or the MACs. When the MACs set them with
    PEs idle, the limit is the spatial mapping (how the layer's shape fits the array), not the
    compute roof, and the text says how many PEs were busy. ``gated``: some MACs are gated on
    zeros (model.sparse), which saves their energy but not their cycle."""
    if bound != "compute":
        return bound
    if active_pes < pes:
        return f"mapping: {active_pes:,} of {pes:,} PEs busy"
    return "compute (every PE busy; gated MACs still take their cycle)" if gated else "compute (every PE busy)"


def neutral(energy: float, per_mac: float | None, by_level: dict, units: str) -> dict:
    """The energies under unit-neutral keys with their unit beside them (the ``*_pj`` keys hold the
    same numbers and stay for compatibility, but are in ``energy_units``, not always pJ)."""
    return {"energy": energy, "energy_per_mac": per_mac, "energy_by_level": by_level, "energy_units": units}


def layer_row(lo: LayerOutcome) -> dict:
    """Every number of one mapped layer."""
    r = lo.result
    arch = r.arch
    acc = r.costs.accesses_by_level[0]
    compute_cycles = int(r.costs.counts.compute_cycles[0])
    return {
        "name": lo.name,
        "kind": lo.problem.kind,
        "dims": dict(lo.problem.dims),
        "macs": r.macs,
        "cycles": r.cycles,
        "compute_cycles": compute_cycles,
        "bound": r.bound,
        "limit": limit(r.bound, r.macs // compute_cycles, arch.pes, r.gated_macs > 0),
        "utilization": r.utilization,
        "active_pes": r.macs // compute_cycles,
        "energy_pj": r.energy_pj,
        "energy_per_mac_pj": r.energy_pj / r.macs,
        "energy_by_level_pj": r.energy_by_level_pj(),
        "energy_by_tensor_pj": r.energy_by_tensor_pj(),
        "leakage_energy_pj": r.leakage_energy_pj,  # static, beside energy_pj (dynamic)
        "total_energy_pj": r.energy_pj + r.leakage_energy_pj,
        "accesses_by_level": {lv.name: int(acc[l]) for l, lv in enumerate(arch.levels)},
        "traffic_bytes_by_level": {lv.name: sum(r.traffic_bytes(lv.name, t.role) for t in lo.problem.tensors)
                                   for lv in arch.levels},
        "bits": {t.role: t.bits for t in lo.problem.tensors},
        "dram_accesses_per_mac": float(acc[0]) / r.macs,
        "actual_macs": r.actual_macs,  # non-zero MACs: the MACs where nothing is sparse
        "dram_actual_accesses": r.actual_accesses(0),
        "energy_per_nonzero_mac_pj": r.energy_pj / r.actual_macs if r.actual_macs else None,
        "dram_accesses_per_nonzero_mac": r.actual_accesses(0) / r.actual_macs if r.actual_macs else None,
        **neutral(r.energy_pj, r.energy_pj / r.macs, r.energy_by_level_pj(), arch.energy_units),
        "mapping": r.mapping.to_dict(arch, lo.problem),
        "same_as": lo.same_as,
        "search": {"mode": lo.search.mode, "objective": lo.search.objective, "evaluated": lo.search.evaluated,
                   "outer_choices": lo.search.outer_total, "outer_visited": lo.search.outer_visited,
                   "timed_out": lo.search.timed_out, "notes": list(lo.search.notes),
                   "lower_bound": lo.search.lower_bound, "gap": lo.search.gap, "subspaces": dict(lo.search.subspaces),
                   "folds": {d: list(v) for d, v in lo.search.folds.items()}},
    }


def totals(net: NetworkResult, rows: list[dict]) -> dict:
    """Network totals over the mapped layers (layers run one after another: sums)."""
    def add(key: str) -> dict:
        out: dict[str, float] = {}
        for row in rows:
            for k, v in row[key].items():
                out[k] = out.get(k, 0) + v
        return out

    macs = sum(r["macs"] for r in rows)
    cycles = sum(r["cycles"] for r in rows)
    energy = sum(r["energy_pj"] for r in rows)
    leakage = sum(r["leakage_energy_pj"] for r in rows)
    acc = add("accesses_by_level")
    dram = acc.get(net.arch.levels[0].name, 0)
    nonzero = sum(r["actual_macs"] for r in rows)
    dram_actual = sum(r["dram_actual_accesses"] for r in rows)
    return {
        "macs": macs, "cycles": cycles, "energy_pj": energy,
        "leakage_energy_pj": leakage, "total_energy_pj": energy + leakage,
        "energy_per_mac_pj": energy / macs if macs else None,
        "utilization": macs / (cycles * net.arch.pes) if cycles else None,
        "energy_by_level_pj": add("energy_by_level_pj"), "accesses_by_level": acc,
        "traffic_bytes_by_level": add("traffic_bytes_by_level"),
        "dram_accesses_per_mac": dram / macs if macs else None,
        **neutral(energy, energy / macs if macs else None, add("energy_by_level_pj"), net.arch.energy_units),
        "layers_mapped": len(rows), "layers_unmapped": len(net.unmapped),
        "actual_macs": nonzero, "dram_actual_accesses": dram_actual,
        "energy_per_nonzero_mac_pj": energy / nonzero if nonzero else None,
        "dram_accesses_per_nonzero_mac": dram_actual / nonzero if nonzero else None,
    }


def sheet(net: NetworkResult, tot: dict) -> dict:
    """The benchmarking sheet of eyeriss.mit.edu/benchmarking.html for this run.

    Non-zero MACs are the actual MACs of the sparse model (every MAC where nothing is sparse, or
    where no gating or skipping removes MACs). Power needs energies in pJ.
    """
    arch = net.arch
    runtime_ms = tot["cycles"] / (arch.clock_mhz * 1e3) if tot["cycles"] else None
    pj = arch.energy_units == "pJ"
    return {
        "process_technology": f"{arch.technology_nm} nm",
        "pes": arch.pes,
        "core_area_mm2": arch.total_area_um2 / 1e6,  # modeled: storage, networks and MACs; DRAM is off chip
        "on_chip_memory_kB": arch.total_storage_bits / 8 / 1024,  # deprecated name: the value is in KiB
        "on_chip_memory_KiB": arch.total_storage_bits / 8 / 1024,
        "bits_per_operand": arch.compute.operand_bits,
        "batch_size": net.batch,
        "non_zero_macs": tot["actual_macs"],
        "runtime_ms": runtime_ms,
        "clock_mhz": arch.clock_mhz,
        "power_mW": tot["energy_pj"] * 1e-6 / runtime_ms if pj and runtime_ms else None,  # dynamic
        "static_power_mW": sum(arch.leakage_mw().values()),
        "energy_per_non_zero_mac": tot["energy_per_nonzero_mac_pj"],
        "energy_units": arch.energy_units,
        "dram_accesses_per_non_zero_mac": tot["dram_accesses_per_nonzero_mac"],
    }


def element_ops(net: NetworkResult) -> tuple[list[dict], dict]:
    """The non-MAC operators' costs (``model.elementwise``) and their totals, with the network
    totals that include them (``with_element_ops``: MAC layers plus operators, run one after another)."""
    try:
        costs = [evaluate_element_op(op, net.arch).to_dict() for op in net.ops]
    except ElementOpError as e:
        return [], {"note": str(e)}
    return costs, {"count": len(costs), "elem_ops": sum(c["elem_ops"] for c in costs),
                   "copied_elements": sum(op.output_elements for op in net.ops if op.copies),  # shifts, shuffles
                   "energy_pj": sum(c["energy_pj"] for c in costs), "cycles": sum(c["cycles"] for c in costs)}


def to_dict(net: NetworkResult) -> dict:
    """The stable JSON export of a network run (see the module docstring)."""
    rows = [layer_row(lo) for lo in net.mapped]
    tot = totals(net, rows)
    ops, op_tot = element_ops(net)
    tot["element_ops"] = op_tot
    tot["with_element_ops"] = {"energy_pj": tot["energy_pj"] + op_tot.get("energy_pj", 0.0),
                               "cycles": tot["cycles"] + op_tot.get("cycles", 0.0)}
    return {
        "schema_version": SCHEMA_VERSION, "model": net.model, "arch": net.arch.name, "batch": net.batch, "dataflow": net.dataflow,
        "objective": net.objective, "mode": net.mode, "energy_units": net.arch.energy_units,
        "layers": rows,
        "element_ops": ops,
        "unmapped": [{"name": lo.name, "macs": lo.problem.macs, "reason": lo.search.reason} for lo in net.unmapped],
        "totals": tot,
        "sheet": sheet(net, tot),
        "search": {"distinct_shapes": net.searches, "shapes_total": net.shapes_total or net.searches,
                   "shapes_by_mode": _modes(net)},
        "pending": list(net.pending),
        "timing": {"seconds": net.seconds, "jobs": net.jobs,
                   "layers": {lo.name: lo.search.seconds for lo in net.layers if lo.same_as is None}},
    }


def _modes(net: NetworkResult) -> dict[str, int]:
    """Distinct layer shapes per search mode that ran (auto mode picks one per shape)."""
    out: dict[str, int] = {}
    for lo in net.layers:
        if lo.same_as is None:
            out[lo.search.mode] = out.get(lo.search.mode, 0) + 1
    return out
