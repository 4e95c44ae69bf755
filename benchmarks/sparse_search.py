"""Sparse search speed: the same layers mapped dense and sparse side by side, in one process, with
the CPU seconds of each search and their ratio (the issue-13 target: sparse within 2x of dense).

Each layer (every conv layer of ``--model`` by default, one per distinct shape and densities;
``--layers`` picks) is searched for
energy on ``--arch`` at the workload's densities (dense) and on ``--sparse-arch`` at
``--density`` (``chip``: the Eyeriss chip's Table V ifmap densities for AlexNet, as
``search.eyeriss_cases.chip_densities``; or ``--density``'s text / YAML form), one search after
the other in this process; CPU seconds are ``time.process_time`` (user + system), not wall time:
the machine may be shared. ``--layer-timeout`` stops a search (its time is then a lower bound).
Per layer a line (with the sparse search's energy: an exact search finds the same optimum
however it prunes); last line:
``RESULT model=... arch=... sparse_arch=... density=... layers=... dense_cpu_s=... sparse_cpu_s=... ratio=... max_layer_ratio=... proven=.../...``

    python benchmarks/sparse_search.py                                   # AlexNet CONV1-5, batch 4: eyeriss vs eyeriss-rlc
    python benchmarks/sparse_search.py --sparse-arch eyeriss-skipw --density weights=0.25
"""

from __future__ import annotations

import argparse
import time

from loopnest.arch import load_arch
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.search.eyeriss_cases import chip_densities
from loopnest.search.mapper import search_layer
from loopnest.workload import load_network
from loopnest.workload.density import apply_density, load_density


def _search(problem, arch, dataflow, mode, timeout):
    """(CPU seconds, LayerSearch) of one layer's search."""
    c = dataflow_constraints(dataflow, problem, arch) if dataflow else None
    t0 = time.process_time()
    r = search_layer(problem, arch, c, "energy", mode=mode, timeout_s=timeout)
    return time.process_time() - t0, r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="alexnet")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--arch", default="eyeriss", help="the dense run's preset")
    ap.add_argument("--sparse-arch", default="eyeriss-rlc", help="the sparse run's preset")
    ap.add_argument("--density", default="chip", help="'chip' (JSSC 2017 Table V, AlexNet) or --density's form")
    ap.add_argument("--dataflow", default="rs", help="a dataflow preset, or 'none'")
    ap.add_argument("--mode", default="auto", choices=("exact", "heuristic", "auto"))
    ap.add_argument("--layers", default=None, help="comma-separated layer names (default: every conv layer)")
    ap.add_argument("--layer-timeout", type=float, default=None, help="seconds per search (default: none)")
    args = ap.parse_args()
    dense_arch, sparse_arch = load_arch(args.arch), load_arch(args.sparse_arch)
    dataflow = None if args.dataflow == "none" else args.dataflow
    net = load_network(args.model, batch=args.batch)
    sparse_net = apply_density(net, chip_densities() if args.density == "chip" else load_density(args.density))
    dense_layers = {p.name: p for p in net.layers}
    sparse_layers = {p.name: p for p in sparse_net.layers}
    names, seen = [], set()  # one layer per distinct shape and densities, as map_network searches them
    for name in args.layers.split(",") if args.layers else [p.name for p in net.layers if p.kind == "conv"]:
        key = (dense_layers[name].shape_key(), tuple(str(t.density) for t in sparse_layers[name].tensors))
        if key not in seen:
            seen.add(key)
            names.append(name)
    print(f"{'layer':14s} {'dense CPU s':>11s} {'sparse CPU s':>12s} {'ratio':>6s}  {'dense mappings':>14s} "
          f"{'sparse mappings':>15s}  {'sparse energy pJ':>16s}  modes (dense / sparse)")
    totals, ratios, proven = [0.0, 0.0], [], 0
    for name in names:
        sd, rd = _search(dense_layers[name], dense_arch, dataflow, args.mode, args.layer_timeout)
        ss, rs = _search(sparse_layers[name], sparse_arch, dataflow, args.mode, args.layer_timeout)
        totals[0] += sd
        totals[1] += ss
        ratios.append(ss / sd)
        proven += rs.mode == "exact" and rs.result is not None and not rs.timed_out
        energy = "no mapping" if rs.result is None else f"{rs.result.energy_pj:.10g}"
        modes = " / ".join(f"{r.mode}{' (timed out)' if r.timed_out else ''}" for r in (rd, rs))
        print(f"{name:14s} {sd:11.2f} {ss:12.2f} {ss / sd:6.2f}  {rd.evaluated:14,d} {rs.evaluated:15,d}  {energy:>16s}  {modes}", flush=True)
    print(f"{'total':14s} {totals[0]:11.2f} {totals[1]:12.2f} {totals[1] / totals[0]:6.2f}")
    print(f"RESULT model={args.model} batch={args.batch} arch={args.arch} sparse_arch={args.sparse_arch} "
          f"density={args.density.replace(' ', '')} layers={len(names)} dense_cpu_s={totals[0]:.2f} "
          f"sparse_cpu_s={totals[1]:.2f} ratio={totals[1] / totals[0]:.2f} max_layer_ratio={max(ratios):.2f} "
          f"proven={proven}/{len(names)}")


if __name__ == "__main__":
    main()
