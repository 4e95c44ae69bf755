"""Mapper speed and memory: each distinct layer shape of a network mapped on one or more presets
(exact, heuristic or auto mode), with per preset the shapes proven optimal, the CPU seconds and
the peak resident memory of the processes that searched.

CPU seconds (user + system, this process and its workers), not wall time: the machine may be
shared. Peak RSS: the largest of this process and its workers (``getrusage``). Each preset runs
in its own subprocess so its peak is its own. ``--layer-timeout`` stops a layer search after that
many seconds (``search_layer(timeout_s=...)``: the best found so far, not proven optimal). Per
preset a table row (presets run smallest first: fewest levels, then fewest PEs; ``--preset-timeout``
stops a preset's process group after that many seconds and reports the shapes it had proven); last line:
``RESULT model=... mode=... jobs=... presets=... proven=.../... cpu_s=... max_rss_mb=... energy=...``
(energy summed over the presets, each in its architecture's energy units)

    python benchmarks/mapper_speed.py [--model resnet50] [--arch eyeriss|all|tpu-v1,edge-npu]
                                      [--mode auto] [--jobs 2] [--layers conv1,layer1.0.conv2]
                                      [--layer-timeout 600] [--preset-timeout 1800]

Run it niced on a shared machine: ``nice -n 10 python benchmarks/mapper_speed.py --arch all``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import signal
import subprocess
import sys
import time

from loopnest.arch import list_presets, load_arch
from loopnest.mapping.dataflows import dataflow_constraints
from loopnest.search.mapper import search_layer
from loopnest.workload import load_network


def _one(args):
    problem, arch, dataflow, mode, timeout = args
    c = dataflow_constraints(dataflow, problem, arch) if dataflow else None
    r = search_layer(problem, arch, c, "energy", mode=mode, timeout_s=timeout)
    proven = r.mode == "exact" and r.result is not None and not r.timed_out
    return problem.name, r.seconds, r.evaluated, (r.result.energy_pj if r.result else None), r.mode, proven


def _preset(args) -> dict:
    """Map every distinct shape on one preset in a pool of ``args.jobs`` workers; per layer a line."""
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
    with mp.Pool(args.jobs) as pool:
        done = {}
        for n, s, ev, e, mode, proven in pool.imap_unordered(_one, [(p, arch, dataflow, args.mode, args.layer_timeout) for p in todo]):
            done[n] = (s, e, mode, proven)
            print(f"  {n:28s} {s:8.2f} s  {ev:>10,d} mappings  {mode:9s} {'proven' if proven else '      '}  "
                  + (f"{e:.6g} {arch.energy_units}" if e is not None else "no mapping"), file=sys.stderr, flush=True)
        pool.close()
        pool.join()
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    energy = sum(done[shapes[p.shape_key()].name][1] or 0 for p in layers)
    return {"arch": args.arch, "dataflow": dataflow, "shapes": len(todo), "proven": sum(v[3] for v in done.values()),
            "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
            "rss_mb": max(me.ru_maxrss, kids.ru_maxrss) / 1024, "wall_s": time.perf_counter() - t0,
            "max_layer_s": max((v[0] for v in done.values()), default=0.0), "energy": energy}


def _size(name: str) -> tuple[int, int, str]:
    """Presets' rough search size, for running the small ones first: levels, then PEs."""
    arch = load_arch(name)
    return len(arch.levels), arch.pes, name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--arch", default="eyeriss", help="a preset, a comma-separated list, or 'all'")
    ap.add_argument("--dataflow", default=None, help="default: each architecture's own")
    ap.add_argument("--mode", default="auto", choices=("exact", "heuristic", "auto"))
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--layers", default=None, help="comma-separated layer names (default: all)")
    ap.add_argument("--layer-timeout", type=float, default=None, help="seconds per layer search (default: none)")
    ap.add_argument("--preset-timeout", type=float, default=None, help="seconds per preset (default: none)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # one preset, JSON on stdout
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_preset(args)))
        return
    presets = list_presets() if args.arch == "all" else args.arch.split(",")
    presets.sort(key=_size)
    rows, stopped = [], []
    print(f"{'preset':16s} {'network':10s} {'proven':>8s} {'CPU s':>8s} {'peak RSS':>9s} {'wall s':>7s} {'slowest':>8s}  energy")
    for name in presets:
        cmd = [sys.executable, __file__, "--child", "--arch", name, "--model", args.model, "--mode", args.mode,
               "--batch", str(args.batch), "--jobs", str(args.jobs)]
        for opt, val in (("--dataflow", args.dataflow), ("--layers", args.layers), ("--layer-timeout", args.layer_timeout)):
            if val is not None:
                cmd += [opt, str(val)]
        run = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = run.communicate(timeout=args.preset_timeout)
        except subprocess.TimeoutExpired:  # the whole group: the preset's process and its pool workers
            os.killpg(run.pid, signal.SIGKILL)
            out, err = run.communicate()
            sys.stderr.write(err)
            proven = sum(" proven " in line for line in err.splitlines())
            stopped.append(name)
            print(f"{name:16s} {args.model:10s} {proven:>3d} proven, stopped at the preset timeout of {args.preset_timeout:g} s wall",
                  flush=True)
            continue
        sys.stderr.write(err)
        if run.returncode != 0:
            print(f"{name:16s} failed (exit {run.returncode})")
            continue
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(r)
        print(f"{name:16s} {args.model:10s} {r['proven']:>3d} of {r['shapes']:<2d} {r['cpu_s']:8.1f} {r['rss_mb']:6.0f} MB "
              f"{r['wall_s']:7.1f} {r['max_layer_s']:7.1f}s  {r['energy']:.6g}", flush=True)
    print(f"RESULT model={args.model} mode={args.mode} jobs={args.jobs} presets={len(rows)} "
          f"proven={sum(r['proven'] for r in rows)}/{sum(r['shapes'] for r in rows)} "
          f"cpu_s={sum(r['cpu_s'] for r in rows):.1f} max_rss_mb={max((r['rss_mb'] for r in rows), default=0):.0f} "
          f"energy={sum(r['energy'] for r in rows):.6g} stopped={','.join(stopped) or 'none'}")


if __name__ == "__main__":
    main()
