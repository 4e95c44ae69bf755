"""The Eyeriss chip's per-layer table (AlexNet CONV1-5, batch 4, row stationary) against the
mapper's best mappings on ``eyeriss``, for the energy, cycles and EDP objectives, with exact
splits only and with remainder folds (``search_layer(remainder_folds=True)``: a fanout axis may
hold a dimension it does not divide, the last fold partial, docs/mapper.md).

Chip figures: Chen et al., "Eyeriss: an energy-efficient reconfigurable accelerator for deep
convolutional neural networks", JSSC 52(1), 2017, the per-layer performance of AlexNet's CONV
layers at batch 4 and 200 MHz: active PEs and processing latency (the latencies add up to the
115.3 ms of the CICC 2017 tutorial's benchmarking sheet, ``search.eyeriss_cases``).

Per (objective, layer): active PEs (MACs over compute cycles: the average over folds), latency
in ms at the preset's 200 MHz (cycles, bandwidth stalls included), energy in µJ, what set the
cycles (``compute`` or a level's bandwidth), whether the
exact-split search was proven optimal, and CPU seconds of the plain search and of the fold
variants. The plain search runs once; the fold variants reuse its result
(``padded.best_with_padded_folds``, what ``search_layer(..., remainder_folds=True)`` runs).

    nice python benchmarks/eyeriss_chip_table.py [--objectives energy,cycles,edp] [--layers conv1,conv2]

Last line: ``RESULT objectives=... <objective>_ms=<plain total>/<with folds total> ... cpu_s=...``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from loopnest.arch import load_arch
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.search.mapper import search_layer
from loopnest.search.objective import Objective
from loopnest.search.padded import best_with_padded_folds
from loopnest.workload import load_network

CHIP_PES = {"conv1": 154, "conv2": 135, "conv3": 156, "conv4": 156, "conv5": 156}  # JSSC 2017, of 168
CHIP_MS = {"conv1": 20.9, "conv2": 41.9, "conv3": 23.6, "conv4": 18.4, "conv5": 10.5}  # JSSC 2017, batch 4


def _row(found, clock_khz: float) -> tuple[int, float, float, str]:
    """Active PEs, latency ms, energy µJ and what set the cycles of a search's best mapping."""
    r = found.result
    compute = int(r.costs.counts.compute_cycles[0])
    return r.macs // compute, r.cycles / clock_khz, r.energy_pj / 1e6, r.bound


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objectives", default="energy,cycles,edp")
    ap.add_argument("--layers", default=",".join(CHIP_PES))
    args = ap.parse_args()
    arch = load_arch("eyeriss")
    clock_khz = arch.clock_mhz * 1e3
    layers = {p.name: p for p in load_network("alexnet", batch=4).layers}
    names = args.layers.split(",")
    totals, cpu_all = {}, 0.0
    print(f"{'objective':9} {'layer':6} {'chip PEs':>8} {'PEs':>4} {'PEs+rem':>7} {'chip ms':>7} {'ms':>7} {'ms+rem':>7} "
          f"{'uJ':>8} {'uJ+rem':>8} {'proven':>6} {'cpu s':>7} {'+rem s':>7}  bound (plain / +rem); folds")
    for text in args.objectives.split(","):
        obj = replace(Objective.parse(text), static_pj_per_cycle=arch.leakage_pj_per_cycle)
        plain_ms = rem_ms = 0.0
        for name in names:
            p = layers[name]
            rs = dataflow_constraints("rs", p, arch)
            t0 = time.process_time()
            plain = search_layer(p, arch, rs, obj, mode="exact")
            t1 = time.process_time()

            def unpadded(q, c):
                return search_layer(q, arch, c, obj, mode="exact", padded_folds=False)

            best = best_with_padded_folds(p, arch, rs, obj, unpadded, plain, remainder_folds=True)
            t2 = time.process_time()
            cpu_all += t2 - t0
            (pe, ms, uj, bound), (pe2, ms2, uj2, bound2) = _row(plain, clock_khz), _row(best, clock_khz)
            plain_ms, rem_ms = plain_ms + ms, rem_ms + ms2
            folds = next((n.split(": ", 1)[1].split(" (")[0] for n in best.notes if "folds on the fanout" in n), "-")
            proven = plain.mode == "exact" and not plain.timed_out
            print(f"{text:9} {name:6} {CHIP_PES[name]:8d} {pe:4d} {pe2:7d} {CHIP_MS[name]:7.1f} {ms:7.1f} {ms2:7.1f} "
                  f"{uj:8.1f} {uj2:8.1f} {str(proven):>6} {t1 - t0:7.1f} {t2 - t1:7.1f}  {bound} / {bound2}; {folds}", flush=True)
        chip = sum(CHIP_MS[n] for n in names)
        print(f"{text:9} {'total':6} {'':8} {'':4} {'':7} {chip:7.1f} {plain_ms:7.1f} {rem_ms:7.1f}", flush=True)
        totals[text] = (plain_ms, rem_ms)
    parts = " ".join(f"{k}_ms={a:.1f}/{b:.1f}" for k, (a, b) in totals.items())
    print(f"RESULT objectives={args.objectives} layers={args.layers} chip_ms={sum(CHIP_MS[n] for n in names):.1f} "
          f"{parts} cpu_s={cpu_all:.1f}")


if __name__ == "__main__":
    main()
