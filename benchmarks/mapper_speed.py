"""Mapper speed: seconds to map every layer of a network (each distinct shape once) on a preset,
in exact or heuristic mode, and the slowest single layer.

Exact mode can take far longer than heuristic mode on large mapspaces; ``--layer-timeout``
stops an exact layer search after that many wall seconds and reports it as timed out
(the network time is then a lower bound). Last line:
``RESULT model=... arch=... mode=... jobs=... network_s=... layers=... shapes=... max_layer_s=... timed_out=... energy=...``
(energy in the architecture's energy units)

    python benchmarks/mapper_speed.py [--model resnet50] [--arch eyeriss] [--mode heuristic] [--jobs 2]
                                      [--layers conv1,layer1.0.conv2] [--layer-timeout 600]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

from loopnest.arch import load_arch
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.search.mapper import search_layer
from loopnest.workload import load_network


def _one(args):
    problem, arch, dataflow, mode = args
    c = dataflow_constraints(dataflow, problem, arch) if dataflow else None
    r = search_layer(problem, arch, c, "energy", mode=mode)
    return problem.name, r.seconds, r.evaluated, (r.result.energy_pj if r.result else None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--arch", default="eyeriss")
    ap.add_argument("--dataflow", default=None, help="default: the architecture's own")
    ap.add_argument("--mode", default="heuristic", choices=("exact", "heuristic"))
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--layers", default=None, help="comma-separated layer names (default: all)")
    ap.add_argument("--layer-timeout", type=float, default=600.0)
    args = ap.parse_args()
    arch = load_arch(args.arch)
    dataflow = args.dataflow or arch.dataflow
    net = load_network(args.model, batch=args.batch)
    layers = list(net.layers)
    if args.layers:
        names = set(args.layers.split(","))
        layers = [p for p in layers if p.name in names]
    shapes = {}
    for p in layers:
        shapes.setdefault(p.shape_key(), p)
    todo = sorted(shapes.values(), key=lambda p: -p.macs)
    t0 = time.perf_counter()
    done, timed_out = {}, []
    with mp.Pool(args.jobs) as pool:
        pending = {p.name: pool.apply_async(_one, ((p, arch, dataflow, args.mode),)) for p in todo}
        for name, res in pending.items():
            left = max(1.0, args.layer_timeout - (time.perf_counter() - t0))
            try:
                done[name] = res.get(timeout=left)
                n, s, ev, e = done[name]
                print(f"{n:28s} {s:8.2f} s  {ev:>10,d} mappings  " + (f"{e:.4g} {arch.energy_units}" if e is not None else "no mapping"), flush=True)
            except mp.TimeoutError:
                timed_out.append(name)
                print(f"{name:28s} timed out after {args.layer_timeout:.0f} s (wall, whole run)", flush=True)
        pool.terminate()
    wall = time.perf_counter() - t0
    energy = sum(done[shapes[p.shape_key()].name][3] or 0 for p in layers if shapes[p.shape_key()].name in done)
    worst = max((v[1] for v in done.values()), default=0.0)
    print(f"RESULT model={args.model} arch={args.arch} dataflow={dataflow} mode={args.mode} jobs={args.jobs} "
          f"network_s={wall:.2f} layers={len(layers)} shapes={len(todo)} max_layer_s={worst:.2f} "
          f"timed_out={len(timed_out)} energy={energy:.6g}")


if __name__ == "__main__":
    main()
