"""TETRIS's energy check (Gao et al., ASPLOS 2017, Figure 8 as reproduced by the authors' nn_dataflow
test ``test_eyeriss_asplos17``: "Energy reduced by > 30%", asserted as T-16's total cost below 0.72 x
L-1's). Too slow for ``loopnest validate`` (an energy search of every AlexNet layer shape on both
designs), so measured here: each distinct MAC layer of AlexNet at batch 16 on ``tetris-like`` (T-16)
and ``tetris-2d-baseline`` (L-1), row stationary, searched for dynamic plus static energy (the
source's cost counts the static energy of every cycle: objective ``energy+static``; heuristic mapper,
seed 0, not proven optimal). T-16 splits the batch across its 16 vaults (one image per vault: the
source's batch partitioning, one of the partitionings its hybrid scheme explores); a free search
over the vault fanout as well did not finish conv2 in 16 minutes on the shared machine. Pooling,
ReLU and LRN are left out of both (the source ignores LRN).

    PYTHONPATH=src python benchmarks/tetris_energy.py [--mode heuristic] [--layer-timeout SECONDS]

Prints per layer the two energies (uJ, dynamic + static) and cycles, then the network totals.
Last line: ``RESULT energy_ratio=... speedup=... dram_share_l1=... dram_share_t16=...``
(energy_ratio: T-16's energy over L-1's, the source's check wants it below 0.72; speedup: L-1's
cycles over T-16's for these mappings).
"""

from __future__ import annotations

import argparse

from loopnest.arch import load_arch
from loopnest.mapping.constraints import Constraints, LevelConstraint
from loopnest.mapping.dataflows import ANY, dataflow_constraints
from loopnest.search.mapper import search_layer
from loopnest.workload import load_network

PRESETS = {"L-1": "tetris-2d-baseline", "T-16": "tetris-like"}
BATCH_ACROSS_VAULTS = Constraints({"DRAM": LevelConstraint(spatial_x={"N": ANY}, spatial_y={"N": ANY})},
                                  "the batch across the vaults")


def constraints(problem, arch):
    """Row stationary in each engine; on T-16 (a fanout below DRAM) the batch across the vaults."""
    rs = dataflow_constraints("rs", problem, arch)
    return rs.meet(BATCH_ACROSS_VAULTS) if arch.levels[0].fanout is not None else rs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", default="heuristic", choices=("heuristic", "exact", "auto"))
    ap.add_argument("--layer-timeout", type=float, default=None,
                    help="stop each layer's search after this many seconds with its best mapping so far")
    args = ap.parse_args()
    layers = list(load_network("alexnet", batch=16).layers)
    total = {k: {"energy": 0.0, "cycles": 0.0, "dram": 0.0} for k in PRESETS}
    for key, preset in PRESETS.items():
        arch = load_arch(preset)
        seen: dict[str, tuple[float, float, float]] = {}
        for p in layers:
            if p.shape_key() not in seen:
                found = search_layer(p, arch, constraints(p, arch), "energy+static", mode=args.mode,
                                     seed=0, timeout_s=args.layer_timeout)
                r = found.result
                seen[p.shape_key()] = (r.energy_pj + r.leakage_energy_pj, r.cycles, r.energy_by_level_pj()["DRAM"])
                print(f"{key:5s} {p.name:8s} {seen[p.shape_key()][0] / 1e6:10.1f} uJ {r.cycles:12,.0f} cycles"
                      + (" (search timed out: best so far)" if found.timed_out else ""), flush=True)
            e, c, d = seen[p.shape_key()]
            total[key]["energy"] += e
            total[key]["cycles"] += c
            total[key]["dram"] += d
    l1, t16 = total["L-1"], total["T-16"]
    for key, t in total.items():
        print(f"{key}: {t['energy'] / 1e6:.1f} uJ, {t['cycles']:,.0f} cycles, DRAM {t['dram'] / t['energy']:.1%} of the energy")
    print(f"RESULT energy_ratio={t16['energy'] / l1['energy']:.3f} speedup={l1['cycles'] / t16['cycles']:.3f} "
          f"dram_share_l1={l1['dram'] / l1['energy']:.3f} dram_share_t16={t16['dram'] / t16['energy']:.3f}")


if __name__ == "__main__":
    main()
