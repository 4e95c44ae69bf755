"""The Squeezelerator's energy claim (seed 002, Keutzer et al., co-design talk, after Kwon et al., DAC
2018): "hybrid WS and OS data flow: up to 6x reduction in energy over OS, WS", per layer. Too slow
for ``loopnest validate`` (an energy search of every MobileNet v1 layer shape in both modes), so
measured here: each distinct layer shape of MobileNet v1 (batch 1) on ``squeezelerator-like``,
searched for energy under the ``ws`` and under the ``os`` dataflow (heuristic mapper, seed 0, not
proven optimal); the hybrid runs each layer in its lower-energy mode.

    PYTHONPATH=src python benchmarks/squeezelerator_energy.py [--model mobilenet_v1] [--mode heuristic]

Prints per shape the two energies (uJ) and their ratio, then the network totals. Last line:
``RESULT max_layer_ratio_over_ws=... max_layer_ratio_over_os=... network_over_ws=... network_over_os=...``
(a ratio over WS is WS's energy over the hybrid's, at least 1).
"""

from __future__ import annotations

import argparse

from loopnest.arch import load_arch
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.search.mapper import search_layer
from loopnest.workload import load_network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mobilenet_v1")
    ap.add_argument("--mode", default="heuristic", choices=("heuristic", "exact", "auto"))
    args = ap.parse_args()
    arch = load_arch("squeezelerator-like")
    layers = list(load_network(args.model, batch=1).layers)
    energy: dict[str, dict[str, float]] = {}
    for p in layers:
        key = p.shape_key()
        if key in energy:
            continue
        energy[key] = {df: search_layer(p, arch, dataflow_constraints(df, p, arch), "energy", mode=args.mode, seed=0).result.energy_pj
                       for df in ("ws", "os")}
        e = energy[key]
        print(f"{p.name:12s} WS {e['ws'] / 1e6:9.2f} uJ  OS {e['os'] / 1e6:9.2f} uJ  WS/OS {e['ws'] / e['os']:6.2f}", flush=True)
    per = [energy[p.shape_key()] for p in layers]
    total = {df: sum(e[df] for e in per) for df in ("ws", "os")}
    hybrid = sum(min(e.values()) for e in per)
    print(f"network: WS {total['ws'] / 1e6:.2f} uJ, OS {total['os'] / 1e6:.2f} uJ, hybrid {hybrid / 1e6:.2f} uJ")
    print(f"RESULT max_layer_ratio_over_ws={max(e['ws'] / min(e.values()) for e in per):.3f} "
          f"max_layer_ratio_over_os={max(e['os'] / min(e.values()) for e in per):.3f} "
          f"network_over_ws={total['ws'] / hybrid:.3f} network_over_os={total['os'] / hybrid:.3f}")


if __name__ == "__main__":
    main()
